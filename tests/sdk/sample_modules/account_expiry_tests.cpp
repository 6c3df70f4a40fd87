// samples/account_expiry through the loader: patterns expire accounts, renewals and the admin
// API move the expiration, exempt users never expire.
#include "sample_host.hpp"

#include <chrono>

using namespace sample_tests;

namespace {

const json config = {{"expired_patterns", {"^@guest-"}}, {"exempt_users", {"@guest-admin:localhost"}},
                     {"renewal_period_days", 7}};

json expiry(SampleHost &host, const char *user) {
   return host.dispatch(MODKIT_ACCOUNT_VALIDITY_ID, "is_user_expired", {{"user_id", user}});
}

int64_t now_ms() {
   return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

TEST_CASE("account_expiry expires matching accounts until they are renewed") {
   SampleHost host(json::array({{{"module", "account_expiry"}, {"config", config}}}));
   const char *av = MODKIT_ACCOUNT_VALIDITY_ID;

   CHECK(expiry(host, "@guest-1:localhost")["answer"]["result"] == MODKIT_EXPIRY_EXPIRED);
   CHECK(host.logged("[account_expiry] @guest-1:localhost is expired"));
   CHECK(expiry(host, "@guest-admin:localhost")["answer"]["result"] == MODKIT_EXPIRY_NOT_EXPIRED);
   CHECK(expiry(host, "@alice:localhost")["outcome"] == "no_opinion");

   host.dispatch(av, "on_user_registration", {{"user_id", "@guest-2:localhost"}});
   CHECK(host.logged("new account @guest-2:localhost, which will expire unless renewed"));
   host.dispatch(av, "on_user_login",
                 {{"user_id", "@alice:localhost"}, {"auth_provider_type", "m.login.password"}, {"auth_provider_id", nullptr}});
   CHECK(host.logged("@alice:localhost logged in (m.login.password)"));

   SUBCASE("a renewal token works once") {
      REQUIRE(host.dispatch(av, "on_legacy_send_mail", {{"user_id", "@guest-1:localhost"}})["returned"] == "ok");
      // The token is in the log line, where a real module would have emailed a link.
      const std::string token = host.logged_after("renewal email for @guest-1:localhost: token ");
      REQUIRE(token.size() == 24);

      const int64_t before = now_ms();
      json renewed = host.answer(av, "on_legacy_renew", {{"renewal_token", token}});
      CHECK(renewed["token_valid"] == true);
      CHECK(renewed["token_stale"] == false);
      const int64_t expiration = renewed["expiration_ts"].get<int64_t>();
      CHECK(expiration >= before + 7 * 86400000LL);
      CHECK(expiry(host, "@guest-1:localhost")["answer"]["result"] == MODKIT_EXPIRY_NOT_EXPIRED);

      json again = host.answer(av, "on_legacy_renew", {{"renewal_token", token}});
      CHECK(again["token_stale"] == true);
      CHECK(again["expiration_ts"] == expiration);
      json unknown = host.dispatch(av, "on_legacy_renew", {{"renewal_token", "nope"}});
      CHECK(unknown["answers"][0]["outputs"]["token_valid"] == false);
   }
   SUBCASE("the admin API sets an expiration, past ones included") {
      const json request = {{"method", "POST"},
                            {"path", "/_synapse/admin/v1/account_validity/validity"},
                            {"body", json{{"user_id", "@alice:localhost"}, {"expiration_ts", 1000}}.dump()}};
      json set = host.answer(av, "on_legacy_admin_request", {{"request", request}});
      CHECK(set["expiration_ts"] == 1000);
      CHECK(expiry(host, "@alice:localhost")["answer"]["result"] == MODKIT_EXPIRY_EXPIRED);
      CHECK(host.logged("an admin set the expiration of @alice:localhost to 1000"));

      json bad = host.dispatch(av, "on_legacy_admin_request",
                                     {{"request", {{"method", "POST"}, {"body", "{\"expiration_ts\": 5}"}}}});
      CHECK(bad["outcome"] == "error");
      CHECK(host.logged("the request body needs a string user_id"));
   }
}

TEST_CASE("account_expiry refuses a pattern that is not a regular expression") {
   const std::string errors = load_errors(
      json::array({{{"module", "account_expiry"}, {"config", {{"expired_patterns", {"^ok", "(unclosed"}}}}}}));
   CHECK(errors.find("/modules/0/config/expired_patterns/1") != std::string::npos);
   CHECK(errors.find("not a regular expression") != std::string::npos);
}
