// rules_tests.cpp - what the chat host refuses at startup: broken modules (every error listed),
// the category rules a slot table cannot express, and login type conflicts.
#include "support.hpp"

using json = nlohmann::json;
using test::Host;
using test::probe;

TEST_CASE("a config with broken modules fails startup with every error") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a"),
                 {{"module", "no_such_module"}},
                 {{"module", "chat_b"}, {"config", {{"tag", 7}}}},
                 {{"module", "chat_c"}, {"config", {{"tag", "c"}, {"surprise", true}}}}});
   });
   REQUIRE(errors.size() >= 3);
   CHECK(test::any_contains(errors, "/modkit/modules/1"));
   CHECK(test::any_contains(errors, "no_such_module"));
   CHECK(test::any_contains(errors, "/modkit/modules/2/config/tag"));
   CHECK(test::any_contains(errors, "/modkit/modules/3/config"));
}

TEST_CASE("a module whose init fails stops startup, naming it") {
   const auto errors = test::startup_errors([] { Host host({probe("chat_a", "a", {{"fail_init", true}})}); });
   REQUIRE(errors.size() == 1);
   CHECK(test::any_contains(errors, "the probe was told to fail"));
   CHECK(test::any_contains(errors, "/modkit/modules/0"));
}

TEST_CASE("the presence router's callbacks come as a pair") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a", {{"answers", {{"get_users_for_states", json::object()}}}}),
                 probe("chat_b", "b", {{"answers", {{"get_interested_users", json::array()}}}}),
                 probe("chat_c", "c", {{"answers", {{"get_users_for_states", json::object()}, {"get_interested_users", json::array()}}}})});
   });
   REQUIRE(errors.size() == 2);
   CHECK(test::any_contains(errors, "module 'chat_a': modkit.presence_router sets get_users_for_states without get_interested_users"));
   CHECK(test::any_contains(errors, "module 'chat_b': modkit.presence_router sets get_interested_users without get_users_for_states"));
}

TEST_CASE("auth_checkers and get_supported_login_types go together") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a", {{"answers", {{"auth_checkers", nullptr}}}})});
   });
   CHECK(test::any_contains(errors, "module 'chat_a': modkit.password_auth_provider sets auth_checkers without get_supported_login_types"));
}

TEST_CASE("two modules declaring one login type with different fields refuse startup, naming both") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a", {{"answers", {{"get_supported_login_types", {{"org.example.token", {"token"}}}}, {"auth_checkers", nullptr}}}}),
                 probe("chat_b", "b", {{"answers", {{"get_supported_login_types", {{"org.example.token", {"token", "otp"}}}}, {"auth_checkers", nullptr}}}})});
   });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0] == "login type \"org.example.token\" is declared by module 'chat_a' with fields [token] and by module "
                      "'chat_b' with fields [otp, token]; two modules may share a login type only with the same fields");

   SUBCASE("the same fields share the login type; the modules are asked in config order") {
      Host host({probe("chat_a", "a", {{"answers", {{"get_supported_login_types", {{"org.example.token", {"token"}}}}, {"auth_checkers", {{"user_id", "@alice:example.org"}, {"when", {{"token", "A"}}}}}}}}),
                 probe("chat_b", "b", {{"answers", {{"get_supported_login_types", {{"org.example.token", {"token"}}}}, {"auth_checkers", {{"user_id", "@bob:example.org"}, {"when", {{"token", "B"}}}}}}}}),
                 probe("chat_c", "c", {{"answers", {{"get_supported_login_types", {{"org.other", {"x"}}}}, {"auth_checkers", {{"user_id", "@carol:example.org"}}}}}})});
      host.user("bob");
      const auto r = host.request("POST", "/_matrix/client/v3/login", {{"type", "org.example.token"}, {"token", "B"}});
      REQUIRE(r.status == 200);
      CHECK(Host::body(r)["user_id"] == "@bob:example.org");
      // Keyed: chat_c declared another login type and is never asked.
      CHECK(host.calls("auth_checkers") == std::vector<std::string>{"a:auth_checkers", "b:auth_checkers"});
   }
}

TEST_CASE("a login type's declaration must be a JSON object of field lists") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a", {{"answers", {{"get_supported_login_types", "[1]"}, {"auth_checkers", nullptr}}}})});
   });
   CHECK(test::any_contains(errors, "get_supported_login_types wrote [1], expected a JSON object"));
}

TEST_CASE("the background update controller requires on_update") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a", {{"answers", {{"default_batch_size", 5}}}})});
   });
   CHECK(test::any_contains(errors, "module 'chat_a': modkit.background_update_controller sets default_batch_size without on_update, which is required"));
}

TEST_CASE("each legacy account validity hook has one owner") {
   const auto errors = test::startup_errors([] {
      Host host({probe("chat_a", "a", {{"answers", {{"on_legacy_renew", json::object()}, {"on_legacy_send_mail", nullptr}}}}),
                 probe("chat_b", "b", {{"answers", {{"on_legacy_renew", json::object()}}}})});
   });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0] == "modkit.account_validity on_legacy_renew is set by modules 'chat_a', 'chat_b'; it may have only one owner");
}

TEST_CASE("the host config itself is checked, every problem with its pointer") {
   const json bad = {{"server_name", "bad name"}, {"listen", "nowhere"}, {"admins", {"@x:elsewhere.org"}},
                     {"max_upload_size", -1}, {"colour", "red"}, {"public_baseurl", "https://chat.example.org"},
                     {"email", {{"smtp_url", "smtp://127.0.0.1:25"}, {"from", "a@b.org"}, {"app_name", ""}}}};
   try {
      chat::parse_host_config(bad, ".");
      FAIL("expected a config error");
   } catch (const chat::ConfigError &e) {
      const auto &errors = e.errors();
      CHECK(test::any_contains(errors, "/server_name"));
      CHECK(test::any_contains(errors, "/listen: expected ADDRESS:PORT"));
      CHECK(test::any_contains(errors, "/admins/0"));
      CHECK(test::any_contains(errors, "/max_upload_size"));
      CHECK(test::any_contains(errors, "/colour: unknown setting"));
      CHECK(test::any_contains(errors, "/public_baseurl: expected an http:// or https:// URL ending in '/'"));
      CHECK(test::any_contains(errors, "/email/app_name: expected a name on one line"));
      CHECK(test::any_contains(errors, "/modkit: missing"));
   }
}

TEST_CASE("reloading a module keeps the host running and re-checks the rules") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 1}}}})});
   CHECK(host.modules().reload("chat_a").empty());
   auto ctx = test::context();
   chat::EventArg e;
   e.type = "m.room.message";
   e.content = "{}";
   CHECK(host.modules().check_event_for_spam(ctx, e).answer == MODKIT_SPAM_FORBIDDEN);
   CHECK(host.modules().reload("nope") == std::vector<std::string>{"no module named 'nope'"});
   const std::string admin = host.admin();
   const auto r = host.request("POST", "/_synapse/admin/v1/modules/chat_a/reload", json::object(), admin);
   CHECK(r.status == 200);
   CHECK(host.request("POST", "/_synapse/admin/v1/modules/nope/reload", json::object(), admin).status == 404);
   CHECK(host.app->metrics().render().find("modkit_module_reloads_total{module=\"chat_a\",result=\"ok\"} 2") != std::string::npos);
}
