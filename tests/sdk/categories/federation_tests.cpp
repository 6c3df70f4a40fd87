// The federation traits: the delivery view, an open-ended method enum, failures as statuses.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace category_tests;

TEST_CASE("on_event_delivered_over_federation sees the delivery through its view") {
   Harness h;
   std::string log;
   modkit::FederationCallbacks cb;
   cb.on_event_delivered_over_federation = [&](const modkit::FederationDelivery &delivery) {
      log += std::string(delivery.server_name()) + "," + std::to_string(delivery.events().size()) + "," +
             std::string(delivery.method_name()) + "," + (delivery.acknowledged() ? "acked" : "pulled") + "," +
             std::to_string(static_cast<int32_t>(delivery.method())) + ";";
   };
   h.api->register_federation_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_federation_callbacks>(MODKIT_FEDERATION_ID);
   void *ud = h.user_data(MODKIT_FEDERATION_ID);

   const std::string events = R"([{"event_id": "$1"}, {"event_id": "$2"}])";
   modkit_federation_delivery delivery{};
   delivery.struct_size = sizeof delivery;
   delivery.server_name = str("other.example");
   delivery.events_json = str(events);
   delivery.method = MODKIT_FEDERATION_DELIVERY_SEND;
   CHECK(c.on_event_delivered_over_federation(ud, &h.call, &delivery) == MODKIT_OK);
   delivery.method = MODKIT_FEDERATION_DELIVERY_BACKFILL;
   CHECK(c.on_event_delivered_over_federation(ud, &h.call, &delivery) == MODKIT_OK);
   delivery.method = 42; // a method a later host added
   delivery.events_json = str("not json");
   CHECK(c.on_event_delivered_over_federation(ud, &h.call, &delivery) == MODKIT_OK);
   CHECK(log == "other.example,2,/send,acked,1;other.example,2,/backfill,pulled,2;other.example,0,other,pulled,42;");

   modkit_federation_delivery state_delivery = delivery;
   state_delivery.method = MODKIT_FEDERATION_DELIVERY_STATE;
   CHECK(modkit::FederationDelivery(&state_delivery).method() == modkit::FederationDeliveryMethod::state);
}

TEST_CASE("federation: an unset callback stays null, a failing one is an error status") {
   Harness h;
   h.api->register_federation_callbacks({});
   CHECK_FALSE(is_set(h.callbacks<modkit_federation_callbacks>(MODKIT_FEDERATION_ID).on_event_delivered_over_federation));

   Harness h2;
   modkit::FederationCallbacks cb;
   cb.on_event_delivered_over_federation = [](const modkit::FederationDelivery &) {
      throw std::runtime_error("audit sink closed");
   };
   h2.api->register_federation_callbacks(std::move(cb));
   const auto c = h2.callbacks<modkit_federation_callbacks>(MODKIT_FEDERATION_ID);
   modkit_federation_delivery delivery{};
   delivery.struct_size = sizeof delivery;
   CHECK(c.on_event_delivered_over_federation(h2.user_data(MODKIT_FEDERATION_ID), &h2.call, &delivery) ==
         MODKIT_E_INTERNAL);
   CHECK(h2.logged_error("on_event_delivered_over_federation failed (internal): audit sink closed"));
   CHECK(c.on_event_delivered_over_federation(h2.user_data(MODKIT_FEDERATION_ID), &h2.call, nullptr) ==
         MODKIT_E_INVALID_ARGUMENT);
}
