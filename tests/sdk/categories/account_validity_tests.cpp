// The account validity traits: the expiry tri-state, the notifications and the three legacy
// hooks as the C ABI expects them.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace category_tests;

TEST_CASE("every account validity slot reaches its callback with converted arguments") {
   Harness h;
   std::string log;
   auto note = [&](const std::string &s) { log += s + ";"; };

   modkit::AccountValidityCallbacks cb;
   cb.is_user_expired = [](std::string_view user) -> std::optional<bool> {
      if (user == "@old:x") return true;
      if (user == "@staff:x") return false;
      return std::nullopt;
   };
   cb.on_user_registration = [&](std::string_view user) { note("registered " + std::string(user)); };
   cb.on_user_login = [&](std::string_view user, std::optional<std::string_view> type,
                          std::optional<std::string_view> provider) {
      note("login " + std::string(user) + "," + std::string(type.value_or("-")) + "," +
           std::string(provider.value_or("-")));
   };
   cb.on_legacy_send_mail = [&](modkit::Call &call, std::string_view user) {
      note("mail " + std::string(user) + " in " + std::string(call.request_id()));
   };
   cb.on_legacy_renew = [](std::string_view token) {
      modkit::LegacyRenewal renewal;
      renewal.token_valid = token != "bogus";
      renewal.token_stale = token == "used";
      renewal.expiration_ts = renewal.token_valid ? 1700000000000 : 0;
      return renewal;
   };
   cb.on_legacy_admin_request = [&](const modkit::Request &request) {
      const nlohmann::json body = nlohmann::json::parse(request.body());
      note("admin " + std::string(request.method()) + " " + body.at("user_id").get<std::string>());
      return body.value("expiration_ts", int64_t{99});
   };
   h.api->register_account_validity_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_account_validity_callbacks>(MODKIT_ACCOUNT_VALIDITY_ID);
   void *ud = h.user_data(MODKIT_ACCOUNT_VALIDITY_ID);

   modkit_expiry_result expiry = -1;
   CHECK(c.is_user_expired(ud, &h.call, str("@old:x"), &expiry) == MODKIT_OK);
   CHECK(expiry == MODKIT_EXPIRY_EXPIRED);
   CHECK(c.is_user_expired(ud, &h.call, str("@staff:x"), &expiry) == MODKIT_OK);
   CHECK(expiry == MODKIT_EXPIRY_NOT_EXPIRED);
   CHECK(c.is_user_expired(ud, &h.call, str("@new:x"), &expiry) == MODKIT_OK);
   CHECK(expiry == MODKIT_EXPIRY_NO_OPINION);

   CHECK(c.on_user_registration(ud, &h.call, str("@new:x")) == MODKIT_OK);
   CHECK(c.on_user_login(ud, &h.call, str("@new:x"), str("m.login.password"), absent()) == MODKIT_OK);
   CHECK(c.on_legacy_send_mail(ud, &h.call, str("@old:x")) == MODKIT_OK);

   bool valid = false, stale = true;
   int64_t expiration = -1;
   CHECK(c.on_legacy_renew(ud, &h.call, str("fresh"), &valid, &stale, &expiration) == MODKIT_OK);
   CHECK(valid);
   CHECK_FALSE(stale);
   CHECK(expiration == 1700000000000);
   CHECK(c.on_legacy_renew(ud, &h.call, str("used"), &valid, &stale, &expiration) == MODKIT_OK);
   CHECK(stale);
   CHECK(c.on_legacy_renew(ud, &h.call, str("bogus"), &valid, &stale, &expiration) == MODKIT_OK);
   CHECK_FALSE(valid);
   CHECK(expiration == 0);

   const std::string body = R"({"user_id": "@old:x", "expiration_ts": 1234})";
   modkit_http_request request{};
   request.struct_size = sizeof request;
   request.method = str("POST");
   request.path = str("/_synapse/admin/v1/account_validity/validity");
   request.body = str(body);
   int64_t new_expiration = 0;
   CHECK(c.on_legacy_admin_request(ud, &h.call, &request, &new_expiration) == MODKIT_OK);
   CHECK(new_expiration == 1234);

   CHECK(log == "registered @new:x;login @new:x,m.login.password,-;mail @old:x in req-1;admin POST @old:x;");
}

TEST_CASE("account validity callbacks left unset stay null") {
   Harness h;
   modkit::AccountValidityCallbacks cb;
   cb.is_user_expired = [](std::string_view) { return std::optional<bool>(); };
   h.api->register_account_validity_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_account_validity_callbacks>(MODKIT_ACCOUNT_VALIDITY_ID);
   CHECK(is_set(c.is_user_expired));
   CHECK_FALSE(is_set(c.on_user_registration));
   CHECK_FALSE(is_set(c.on_user_login));
   CHECK_FALSE(is_set(c.on_legacy_send_mail));
   CHECK_FALSE(is_set(c.on_legacy_renew));
   CHECK_FALSE(is_set(c.on_legacy_admin_request));
}

TEST_CASE("a failing account validity callback is an error status and writes nothing") {
   Harness h;
   modkit::AccountValidityCallbacks cb;
   cb.is_user_expired = [](std::string_view) -> std::optional<bool> { throw std::runtime_error("ldap down"); };
   cb.on_user_registration = [](std::string_view) { throw modkit::Error(MODKIT_E_DENIED, "quota reached"); };
   cb.on_legacy_renew = [](std::string_view) -> modkit::LegacyRenewal { throw std::bad_alloc(); };
   cb.on_legacy_admin_request = [](const modkit::Request &request) {
      return nlohmann::json::parse(request.body()).at("expiration_ts").get<int64_t>();
   };
   h.api->register_account_validity_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_account_validity_callbacks>(MODKIT_ACCOUNT_VALIDITY_ID);
   void *ud = h.user_data(MODKIT_ACCOUNT_VALIDITY_ID);

   modkit_expiry_result expiry = -1;
   CHECK(c.is_user_expired(ud, &h.call, str("@a:x"), &expiry) == MODKIT_E_INTERNAL);
   CHECK(expiry == -1);
   CHECK(h.logged_error("is_user_expired failed (internal): ldap down"));
   CHECK(c.is_user_expired(ud, &h.call, str("@a:x"), nullptr) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(c.on_user_registration(ud, &h.call, str("@a:x")) == MODKIT_E_DENIED);
   CHECK(h.logged_error("on_user_registration failed (denied): quota reached"));

   bool valid = false, stale = false;
   int64_t expiration = -1;
   CHECK(c.on_legacy_renew(ud, &h.call, str("t"), &valid, &stale, &expiration) == MODKIT_E_NO_MEMORY);
   CHECK(expiration == -1);

   const std::string body = "{}";
   modkit_http_request request{};
   request.struct_size = sizeof request;
   request.body = str(body);
   int64_t admin_expiration = -1;
   CHECK(c.on_legacy_admin_request(ud, &h.call, &request, &admin_expiration) == MODKIT_E_INTERNAL);
   CHECK(admin_expiration == -1);
   CHECK(c.on_legacy_admin_request(ud, &h.call, nullptr, &admin_expiration) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(h.logged_error("on_legacy_admin_request failed (invalid_argument): the host passed a null object"));
}
