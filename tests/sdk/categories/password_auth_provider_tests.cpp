// The password auth provider traits: login types declared as data and answered through
// get_supported_login_types, logins routed to the checker of their type, the other slots'
// answers as the C ABI expects them, and the declarations the SDK refuses.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace category_tests;
using nlohmann::json;

namespace {

struct Directory {
   std::string log;
   std::optional<std::string> check_password(std::string_view user, std::string_view type, const json &dict) {
      log += std::string(type) + ":" + std::string(user) + ";";
      if (dict.value("password", "") == "hunter2") return "@" + std::string(user) + ":x";
      return std::nullopt;
   }
};

} // namespace

TEST_CASE("declared login types are answered and logins reach the checker of their type") {
   Harness h;
   Directory directory;
   modkit::PasswordAuthProviderCallbacks cb;
   cb.auth_checkers = {{"m.login.password", {"password"}}, {&directory, &Directory::check_password}};
   cb.auth_checkers.add({"org.example.token", {"token", "otp"}},
                        [](modkit::Call &call, std::string_view user, std::string_view, const json &dict)
                           -> std::optional<std::string> {
                           if (dict.at("token") == "t0k" && dict.at("otp") == "123")
                              return "@" + std::string(user) + ":x/" + std::string(call.request_id());
                           return std::nullopt;
                        });
   h.api->register_password_auth_provider_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_password_auth_provider_callbacks>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   void *ud = h.user_data(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   REQUIRE(is_set(c.get_supported_login_types));
   REQUIRE(is_set(c.auth_checkers));

   modkit_buffer types;
   CHECK(c.get_supported_login_types(ud, &h.call, &types) == MODKIT_OK);
   CHECK(json::parse(types.data) ==
         json{{"m.login.password", {"password"}}, {"org.example.token", {"token", "otp"}}});

   modkit_auth_result result = -1;
   modkit_buffer user_id;
   CHECK(c.auth_checkers(ud, &h.call, str("ann"), str("m.login.password"), str(R"({"password":"hunter2"})"),
                         &result, &user_id) == MODKIT_OK);
   CHECK(result == MODKIT_AUTH_AUTHENTICATED);
   CHECK(user_id.data == "@ann:x");

   modkit_buffer refused;
   CHECK(c.auth_checkers(ud, &h.call, str("ann"), str("m.login.password"), str(R"({"password":"guess"})"),
                         &result, &refused) == MODKIT_OK);
   CHECK(result == MODKIT_AUTH_NO_OPINION);
   CHECK(refused.data.empty());

   modkit_buffer token_user;
   CHECK(c.auth_checkers(ud, &h.call, str("bob"), str("org.example.token"), str(R"({"token":"t0k","otp":"123"})"),
                         &result, &token_user) == MODKIT_OK);
   CHECK(result == MODKIT_AUTH_AUTHENTICATED);
   CHECK(token_user.data == "@bob:x/req-1");
   CHECK(directory.log == "m.login.password:ann;m.login.password:ann;"); // the token login went elsewhere

   SUBCASE("a login type the module did not declare is the host's mistake") {
      modkit_buffer unknown;
      result = -1;
      CHECK(c.auth_checkers(ud, &h.call, str("ann"), str("m.login.sso"), str("{}"), &result, &unknown) ==
            MODKIT_E_INVALID_ARGUMENT);
      CHECK(result == -1);
      CHECK(h.logged_error("auth_checkers failed (invalid_argument): the host asked about login type "
                           "\"m.login.sso\", which this module did not declare"));
   }
   SUBCASE("a user ID the host cannot store leaves the login unauthenticated") {
      modkit_buffer full;
      full.full = true;
      result = -1;
      CHECK(c.auth_checkers(ud, &h.call, str("ann"), str("m.login.password"), str(R"({"password":"hunter2"})"),
                            &result, &full) == MODKIT_E_NO_MEMORY);
      CHECK(result == -1);
   }
}

TEST_CASE("the other password auth provider slots write their answers") {
   Harness h;
   std::string log;
   modkit::PasswordAuthProviderCallbacks cb;
   cb.check_3pid_auth = [](std::string_view medium, std::string_view address,
                           std::string_view password) -> std::optional<std::string> {
      if (medium == "email" && address == "ann@example.org" && password == "pw") return "@ann:x";
      return std::nullopt;
   };
   cb.on_login_response = [&](const json &response) { log += "response " + response.at("user_id").get<std::string>() + ";"; };
   cb.on_logged_out = [&](std::string_view user, std::optional<std::string_view> device, std::string_view token) {
      log += "out " + std::string(user) + "," + std::string(device.value_or("-")) + "," + std::string(token) + ";";
   };
   cb.get_username_for_registration = [](const json &uia, const json &params) -> std::optional<std::string> {
      if (uia.contains("m.login.email.identity")) return "from-email";
      if (params.contains("username")) return std::nullopt;
      return "generated";
   };
   cb.get_displayname_for_registration = [](const json &, const json &params) -> std::optional<std::string> {
      if (params.contains("display")) return params["display"].get<std::string>();
      return std::nullopt;
   };
   cb.is_3pid_allowed = [](std::string_view medium, std::string_view address, bool registration) {
      return !(medium == "email" && registration && address.find("@spam.example") != std::string_view::npos);
   };
   h.api->register_password_auth_provider_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_password_auth_provider_callbacks>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   void *ud = h.user_data(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   CHECK_FALSE(is_set(c.get_supported_login_types)); // no auth_checkers declared: neither slot
   CHECK_FALSE(is_set(c.auth_checkers));

   modkit_auth_result result = -1;
   modkit_buffer user_id;
   CHECK(c.check_3pid_auth(ud, &h.call, str("email"), str("ann@example.org"), str("pw"), &result, &user_id) ==
         MODKIT_OK);
   CHECK(result == MODKIT_AUTH_AUTHENTICATED);
   CHECK(user_id.data == "@ann:x");
   modkit_buffer nobody;
   CHECK(c.check_3pid_auth(ud, &h.call, str("msisdn"), str("123"), str("pw"), &result, &nobody) == MODKIT_OK);
   CHECK(result == MODKIT_AUTH_NO_OPINION);
   CHECK(nobody.data.empty());

   CHECK(c.on_login_response(ud, &h.call, str(R"({"user_id":"@ann:x","access_token":"t"})")) == MODKIT_OK);
   CHECK(c.on_logged_out(ud, &h.call, str("@ann:x"), absent(), str("tok")) == MODKIT_OK);
   CHECK(c.on_logged_out(ud, &h.call, str("@ann:x"), str("DEV"), str("tok2")) == MODKIT_OK);
   CHECK(log == "response @ann:x;out @ann:x,-,tok;out @ann:x,DEV,tok2;");

   bool found = false;
   modkit_buffer name;
   CHECK(c.get_username_for_registration(ud, &h.call, str(R"({"m.login.email.identity":{}})"), str("{}"), &found,
                                         &name) == MODKIT_OK);
   CHECK(found);
   CHECK(name.data == "from-email");
   modkit_buffer left;
   CHECK(c.get_username_for_registration(ud, &h.call, str("{}"), str(R"({"username":"me"})"), &found, &left) ==
         MODKIT_OK);
   CHECK_FALSE(found);
   CHECK(left.data.empty());
   modkit_buffer display;
   CHECK(c.get_displayname_for_registration(ud, &h.call, str("{}"), str(R"({"display":"Ann A."})"), &found,
                                            &display) == MODKIT_OK);
   CHECK(found);
   CHECK(display.data == "Ann A.");

   bool allowed = true;
   CHECK(c.is_3pid_allowed(ud, &h.call, str("email"), str("x@spam.example"), true, &allowed) == MODKIT_OK);
   CHECK_FALSE(allowed);
   CHECK(c.is_3pid_allowed(ud, &h.call, str("email"), str("x@spam.example"), false, &allowed) == MODKIT_OK);
   CHECK(allowed);
}

TEST_CASE("password auth provider declarations that cannot work are refused at registration") {
   Harness h;
   auto checker = [](std::string_view, std::string_view, const json &) { return std::optional<std::string>(); };
   const std::string prefix = "harness: could not register callbacks of category modkit.password_auth_provider: ";
   auto refused = [&](modkit::PasswordAuthProviderCallbacks cb) {
      try {
         h.api->register_password_auth_provider_callbacks(std::move(cb));
      } catch (const modkit::Error &e) {
         CHECK(e.code() == MODKIT_E_INVALID_ARGUMENT);
         const std::string what = e.what();
         REQUIRE(what.rfind(prefix, 0) == 0);
         return what.substr(prefix.size());
      }
      return std::string("registered");
   };

   modkit::PasswordAuthProviderCallbacks twice;
   twice.auth_checkers = {{"m.login.password", {"password"}}, checker};
   twice.auth_checkers.add({"m.login.password", {"pass"}}, checker);
   CHECK(refused(std::move(twice)) == "auth_checkers declares login type \"m.login.password\" twice");

   modkit::PasswordAuthProviderCallbacks no_checker;
   no_checker.auth_checkers = {{"org.example.token", {"token"}}, nullptr};
   CHECK(refused(std::move(no_checker)) == "auth_checkers declares login type \"org.example.token\" without a checker");

   modkit::PasswordAuthProviderCallbacks nameless;
   nameless.auth_checkers = {{"", {"token"}}, checker};
   CHECK(refused(std::move(nameless)) == "auth_checkers declares a login type without a name");

   modkit::PasswordAuthProviderCallbacks fields;
   fields.auth_checkers = {{"org.example.token", {"token", "token"}}, checker};
   CHECK(refused(std::move(fields)) == "login type \"org.example.token\" lists field \"token\" twice");
   modkit::PasswordAuthProviderCallbacks empty_field;
   empty_field.auth_checkers = {{"org.example.token", {""}}, checker};
   CHECK(refused(std::move(empty_field)) == "login type \"org.example.token\" has a field without a name");

   modkit::PasswordAuthProviderCallbacks response_only;
   response_only.on_login_response = [](const json &) {};
   CHECK(refused(std::move(response_only)) ==
         "on_login_response runs only after this module authenticated a login, but it sets neither "
         "auth_checkers nor check_3pid_auth");
   CHECK(h.host.registrations.empty());

   modkit::PasswordAuthProviderCallbacks with_3pid;
   with_3pid.on_login_response = [](const json &) {};
   with_3pid.check_3pid_auth = [](std::string_view, std::string_view, std::string_view) {
      return std::optional<std::string>();
   };
   CHECK(refused(std::move(with_3pid)) == "registered");
}

TEST_CASE("a failing password auth provider callback is an error status and writes nothing") {
   Harness h;
   modkit::PasswordAuthProviderCallbacks cb;
   cb.auth_checkers = {{"m.login.password", {"password"}},
                       [](std::string_view, std::string_view, const json &) -> std::optional<std::string> {
                          throw std::runtime_error("directory offline");
                       }};
   cb.check_3pid_auth = [](std::string_view, std::string_view, std::string_view) {
      return std::optional<std::string>(""); // authenticated as nobody: a bug
   };
   cb.get_username_for_registration = [](const json &, const json &) -> std::optional<std::string> {
      throw modkit::Error(MODKIT_E_CONFLICT, "name taken");
   };
   cb.is_3pid_allowed = [](std::string_view, std::string_view, bool) -> bool { throw std::runtime_error("no"); };
   h.api->register_password_auth_provider_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_password_auth_provider_callbacks>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   void *ud = h.user_data(MODKIT_PASSWORD_AUTH_PROVIDER_ID);

   modkit_auth_result result = -1;
   modkit_buffer user_id;
   CHECK(c.auth_checkers(ud, &h.call, str("ann"), str("m.login.password"), str("{}"), &result, &user_id) ==
         MODKIT_E_INTERNAL);
   CHECK(h.logged_error("auth_checkers failed (internal): directory offline"));
   CHECK(c.check_3pid_auth(ud, &h.call, str("email"), str("a@x"), str("pw"), &result, &user_id) ==
         MODKIT_E_INVALID_ARGUMENT);
   CHECK(h.logged_error("an authenticated login needs the Matrix user ID"));
   CHECK(result == -1);
   CHECK(user_id.data.empty());

   bool found = false;
   modkit_buffer name;
   CHECK(c.get_username_for_registration(ud, &h.call, str("{}"), str("{}"), &found, &name) == MODKIT_E_CONFLICT);
   CHECK_FALSE(found);
   CHECK(c.get_username_for_registration(ud, &h.call, str("{"), str("{}"), &found, &name) == MODKIT_E_INVALID_ARGUMENT);

   bool allowed = true;
   CHECK(c.is_3pid_allowed(ud, &h.call, str("email"), str("a@x"), true, &allowed) == MODKIT_E_INTERNAL);
   CHECK(allowed);
}
