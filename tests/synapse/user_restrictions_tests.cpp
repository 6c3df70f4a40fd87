// user_restrictions_tests.cpp - matrix-org/synapse-user-restrictions' test suite
// (tests/test_config.py, tests/test_rules.py), case by case with the same names, inputs and
// expected outputs, against the port (samples/synapse/user_restrictions). The original's
// create_module (parse_config, then the module with a mocked ModuleApi) is the module's
// descriptor driven with the FakeHost.
#include "port.hpp"

#include <string>

// Each file in a namespace of its own: the suite is built as a unity build.
namespace user_restrictions_port {

using nlohmann::json;
using port::ConfigError;

namespace {

// One module instance, with the original's two callbacks as the tests call them.
class Module {
public:
   explicit Module(const json &config) : port_(MODKIT_PORT_USER_RESTRICTIONS, config) {}

   bool callback_user_may_invite(const std::string &inviter, const std::string &invitee, const std::string &room) {
      modkit_call call;
      modkit_spam_result result = -1;
      REQUIRE(port_.callbacks().user_may_invite(port_.user_data(), &call, str(inviter), str(invitee), str(room),
                                                &result) == MODKIT_OK);
      return port::SpamPort::allowed(result);
   }
   bool callback_user_may_create_room(const std::string &user) {
      modkit_call call;
      modkit_spam_result result = -1;
      const std::string config = "{}";
      REQUIRE(port_.callbacks().user_may_create_room(port_.user_data(), &call, str(user), str(config), &result) ==
              MODKIT_OK);
      return port::SpamPort::allowed(result);
   }

private:
   port::SpamPort port_;
};

Module create_module(const json &config) { return Module(config); }

} // namespace

TEST_SUITE("ConfigTest") {

TEST_CASE("test_config_error_exceptions") {
   CHECK_THROWS_WITH_AS(create_module({{"rules", {{{"match", "@srtsrt[a-z"}, {"allow", "invite"}}}}}),
                        doctest::Contains("unterminated"), ConfigError);
   // The `nonsense` permission doesn't exist.
   CHECK_THROWS_WITH_AS(create_module({{"rules", {{{"match", "@bob:test"}, {"allow", {"nonsense"}}}}}}),
                        doctest::Contains("'nonsense' is not a permission recognised"), ConfigError);
   CHECK_THROWS_AS(create_module(json::object()), ConfigError);
   CHECK_THROWS_AS(create_module({{"roooolz", json::array()}}), ConfigError);
   CHECK_THROWS_AS(create_module({{"rules", true}}), ConfigError);
   CHECK_THROWS_AS(create_module({{"rules", {false}}}), ConfigError);
   CHECK_THROWS_AS(create_module({{"rules", {{{"maaartch", "bleh"}}}}}), ConfigError);
}

TEST_CASE("test_config_correct") {
   // The parsed config, as the module hands it to its init: the same rules and defaults.
   const json parsed = port::parse(MODKIT_PORT_USER_RESTRICTIONS, {{"rules",
                                                          {{{"match", "@unprivileged[0-9]+:.*"},
                                                            {"allow", {"invite"}},
                                                            {"deny", {"create_room"}}}}},
                                                         {"default_deny", {"invite", "create_room"}}});
   CHECK(parsed == json{{"rules",
                         {{{"match", "@unprivileged[0-9]+:.*"}, {"allow", {"invite"}}, {"deny", {"create_room"}}}}},
                        {"default_deny", {"create_room", "invite"}}});
}

} // TEST_SUITE

TEST_SUITE("RuleTest") {

TEST_CASE("test_rules_allow_with_default_deny") {
   Module module = create_module({{"rules",
                                   {{{"match", "@a.*:.*"}, {"allow", {"invite"}}},
                                    {{"match", "@b.*:.*"}, {"allow", {"create_room"}}}}},
                                  {"default_deny", {"invite", "create_room"}}});
   CHECK(module.callback_user_may_invite("@alice:hs1", "@other:hs2", "!room1:hs1"));
   CHECK_FALSE(module.callback_user_may_invite("@bob:hs1", "@other:hs2", "!room2:hs1"));
   CHECK_FALSE(module.callback_user_may_invite("@kristina:hs1", "@other:hs2", "!room2:hs1"));

   CHECK_FALSE(module.callback_user_may_create_room("@alice:hs1"));
   CHECK(module.callback_user_may_create_room("@bob:hs1"));
   CHECK_FALSE(module.callback_user_may_create_room("@kristina:hs1"));
}

TEST_CASE("test_rules_deny_with_no_default") {
   Module module = create_module({{"rules",
                                   {{{"match", "@a.*:.*"}, {"deny", {"invite"}}},
                                    {{"match", "@b.*:.*"}, {"deny", {"create_room"}}}}}});
   CHECK_FALSE(module.callback_user_may_invite("@alice:hs1", "@other:hs2", "!room1:hs1"));
   CHECK(module.callback_user_may_invite("@bob:hs1", "@other:hs2", "!room2:hs1"));
   CHECK(module.callback_user_may_invite("@kristina:hs1", "@other:hs2", "!room2:hs1"));

   CHECK(module.callback_user_may_create_room("@alice:hs1"));
   CHECK_FALSE(module.callback_user_may_create_room("@bob:hs1"));
   CHECK(module.callback_user_may_create_room("@kristina:hs1"));
}

TEST_CASE("test_rules_ordered_top_to_bottom") {
   Module module = create_module({{"rules",
                                   {{{"match", "@bruce.*:.*"}, {"allow", {"create_room"}}},
                                    {{"match", "@b.*:.*"}, {"deny", {"create_room"}}}}}});
   CHECK(module.callback_user_may_create_room("@bruce:hs1"));
   CHECK_FALSE(module.callback_user_may_create_room("@bob:hs1"));
}

} // TEST_SUITE

// Beyond the original's suite: every message and pointer its config checks give.
TEST_CASE("user_restrictions: each config problem names its place, with the original's message") {
   const struct {
      json config;
      std::string pointer, message;
   } cases[] = {
      {json::object(), "", "'rules' list not specified in module configuration."},
      {{{"rules", true}}, "/rules", "'rules' should be a list."},
      {{{"rules", {false}}}, "/rules/0", "Rules should be dicts. Rule number 1 is not (found: bool)."},
      {{{"rules", {{{"maaartch", "bleh"}}}}}, "/rules/0", "Rules must have a 'match' field"},
      {{{"rules", {{{"match", 3}}}}}, "/rules/0/match", "Regex patterns should be specified as strings."},
      {{{"rules", {{{"match", "(a"}}}}}, "/rules/0/match", "Invalid regex '(a': missing ), unterminated subpattern"},
      {{{"rules", {{{"match", "a"}, {"allow", "invite"}}}}}, "/rules/0/allow", "Rule's 'allow' field must be a list."},
      {{{"rules", {{{"match", "a"}, {"deny", {1}}}}}}, "/rules/0/deny/0", "Rule's 'deny' field must be a list of strings."},
      {{{"rules", json::array()}, {"default_deny", "invite"}}, "/default_deny",
       "'default_deny' should be a list (or unspecified)."},
      {{{"rules", json::array()}, {"default_deny", {"invite", "fly"}}}, "/default_deny/1",
       "'fly' is not a permission recognised by the User Restrictions module; try one of: create_room, invite"},
   };
   ModuleLibrary library(MODKIT_PORT_USER_RESTRICTIONS);
   FakeHost host;
   for (const auto &c : cases) {
      CAPTURE(c.config.dump());
      const ParseResult r = parse_config(library.descriptor(), host, c.config.dump());
      CHECK(r.status == MODKIT_E_CONFIG);
      REQUIRE(r.errors.size() == 1);
      CHECK(r.errors[0].pointer == c.pointer);
      CHECK(r.errors[0].message == "Failed to parse user restrictions module config: " + c.message);
   }
   // Absent and null default_deny both mean "allow by default".
   CHECK(parse_config(library.descriptor(), host, R"({"rules": [], "default_deny": null})").status == MODKIT_OK);
}

} // namespace user_restrictions_port
