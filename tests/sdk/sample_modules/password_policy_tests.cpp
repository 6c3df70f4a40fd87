// samples/password_policy through the loader: the token login type, email logins, names from
// emails and blocked domains as a password auth provider; its spam checker rules; and only the
// spam checker when the config asks for no more.
#include "sample_host.hpp"

using namespace sample_tests;

namespace {

const json config = {{"reserved", {"admin"}},
                     {"login_tokens", {{"@alice:localhost", "open-sesame"}}},
                     {"emails", {{"Alice@Example.org", "@alice:localhost"}}},
                     {"blocked_email_domains", {"Spam.Example"}},
                     {"names_from_email", true}};

json registration_uia(const char *email) {
   return {{"m.login.email.identity", {{"medium", "email"}, {"address", email}, {"validated_at", 1}}}};
}

} // namespace

TEST_CASE("password_policy offers a token login type and checks it") {
   SampleHost host(json::array({{{"module", "password_policy"}, {"config", config}}}));
   const char *pap = MODKIT_PASSWORD_AUTH_PROVIDER_ID;

   json registered = host.describe()["modules"][0]["registrations"];
   CHECK(registered[MODKIT_SPAM_CHECKER_ID] == json{"check_registration_for_spam", "check_login_for_spam"});
   CHECK(registered[pap] == json{"get_supported_login_types", "auth_checkers", "check_3pid_auth", "on_login_response",
                                 "on_logged_out", "get_username_for_registration",
                                 "get_displayname_for_registration", "is_3pid_allowed"});

   json types = host.dispatch(pap, "get_supported_login_types", json::object());
   INFO(types.dump());
   CHECK(json::parse(types["answers"][0]["outputs"]["login_types"].get<std::string>()) ==
         json{{"org.example.token", {"token"}}});

   for (const char *user : {"alice", "@alice:localhost"}) {
      json login = host.dispatch(pap, "auth_checkers",
                                       {{"username", user}, {"login_type", "org.example.token"},
                                        {"login_dict", {{"token", "open-sesame"}}}});
      INFO(login.dump());
      CHECK(login["outcome"] == "decided");
      CHECK(login["answer"]["result"] == MODKIT_AUTH_AUTHENTICATED);
      CHECK(login["answer"]["user_id"] == "@alice:localhost");
   }
   CHECK(host.logged("[password_policy] token login of @alice:localhost accepted"));

   json wrong = host.dispatch(pap, "auth_checkers",
                                    {{"username", "alice"}, {"login_type", "org.example.token"},
                                     {"login_dict", {{"token", "open-sesamE"}}}});
   CHECK(wrong["outcome"] == "no_opinion");
   CHECK(host.logged("token login of @alice:localhost refused: wrong token"));
   CHECK(host.dispatch(pap, "auth_checkers",
                       {{"username", "bob"}, {"login_type", "org.example.token"}, {"login_dict", {{"token", "x"}}}})
            ["outcome"] == "no_opinion");

   host.dispatch(pap, "on_login_response", {{"login_response", {{"user_id", "@alice:localhost"}, {"device_id", "D1"}}}});
   host.dispatch(pap, "on_logged_out", {{"user_id", "@alice:localhost"}, {"device_id", "D1"}, {"access_token", "t"}});
   CHECK(host.logged("@alice:localhost logged in with a token on device D1"));
   CHECK(host.logged("@alice:localhost logged out of device D1"));
}

TEST_CASE("password_policy: email logins, blocked domains and names from emails") {
   SampleHost host(json::array({{{"module", "password_policy"}, {"config", config}}}));
   const char *pap = MODKIT_PASSWORD_AUTH_PROVIDER_ID;

   json email = host.answer(pap, "check_3pid_auth",
                                  {{"medium", "email"}, {"address", "alice@example.org"}, {"password", "open-sesame"}});
   CHECK(email["user_id"] == "@alice:localhost");
   CHECK(host.dispatch(pap, "check_3pid_auth",
                       {{"medium", "email"}, {"address", "alice@example.org"}, {"password", "guess"}})["outcome"] ==
         "no_opinion");

   json blocked = host.dispatch(pap, "is_3pid_allowed",
                                      {{"medium", "email"}, {"address", "eve@spam.example"}, {"registration", true}});
   CHECK(blocked["outcome"] == "decided");
   CHECK(blocked["answer"]["allowed"] == false);
   CHECK(host.logged("refused email eve@spam.example at registration: domain spam.example is blocked"));
   CHECK(host.dispatch(pap, "is_3pid_allowed",
                       {{"medium", "email"}, {"address", "bob@example.org"}, {"registration", true}})["outcome"] ==
         "no_opinion");

   json name = host.answer(pap, "get_username_for_registration",
                                 {{"uia_results", registration_uia("Alice.Smith+chat@example.org")}, {"params", json::object()}});
   CHECK(name["found"] == true);
   CHECK(name["username"] == "alice.smithchat");
   json display = host.answer(pap, "get_displayname_for_registration",
                                    {{"uia_results", registration_uia("Alice.Smith@example.org")}, {"params", json::object()}});
   CHECK(display["display_name"] == "Alice.Smith");
   CHECK(host.dispatch(pap, "get_username_for_registration", {{"uia_results", json::object()}, {"params", json::object()}})
            ["outcome"] == "no_opinion");

   json reserved = host.answer(MODKIT_SPAM_CHECKER_ID, "check_registration_for_spam",
                                     {{"email_threepid", nullptr}, {"username", "admin"}, {"request_info", json::array()},
                                      {"auth_provider_id", nullptr}});
   CHECK(reserved["behaviour"] == MODKIT_REGISTRATION_DENY);
}

TEST_CASE("password_policy registers only its spam checker when no auth feature is configured") {
   SampleHost host(json::array(
      {{{"module", "password_policy"}, {"config", {{"min_length", 3}, {"login_providers", {"password", "oidc"}}}}}}));
   json registered = host.describe()["modules"][0]["registrations"];
   CHECK(registered.size() == 1);
   CHECK(registered.contains(MODKIT_SPAM_CHECKER_ID));
}

TEST_CASE("password_policy refuses email logins without a token and tokens for non-users") {
   const std::string no_token = load_errors(json::array(
      {{{"module", "password_policy"}, {"config", {{"emails", {{"bob@example.org", "@bob:localhost"}}}}}}}));
   CHECK(no_token.find("/modules/0/config/emails/bob@example.org") != std::string::npos);
   CHECK(no_token.find("\"@bob:localhost\" has no login token") != std::string::npos);
   const std::string not_user = load_errors(
      json::array({{{"module", "password_policy"}, {"config", {{"login_tokens", {{"alice", "t"}}}}}}}));
   CHECK(not_user.find("/modules/0/config/login_tokens/alice") != std::string::npos);
}
