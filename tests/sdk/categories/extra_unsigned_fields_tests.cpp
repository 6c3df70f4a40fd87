// The extra unsigned fields traits: an object written as JSON, nothing for null or {}, and
// anything else refused.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace category_tests;
using nlohmann::json;

TEST_CASE("add_field_to_unsigned writes its object, and nothing for null or {}") {
   Harness h;
   modkit::ExtraUnsignedFieldsCallbacks cb;
   cb.add_field_to_unsigned = [](const modkit::Event &event) -> json {
      if (event.type() == "m.room.message") return {{"org.example.audited", true}, {"by", event.sender()}};
      if (event.type() == "m.room.topic") return json::object();
      if (event.type() == "m.room.name") return nullptr;
      return json::array({1});
   };
   h.api->register_extra_unsigned_fields_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_extra_unsigned_fields_callbacks>(MODKIT_EXTRA_UNSIGNED_FIELDS_ID);
   void *ud = h.user_data(MODKIT_EXTRA_UNSIGNED_FIELDS_ID);

   modkit_event event{};
   event.struct_size = sizeof event;
   event.sender = str("@ann:x");
   event.type = str("m.room.message");
   modkit_buffer fields;
   CHECK(c.add_field_to_unsigned(ud, &h.call, &event, &fields) == MODKIT_OK);
   CHECK(json::parse(fields.data) == json{{"org.example.audited", true}, {"by", "@ann:x"}});

   for (const char *type : {"m.room.topic", "m.room.name"}) {
      event.type = str(type);
      modkit_buffer none;
      CHECK(c.add_field_to_unsigned(ud, &h.call, &event, &none) == MODKIT_OK);
      CHECK(none.data.empty());
   }

   event.type = str("m.other");
   modkit_buffer wrong;
   CHECK(c.add_field_to_unsigned(ud, &h.call, &event, &wrong) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(h.logged_error("add_field_to_unsigned failed (invalid_argument): add_field_to_unsigned must answer a "
                        "JSON object, not array"));
   CHECK(wrong.data.empty());
   CHECK(c.add_field_to_unsigned(ud, &h.call, nullptr, &wrong) == MODKIT_E_INVALID_ARGUMENT);
}

TEST_CASE("extra unsigned fields: an unset callback stays null, a failing one is an error status") {
   Harness h;
   h.api->register_extra_unsigned_fields_callbacks({});
   CHECK_FALSE(is_set(h.callbacks<modkit_extra_unsigned_fields_callbacks>(MODKIT_EXTRA_UNSIGNED_FIELDS_ID)
                         .add_field_to_unsigned));

   Harness h2;
   modkit::ExtraUnsignedFieldsCallbacks cb;
   cb.add_field_to_unsigned = [](const modkit::Event &) -> json { throw std::runtime_error("clock skew"); };
   h2.api->register_extra_unsigned_fields_callbacks(std::move(cb));
   const auto c = h2.callbacks<modkit_extra_unsigned_fields_callbacks>(MODKIT_EXTRA_UNSIGNED_FIELDS_ID);
   modkit_event event{};
   event.struct_size = sizeof event;
   modkit_buffer fields;
   CHECK(c.add_field_to_unsigned(h2.user_data(MODKIT_EXTRA_UNSIGNED_FIELDS_ID), &h2.call, &event, &fields) ==
         MODKIT_E_INTERNAL);
   CHECK(h2.logged_error("add_field_to_unsigned failed (internal): clock skew"));
}
