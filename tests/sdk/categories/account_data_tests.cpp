// The account data traits: the notification's arguments converted, failures as statuses.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace category_tests;

TEST_CASE("on_account_data_updated receives global and per-room account data") {
   Harness h;
   std::string log;
   modkit::AccountDataCallbacks cb;
   cb.on_account_data_updated = [&](std::string_view user, std::optional<std::string_view> room,
                                    std::string_view type, const nlohmann::json &content) {
      log += std::string(user) + "," + std::string(room.value_or("global")) + "," + std::string(type) + "," +
             (content.empty() ? "deleted" : content.dump()) + ";";
   };
   h.api->register_account_data_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_account_data_callbacks>(MODKIT_ACCOUNT_DATA_ID);
   void *ud = h.user_data(MODKIT_ACCOUNT_DATA_ID);

   CHECK(c.on_account_data_updated(ud, &h.call, str("@ann:x"), absent(), str("m.direct"), str(R"({"@b:x":["!r"]})")) ==
         MODKIT_OK);
   CHECK(c.on_account_data_updated(ud, &h.call, str("@ann:x"), str("!r:x"), str("org.example.pin"), str("{}")) ==
         MODKIT_OK);
   CHECK(log == "@ann:x,global,m.direct,{\"@b:x\":[\"!r\"]};@ann:x,!r:x,org.example.pin,deleted;");
}

TEST_CASE("an account data category without its callback registers a null slot") {
   Harness h;
   h.api->register_account_data_callbacks({});
   const auto c = h.callbacks<modkit_account_data_callbacks>(MODKIT_ACCOUNT_DATA_ID);
   CHECK_FALSE(is_set(c.on_account_data_updated));
}

TEST_CASE("a failing account data callback is an error status") {
   Harness h;
   modkit::AccountDataCallbacks cb;
   cb.on_account_data_updated = [](std::string_view, std::optional<std::string_view>, std::string_view,
                                   const nlohmann::json &) { throw std::runtime_error("audit log full"); };
   h.api->register_account_data_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_account_data_callbacks>(MODKIT_ACCOUNT_DATA_ID);
   void *ud = h.user_data(MODKIT_ACCOUNT_DATA_ID);
   CHECK(c.on_account_data_updated(ud, &h.call, str("@a:x"), absent(), str("t"), str("{}")) == MODKIT_E_INTERNAL);
   CHECK(h.logged_error("on_account_data_updated failed (internal): audit log full"));
   CHECK(c.on_account_data_updated(ud, &h.call, str("@a:x"), absent(), str("t"), str("not json")) ==
         MODKIT_E_INVALID_ARGUMENT);
}
