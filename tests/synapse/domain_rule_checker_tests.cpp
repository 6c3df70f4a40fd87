// domain_rule_checker_tests.cpp - matrix-org/synapse-domain-rule-checker's test suite
// (tests/test_domain_rule_checker.py), case by case with the same names, inputs and expected
// outputs, against the port (samples/synapse/domain_rule_checker). The original's MockModuleApi
// (server "source_one", a room that is new or not, published or not, known or not) is a
// chat.homeserver/1 table handed to the module by the FakeHost; it answers after the callback
// has suspended, as a host does.
#include "mock_homeserver.hpp"
#include "port.hpp"

#include <chat_host/homeserver.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

// Each file in a namespace of its own: the suite is built as a unity build.
namespace domain_rule_checker_port {

using nlohmann::json;

namespace {

using port::ConfigError;

// The original's MockModuleApi as the homeserver extension.
class MockModuleApi : public port::MockHomeserver {
public:
   MockModuleApi(bool new_room, bool published, bool unknown_room)
      : new_room_(new_room), published_(published), unknown_room_(unknown_room) {
      api().server_name = [](const chat_homeserver_api *, modkit_host *) { return "source_one"; };
      api().get_room_state = [](const chat_homeserver_api *self, modkit_host *, modkit_str, modkit_str,
                                chat_homeserver_done_fn done, void *user_data) {
         MockModuleApi &mock = of<MockModuleApi>(self);
         // The chat host's answer for a room it has no state for is MODKIT_E_NOT_FOUND
         // (Synapse's ModuleApi answers an empty state map): the port reads both as "not new".
         if (mock.unknown_room_) return mock.fail(done, user_data, MODKIT_E_NOT_FOUND, "M_NOT_FOUND: Unknown room");
         return mock.answer(done, user_data, mock.room_state());
      };
      api().room_is_in_public_room_list = [](const chat_homeserver_api *self, modkit_host *, modkit_str,
                                             chat_homeserver_done_fn done, void *user_data) {
         return of<MockModuleApi>(self).answer(done, user_data, json{{"public", of<MockModuleApi>(self).published_}});
      };
   }

private:
   json room_state() const {
      auto event = [](const char *type, const char *key, const char *sender, const char *membership) {
         json e = {{"type", type}, {"state_key", key}, {"sender", sender}, {"content", json::object()}};
         if (membership) e["content"]["membership"] = membership;
         return e;
      };
      json events = json::array({event("m.room.create", "", "room_creator", nullptr),
                                 event("m.room.member", "room_creator", "room_creator", "join"),
                                 event("m.room.member", "invitee", "room_creator", "invite")});
      if (!new_room_) events.push_back(event("m.room.member", "joinee", "joinee", "join"));
      return json{{"events", events}};
   }

   bool new_room_, published_, unknown_room_;
};

// create_module(config, new_room, published, unknown_room), with the checker's callbacks.
class Checker {
public:
   Checker(const json &config, bool new_room, bool published, bool unknown_room)
      : mock_(new_room, published, unknown_room),
        port_(MODKIT_PORT_DOMAIN_RULE_CHECKER, config, [this](FakeHost &host) {
           host.extensions[CHAT_HOMESERVER_ID] = mock_.table();
           host.module_name = "domain_rule_checker";
        }) {}

   bool user_may_invite(const std::string &inviter, const std::string &invitee, const std::string &room) {
      return run([&](modkit_call *call, modkit_spam_result *result) {
         return port_.callbacks().user_may_invite(port_.user_data(), call, str(inviter), str(invitee), str(room), result);
      });
   }
   bool user_may_send_3pid_invite(const std::string &inviter, const std::string &medium, const std::string &address,
                                  const std::string &room) {
      return run([&](modkit_call *call, modkit_spam_result *result) {
         return port_.callbacks().user_may_send_3pid_invite(port_.user_data(), call, str(inviter), str(medium), str(address),
                                                     str(room), result);
      });
   }
   bool user_may_join_room(const std::string &user, const std::string &room, bool is_invited) {
      return run([&](modkit_call *call, modkit_spam_result *result) {
         return port_.callbacks().user_may_join_room(port_.user_data(), call, str(user), str(room), is_invited, result);
      });
   }

private:
   // One call that may suspend: the mock answers once the callback returned, then the call's
   // final status and answer are read. True is the original's True (allowed).
   template <class F>
   bool run(F invoke) {
      modkit_call call;
      modkit_spam_result result = -1;
      call.arm();
      modkit_status status = call.returned(invoke(&call, &result));
      if (status == MODKIT_PENDING) {
         mock_.deliver();
         const auto final = call.wait(std::chrono::seconds(5));
         REQUIRE(final.has_value());
         status = *final;
      }
      REQUIRE(status == MODKIT_OK);
      return port::SpamPort::allowed(result);
   }

   MockModuleApi mock_; // before port_: the module holds its table until deinit
   port::SpamPort port_;
};

Checker create_module(const json &config, bool new_room, bool published, bool unknown_room) {
   return Checker(config, new_room, published, unknown_room);
}

// The original's two helpers.
bool test_user_may_invite(const json &config, const std::string &inviter, const std::optional<std::string> &invitee,
                          bool new_room, bool published, bool unknown_room = false) {
   Checker checker = create_module(config, new_room, published, unknown_room);
   if (!invitee) return checker.user_may_send_3pid_invite(inviter, "email", "a@b", "!r");
   return checker.user_may_invite(inviter, *invitee, "!r");
}

bool test_user_may_join_room(const json &config, bool is_invited) {
   Checker checker = create_module(config, false, false, false);
   return checker.user_may_join_room("@a:b", "!r", is_invited);
}

json parse_config(const json &config) { return port::parse(MODKIT_PORT_DOMAIN_RULE_CHECKER, config); }

} // namespace

TEST_SUITE("DomainRuleCheckerTestCase") {

TEST_CASE("test_allowed") {
   const json config = {{"can_invite_if_not_in_domain_mapping", false},
                        {"domain_mapping", {{"source_one", {"target_one", "target_two"}}, {"source_two", {"target_two"}}}},
                        {"domains_prevented_from_being_invited_to_published_rooms", {"target_two"}}};
   // Check that a user can invite a remote server if the domain mapping allows it.
   CHECK(test_user_may_invite(config, "test:source_one", "test:target_one", false, false));
   CHECK(test_user_may_invite(config, "test:source_one", "test:target_two", false, false));
   CHECK(test_user_may_invite(config, "test:source_two", "test:target_two", false, false));
   // User can invite internal user to a published room
   CHECK(test_user_may_invite(config, "test:source_one", "test1:target_one", false, true));
   // User can invite external user to a non-published room
   CHECK(test_user_may_invite(config, "test:source_one", "test:target_two", false, false));
}

TEST_CASE("test_disallowed") {
   const json config = {{"can_invite_if_not_in_domain_mapping", true},
                        {"domain_mapping",
                         {{"source_one", {"target_one", "target_two"}},
                          {"source_two", {"target_two"}},
                          {"source_four", json::array()}}},
                        {"domains_prevented_from_being_invited_to_published_rooms", {"target_two"}}};
   // Check that a user can't invite a remote server if the domain mapping doesn't allow it.
   CHECK_FALSE(test_user_may_invite(config, "test:source_one", "test:target_three", false, false));
   CHECK_FALSE(test_user_may_invite(config, "test:source_two", "test:target_three", false, false));
   CHECK_FALSE(test_user_may_invite(config, "test:source_two", "test:target_one", false, false));
   CHECK_FALSE(test_user_may_invite(config, "test:source_four", "test:target_one", false, false));
   // User cannot invite external user to a published room
   CHECK_FALSE(test_user_may_invite(config, "test:source_one", "test:target_two", false, true));
}

TEST_CASE("test_default_allow") {
   const json config = {{"can_invite_if_not_in_domain_mapping", true},
                        {"domain_mapping", {{"source_one", {"target_one", "target_two"}}, {"source_two", {"target_two"}}}}};
   CHECK(test_user_may_invite(config, "test:source_three", "test:target_one", false, false));
}

TEST_CASE("test_default_deny") {
   const json config = {{"can_invite_if_not_in_domain_mapping", false},
                        {"domain_mapping", {{"source_one", {"target_one", "target_two"}}, {"source_two", {"target_two"}}}}};
   CHECK_FALSE(test_user_may_invite(config, "test:source_three", "test:target_one", false, false));
}

TEST_CASE("test_3pid_invite_denied") {
   const json config = {{"can_invite_if_not_in_domain_mapping", false}, {"can_invite_by_third_party_id", false}};
   CHECK_FALSE(test_user_may_invite(config, "test:source_one", std::nullopt, false, false));
}

TEST_CASE("test_3pid_invite_allowed") {
   const json config = {{"can_invite_if_not_in_domain_mapping", false}, {"can_invite_by_third_party_id", true}};
   CHECK(test_user_may_invite(config, "test:source_one", std::nullopt, false, false));
}

TEST_CASE("test_join_room") {
   json config = {{"can_invite_if_not_in_domain_mapping", false}, {"can_only_join_rooms_with_invite", true}};
   CHECK(test_user_may_join_room(config, true));
   CHECK_FALSE(test_user_may_join_room(config, false));
   config["can_only_join_rooms_with_invite"] = false;
   CHECK(test_user_may_join_room(config, true));
   CHECK(test_user_may_join_room(config, false));
}

TEST_CASE("test_config_parse") {
   const json config = {{"can_invite_if_not_in_domain_mapping", false},
                        {"domain_mapping", {{"source_one", {"target_one", "target_two"}}, {"source_two", {"target_two"}}}}};
   const json parsed = parse_config(config);
   CHECK(parsed["can_invite_if_not_in_domain_mapping"] == false);
   CHECK(parsed["domain_mapping"] == config["domain_mapping"]);
}

TEST_CASE("test_config_parse_failure") {
   const json config = {{"domain_mapping", {{"source_one", {"target_one", "target_two"}}, {"source_two", {"target_two"}}}}};
   CHECK_THROWS_WITH_AS(parse_config(config), "DomainRuleChecker: can_invite_if_not_in_domain_mapping is required",
                        ConfigError);
}

TEST_CASE("test_invite_unknown_room") {
   const json config = {{"can_invite_if_not_in_domain_mapping", true}, {"can_only_invite_during_room_creation", true}};
   CHECK_FALSE(test_user_may_invite(config, "@test:source_one", "@test2:source_one", false, false, true));
}

TEST_CASE("test_remote_invite") {
   const json config = {{"can_invite_if_not_in_domain_mapping", true}, {"can_only_invite_during_room_creation", true}};
   CHECK(test_user_may_invite(config, "@test:source_two", "@test2:source_one", false, false, true));
}

} // TEST_SUITE

// Beyond the original's suite: the room-creation rule on a new and a grown room, and config types.
TEST_CASE("domain_rule_checker: invites only while the room is new, and a typed config") {
   const json config = {{"can_invite_if_not_in_domain_mapping", true}, {"can_only_invite_during_room_creation", true}};
   CHECK(test_user_may_invite(config, "@test:source_one", "@test2:source_one", true, false));
   CHECK_FALSE(test_user_may_invite(config, "@test:source_one", "@test2:source_one", false, false));
   CHECK_THROWS_AS(parse_config({{"can_invite_if_not_in_domain_mapping", "no"}}), ConfigError);
   CHECK_THROWS_AS(parse_config({{"can_invite_if_not_in_domain_mapping", true}, {"domain_mapping", {{"a", "b"}}}}),
                   ConfigError);
   // Unknown keys are the schema's to refuse (a loader checks it before parse_config).
   ModuleLibrary library(MODKIT_PORT_DOMAIN_RULE_CHECKER);
   const json schema = json::parse(library.descriptor()->config_schema);
   CHECK(schema["additionalProperties"] == false);
   CHECK(schema["properties"].size() == 6);
}

} // namespace domain_rule_checker_port
