// The sample modules, driven through their descriptors with the fake host.
#include "fake_host.hpp"
#include "module_library.hpp"

#include <modkit/categories/spam_checker.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using nlohmann::json;

namespace {


struct MessageEvent {
   std::string content;
   modkit_event event{};
   MessageEvent(const char *type, const std::string &body) : content(json{{"body", body}}.dump()) {
      event.struct_size = sizeof event;
      event.type = modkit_str_from_cstr(type);
      event.content_json = str(content);
   }
};

} // namespace

TEST_CASE("spam_filter normalises its config and reports errors at a JSON pointer") {
   ModuleLibrary library(MODKIT_SAMPLE_SPAM_FILTER);
   const modkit_module *module = library.descriptor();
   REQUIRE(module != nullptr);
   FakeHost host;

   SUBCASE("the schema is published") {
      REQUIRE(module->config_schema != nullptr);
      const json schema = json::parse(module->config_schema);
      CHECK(schema["type"] == "object");
      CHECK(schema["required"] == json::array({"blocked_words"}));
   }
   SUBCASE("a duration becomes milliseconds") {
      const ParseResult r = parse_config(module, host, R"({"blocked_words": ["Casino"], "ttl": "5m"})");
      REQUIRE(r.status == MODKIT_OK);
      CHECK(json::parse(r.output) == json{{"blocked_words", {"casino"}}, {"ttl_ms", 300000}, {"max_cached", 1000}});
   }
   SUBCASE("an unknown unit is refused at /ttl") {
      const ParseResult r = parse_config(module, host, R"({"blocked_words": [], "ttl": "5w"})");
      CHECK(r.status == MODKIT_E_CONFIG);
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].pointer == "/ttl");
      CHECK(r.errors[0].message == "unknown duration unit \"w\" (use ms, s, m, h or d)");
   }
   SUBCASE("a blocked word with a space is refused at its index") {
      const ParseResult r = parse_config(module, host, R"({"blocked_words": ["ok", "not ok"]})");
      CHECK(r.status == MODKIT_E_CONFIG);
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].pointer == "/blocked_words/1");
   }
   SUBCASE("a missing key is a config error") {
      const ParseResult r = parse_config(module, host, "{}");
      CHECK(r.status == MODKIT_E_CONFIG);
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].message.find("blocked_words") != std::string::npos);
   }
}

TEST_CASE("spam_filter refuses blocked words and caches its verdicts") {
   ModuleLibrary library(MODKIT_SAMPLE_SPAM_FILTER);
   const modkit_module *module = library.descriptor();
   FakeHost host;
   host.module_name = "spam_filter";
   const ParseResult parsed = parse_config(module, host, R"({"blocked_words": ["casino", "pills"]})");
   REQUIRE(parsed.status == MODKIT_OK);
   ModuleInstance instance(module, host, parsed.output);
   REQUIRE(instance.status() == MODKIT_OK);
   CHECK(host.logged(MODKIT_LOG_INFO, "loaded 2 blocked words"));

   const Registration *r = host.find_registration(MODKIT_SPAM_CHECKER_ID);
   REQUIRE(r != nullptr);
   const auto c = r->as<modkit_spam_checker_callbacks>();
   CHECK(is_set(c.check_event_for_spam));
   CHECK(is_set(c.user_may_create_room_alias));
   CHECK(is_set(c.check_username_for_spam));
   CHECK_FALSE(is_set(c.user_may_invite));
   CHECK_FALSE(is_set(c.check_login_for_spam));
   modkit_call call;
   modkit_spam_result result = -1;

   SUBCASE("messages") {
      MessageEvent spam("m.room.message", "Cheap PILLS here");
      CHECK(c.check_event_for_spam(r->user_data, &call, &spam.event, &result) == MODKIT_OK);
      CHECK(result == MODKIT_SPAM_FORBIDDEN);
      MessageEvent fine("m.room.message", "hello");
      CHECK(c.check_event_for_spam(r->user_data, &call, &fine.event, &result) == MODKIT_OK);
      CHECK(result == MODKIT_NOT_SPAM);
      MessageEvent other_type("m.reaction", "pills");
      CHECK(c.check_event_for_spam(r->user_data, &call, &other_type.event, &result) == MODKIT_OK);
      CHECK(result == MODKIT_NOT_SPAM);
   }
   SUBCASE("aliases and display names") {
      CHECK(c.user_may_create_room_alias(r->user_data, &call, str("@u:x"), str("#casino:x"), &result) == MODKIT_OK);
      CHECK(result == MODKIT_SPAM_FORBIDDEN);
      modkit_user_profile profile{};
      profile.struct_size = sizeof profile;
      profile.user_id = str("@u:x");
      bool hide = false;
      CHECK(c.check_username_for_spam(r->user_data, &call, &profile, str("@q:x"), &hide) == MODKIT_OK);
      CHECK_FALSE(hide);
      profile.display_name = str("Casino Bob");
      CHECK(c.check_username_for_spam(r->user_data, &call, &profile, str("@q:x"), &hide) == MODKIT_OK);
      CHECK(hide);
   }
   SUBCASE("its cache is known to the host and takes JSON keys") {
      REQUIRE(host.caches.size() == 1);
      CHECK(host.caches[0].name == "contains_blocked_word");
      const modkit_str key = MODKIT_STR_LIT("[\"Cheap PILLS here\"]");
      CHECK(host.api()->invalidate_cache(host.host(), "spam_filter", "contains_blocked_word", &key) == MODKIT_OK);
      const modkit_str bad = MODKIT_STR_LIT("[1, 2]");
      CHECK(host.api()->invalidate_cache(host.host(), nullptr, "contains_blocked_word", &bad) ==
            MODKIT_E_INVALID_ARGUMENT);
      CHECK(host.api()->invalidate_cache(host.host(), nullptr, "contains_blocked_word", nullptr) == MODKIT_OK);
   }
}

TEST_CASE("hello_web answers GET and refuses other methods") {
   ModuleLibrary library(MODKIT_SAMPLE_HELLO_WEB);
   FakeHost host;
   ModuleInstance instance(library.descriptor(), host, R"({"greeting": "hi"})");
   REQUIRE(instance.status() == MODKIT_OK);
   CHECK(host.registrations.empty());

   modkit_http_response ok;
   REQUIRE(host.serve("/_modkit/hello", "GET", "name=Ada", "{}", "", ok) == MODKIT_OK);
   CHECK(ok.status == 200);
   CHECK(json::parse(ok.body) == json{{"hi", "Ada"}});

   modkit_http_response anonymous;
   REQUIRE(host.serve("/_modkit/hello", "GET", "", "{}", "", anonymous) == MODKIT_OK);
   CHECK(json::parse(anonymous.body) == json{{"hi", "world"}});

   modkit_http_response refused;
   REQUIRE(host.serve("/_modkit/hello", "POST", "", "{}", "", refused) == MODKIT_OK);
   CHECK(refused.status == 405);
   CHECK(refused.headers[0] == std::make_pair(std::string("allow"), std::string("GET")));
}

TEST_CASE("password_policy checks registrations and logins") {
   ModuleLibrary library(MODKIT_SAMPLE_PASSWORD_POLICY);
   const modkit_module *module = library.descriptor();
   FakeHost host;

   SUBCASE("max_length below min_length is refused at /max_length") {
      const ParseResult r = parse_config(module, host, R"({"min_length": 8, "max_length": 4})");
      CHECK(r.status == MODKIT_E_CONFIG);
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].pointer == "/max_length");
   }
   SUBCASE("an unknown on_violation is refused") {
      const ParseResult r = parse_config(module, host, R"({"on_violation": "ignore"})");
      CHECK(r.status == MODKIT_E_CONFIG);
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].pointer == "/on_violation");
   }
   SUBCASE("the policy") {
      const ParseResult parsed = parse_config(
         module, host, R"({"min_length": 3, "reserved": ["admin"], "on_violation": "shadow_ban", "login_providers": ["password", "oidc"]})");
      REQUIRE(parsed.status == MODKIT_OK);
      ModuleInstance instance(module, host, parsed.output);
      REQUIRE(instance.status() == MODKIT_OK);
      const Registration *r = host.find_registration(MODKIT_SPAM_CHECKER_ID);
      REQUIRE(r != nullptr);
      const auto c = r->as<modkit_spam_checker_callbacks>();
      modkit_call call;
      const std::string info = "[]";

      const auto registration = [&](const char *username) {
         modkit_registration_behaviour b = -1;
         REQUIRE(c.check_registration_for_spam(r->user_data, &call, modkit_str{nullptr, 0},
                                               modkit_str_from_cstr(username), str(info), modkit_str{nullptr, 0},
                                               &b) == MODKIT_OK);
         return b;
      };
      CHECK(registration("alice") == MODKIT_REGISTRATION_ALLOW);
      CHECK(registration("al") == MODKIT_REGISTRATION_SHADOW_BAN);
      CHECK(registration("admin") == MODKIT_REGISTRATION_SHADOW_BAN);
      CHECK(registration("Alice") == MODKIT_REGISTRATION_SHADOW_BAN);
      CHECK(registration(nullptr) == MODKIT_REGISTRATION_ALLOW);
      CHECK(host.logged(MODKIT_LOG_INFO, "registration of \"admin\" breaks the policy"));

      const auto login = [&](const char *provider) {
         modkit_spam_result result = -1;
         REQUIRE(c.check_login_for_spam(r->user_data, &call, str("@a:x"), modkit_str{nullptr, 0},
                                        modkit_str{nullptr, 0}, str(info), modkit_str_from_cstr(provider),
                                        &result) == MODKIT_OK);
         return result;
      };
      CHECK(login(nullptr) == MODKIT_NOT_SPAM); // a password login
      CHECK(login("oidc") == MODKIT_NOT_SPAM);
      CHECK(login("saml") == MODKIT_SPAM_FORBIDDEN);
      CHECK(host.logged(MODKIT_LOG_WARNING, "login of @a:x through \"saml\" refused"));
   }
}
