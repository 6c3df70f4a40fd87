// client_api_tests.cpp - push rules (the API and the evaluator), capabilities, discovery, devices,
// the refused end-to-end encryption endpoints, and transaction IDs, through the router.
#include "support.hpp"

#include "push_rules.hpp"
#include "transactions.hpp"

#include <algorithm>

using json = nlohmann::json;
using test::Host;
using test::probe;

namespace client_api {

const std::string rules = "/_matrix/client/v3/pushrules";
const std::string alice = "@alice:example.org";

std::vector<std::string> ids(const json &list) {
   std::vector<std::string> out;
   for (const auto &r : list) out.push_back(r["rule_id"]);
   return out;
}

// An m.room.message from @bob in !r, with extra content fields.
json message(const std::string &body, const json &extra = json::object()) {
   json e = {{"type", "m.room.message"}, {"room_id", "!r:example.org"}, {"sender", "@bob:example.org"},
             {"content", {{"msgtype", "m.text"}, {"body", body}}}};
   e["content"].update(extra);
   return e;
}

json defaults() { return {{"global", chat::push::default_ruleset(alice)}}; }

// The outcome for alice, "Alice Smith" in a room of `members`; "" when no rule matched.
std::string rule_for(const json &ruleset, const json &event, int64_t members = 5, bool may_notify_room = false) {
   const auto o = chat::push::evaluate(ruleset, event, alice, "Alice Smith", members, may_notify_room);
   return o ? o->rule_id : "";
}

uint64_t push_rules_stream(Host &host, const std::string &user_id) {
   std::lock_guard<std::mutex> lock(host.app->state().mutex);
   auto &data = host.app->state().account_data[user_id];
   return data.count("m.push_rules") ? data["m.push_rules"].stream : 0;
}

} // namespace client_api

TEST_CASE("push rules: GET serves the server-default rules for the user, with or without the trailing slash") {
   using namespace client_api;
   Host host({});
   const std::string token = host.user("alice");
   for (const std::string &path : {rules + "/", rules}) {
      const auto r = host.request("GET", path, nullptr, token);
      REQUIRE(r.status == 200);
      const json global = Host::body(r)["global"];
      CHECK(ids(global["override"]) ==
            std::vector<std::string>{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
                                     ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name",
                                     ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone",
                                     ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits"});
      CHECK(ids(global["underride"]) == std::vector<std::string>{".m.rule.call", ".m.rule.encrypted_room_one_to_one",
                                                                 ".m.rule.room_one_to_one", ".m.rule.message",
                                                                 ".m.rule.encrypted"});
      CHECK(global["content"][0]["pattern"] == "alice");
      CHECK(global["room"] == json::array());
      CHECK(global["sender"] == json::array());
      CHECK(global["override"][0]["enabled"] == false);
      CHECK(global["override"][2]["conditions"][2]["pattern"] == alice);
      CHECK(global["override"][4]["conditions"][0] ==
            json{{"kind", "event_property_contains"}, {"key", "content.m\\.mentions.user_ids"}, {"value", alice}});
      CHECK(global["underride"][3]["actions"] == json::array({"notify"}));
      for (const char *kind : {"override", "underride"})
         for (const auto &rule : global[kind]) {
            CHECK(rule["conditions"].is_array());
            CHECK(rule["actions"].is_array());
            CHECK(rule["default"] == true);
         }
   }
   CHECK(Host::body(host.request("GET", rules + "/global/", nullptr, token))["content"][0]["rule_id"] ==
         ".m.rule.contains_user_name");
   CHECK(ids(Host::body(host.request("GET", rules + "/global/underride/", nullptr, token)))[0] == ".m.rule.call");
   const auto one = host.request("GET", rules + "/global/override/.m.rule.tombstone", nullptr, token);
   CHECK(Host::body(one)["actions"] == json::array({"notify", {{"set_tweak", "highlight"}}}));
   CHECK(host.request("GET", rules + "/", nullptr, "").status == 401);
   // Reading stores nothing: no account data until a change.
   CHECK(push_rules_stream(host, alice) == 0);
}

TEST_CASE("push rules: PUT adds user rules in order, before and after move them, DELETE removes them") {
   using namespace client_api;
   Host host({});
   const std::string token = host.user("alice");
   const json rule = {{"conditions", {{{"kind", "event_match"}, {"key", "content.body"}, {"pattern", "beer"}}}},
                      {"actions", {"notify", {{"set_tweak", "sound"}, {"value", "beer.wav"}}}}};
   // A change wakes the user's waiting /sync.
   bool woken = false;
   uint64_t waiter = 0;
   {
      std::lock_guard<std::mutex> lock(host.app->state().mutex);
      waiter = host.app->state().notifier.wait(alice, host.app->state().stream(), [&] { woken = true; });
   }
   REQUIRE(host.request("PUT", rules + "/global/override/a", rule, token).status == 200);
   CHECK(woken);
   host.app->state().notifier.cancel(waiter);
   const uint64_t first = push_rules_stream(host, alice);
   CHECK(first > 0);
   REQUIRE(host.request("PUT", rules + "/global/override/b", rule, token).status == 200);
   CHECK(push_rules_stream(host, alice) > first); // each change is a new account data position
   // The first n override rule IDs.
   auto override_ids = [&](size_t n = 100) {
      auto all = ids(Host::body(host.request("GET", rules + "/global/override/", nullptr, token)));
      all.resize(std::min(n, all.size()));
      return all;
   };
   // New rules go first among the user's rules, after .m.rule.master, before the defaults.
   CHECK(override_ids(4) ==
         std::vector<std::string>{".m.rule.master", "b", "a", ".m.rule.suppress_notices"});
   REQUIRE(host.request("PUT", rules + "/global/override/c?after=a", rule, token).status == 200);
   REQUIRE(host.request("PUT", rules + "/global/override/b?before=c", rule, token).status == 200);
   CHECK(override_ids(5) ==
         std::vector<std::string>{".m.rule.master", "a", "b", "c", ".m.rule.suppress_notices"});

   const auto got = host.request("GET", rules + "/global/override/a", nullptr, token);
   REQUIRE(got.status == 200);
   CHECK(Host::body(got) == json{{"rule_id", "a"}, {"default", false}, {"enabled", true},
                                 {"conditions", rule["conditions"]}, {"actions", rule["actions"]}});
   // An update keeps the rule's place and its enabled state.
   REQUIRE(host.request("PUT", rules + "/global/override/a/enabled", {{"enabled", false}}, token).status == 200);
   REQUIRE(host.request("PUT", rules + "/global/override/a", {{"conditions", json::array()}, {"actions", json::array()}}, token).status == 200);
   CHECK(override_ids()[1] == "a");
   CHECK(Host::body(host.request("GET", rules + "/global/override/a", nullptr, token))["enabled"] == false);

   // The other kinds: content needs a pattern; room and sender rules are named by their ID.
   CHECK(host.request("PUT", rules + "/global/content/cake", {{"pattern", "cake*lie"}, {"actions", {"notify"}}}, token).status == 200);
   CHECK(host.request("PUT", rules + "/global/room/!r:example.org", {{"actions", json::array()}}, token).status == 200);
   CHECK(host.request("PUT", rules + "/global/sender/@spam:example.org", {{"actions", json::array()}}, token).status == 200);
   const json global = Host::body(host.request("GET", rules + "/global/", nullptr, token));
   CHECK(global["content"][0] == json{{"rule_id", "cake"}, {"default", false}, {"enabled", true}, {"pattern", "cake*lie"}, {"actions", {"notify"}}});
   CHECK(ids(global["room"]) == std::vector<std::string>{"!r:example.org"});
   CHECK(ids(global["sender"]) == std::vector<std::string>{"@spam:example.org"});

   // Stored whole as m.push_rules, where /sync finds account data.
   {
      std::lock_guard<std::mutex> lock(host.app->state().mutex);
      CHECK(host.app->state().account_data[alice]["m.push_rules"].content == json{{"global", global}});
   }
   CHECK(host.request("DELETE", rules + "/global/override/b", nullptr, token).status == 200);
   CHECK(host.request("GET", rules + "/global/override/b", nullptr, token).status == 404);
   CHECK(override_ids(3) ==
         std::vector<std::string>{".m.rule.master", "a", "c"});
   // Another user's rules are their own.
   const std::string bob = host.user("bob");
   CHECK(host.request("GET", rules + "/global/override/a", nullptr, bob).status == 404);
}

TEST_CASE("push rules: bad kinds, reserved IDs, bad rules and unknown rules are refused") {
   using namespace client_api;
   Host host({});
   const std::string token = host.user("alice");
   const json ok = {{"conditions", json::array()}, {"actions", {"notify"}}};
   auto refused = [&](const std::string &method, const std::string &path, const json &body = nullptr) {
      const auto r = host.request(method, path, body, token);
      return std::to_string(r.status) + " " + test::errcode(r);
   };
   CHECK(refused("PUT", rules + "/global/nonsense/x", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("GET", rules + "/global/nonsense/x") == "400 M_INVALID_PARAM");
   CHECK(refused("GET", rules + "/global/nonsense/") == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/.m.rule.mine", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/.m.rule.master", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/a%2Fb", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/a%5Cb", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", json::array()}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", json::array()}, {"actions", {"explode"}}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", json::array()}, {"actions", "notify"}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", "all"}, {"actions", json::array()}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", {{{"kind", "event_match"}, {"key", "type"}}}}, {"actions", json::array()}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", {{{"key", "type"}}}}, {"actions", json::array()}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", {{{"kind", "room_member_count"}, {"is", "~3"}}}}, {"actions", json::array()}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x", {{"conditions", {{{"kind", "event_property_is"}, {"key", "content.x"}, {"value", {1, 2}}}}}, {"actions", json::array()}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/content/x", {{"actions", {"notify"}}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/content/x", {{"pattern", 3}, {"actions", {"notify"}}}) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x?before=nowhere", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("PUT", rules + "/global/override/x?after=.m.rule.master", ok) == "400 M_INVALID_PARAM");
   CHECK(refused("GET", rules + "/global/override/nowhere") == "404 M_NOT_FOUND");
   CHECK(refused("DELETE", rules + "/global/override/nowhere") == "404 M_NOT_FOUND");
   CHECK(refused("DELETE", rules + "/global/override/.m.rule.master") == "400 M_INVALID_PARAM");
   CHECK(refused("DELETE", rules + "/global/nonsense/x") == "400 M_INVALID_PARAM");
   // Nothing was stored by any of them; an unknown condition kind is kept (it never matches).
   CHECK(push_rules_stream(host, alice) == 0);
   CHECK(host.request("PUT", rules + "/global/override/x", {{"conditions", {{{"kind", "org.example.future"}}}}, {"actions", {"notify"}}}, token).status == 200);
}

TEST_CASE("push rules: enabled and actions, on user rules and server-default rules alike") {
   using namespace client_api;
   Host host({});
   const std::string token = host.user("alice");
   const std::string master = rules + "/global/override/.m.rule.master";
   CHECK(Host::body(host.request("GET", master + "/enabled", nullptr, token)) == json{{"enabled", false}});
   CHECK(host.request("PUT", master + "/enabled", {{"enabled", true}}, token).status == 200);
   CHECK(Host::body(host.request("GET", master + "/enabled", nullptr, token)) == json{{"enabled", true}});
   CHECK(test::errcode(host.request("PUT", master + "/enabled", {{"enabled", "yes"}}, token)) == "M_BAD_JSON");
   CHECK(test::errcode(host.request("PUT", master + "/enabled", json::object(), token)) == "M_BAD_JSON");

   const std::string message = rules + "/global/underride/.m.rule.message";
   // The historical dont_notify is accepted and dropped.
   CHECK(host.request("PUT", message + "/actions", {{"actions", {"dont_notify", {{"set_tweak", "sound"}, {"value", "x"}}}}}, token).status == 200);
   CHECK(Host::body(host.request("GET", message + "/actions", nullptr, token)) ==
         json{{"actions", {{{"set_tweak", "sound"}, {"value", "x"}}}}});
   CHECK(test::errcode(host.request("PUT", message + "/actions", {{"actions", {"boom"}}}, token)) == "M_INVALID_PARAM");
   CHECK(test::errcode(host.request("PUT", message + "/actions", json::object(), token)) == "M_MISSING_PARAM");
   CHECK(host.request("GET", rules + "/global/underride/nowhere/actions", nullptr, token).status == 404);
   CHECK(host.request("PUT", rules + "/global/underride/nowhere/enabled", {{"enabled", true}}, token).status == 404);
   CHECK(host.request("PUT", rules + "/global/nonsense/x/enabled", {{"enabled", true}}, token).status == 400);
}

TEST_CASE("push evaluate: glob patterns, word boundaries and dotted property paths") {
   using chat::push::glob_match;
   CHECK(glob_match("lunc?*", "Lunch plans", true));
   CHECK(glob_match("lunc?*", "LUNCH", true));
   CHECK_FALSE(glob_match("lunc?*", " lunch", true));
   CHECK_FALSE(glob_match("lunc?*", "lunc", true));
   CHECK(glob_match("ex*ple", "An example event.", false));
   CHECK(glob_match("ex*ple", "exple", false));
   CHECK(glob_match("ex*ple", "An exciting triple-whammy", false));
   CHECK_FALSE(glob_match("cake", "pancakes", false));
   CHECK(glob_match("cake", "pan-cake!", false));
   CHECK(glob_match("caf?", "un café", false)); // '?' is one character, not one byte
   CHECK(glob_match("", "", true));
   CHECK_FALSE(glob_match("", "x", true));
   CHECK(glob_match("*", "anything at all", true));

   const json event = {{"content", {{"m.mentions", {{"room", true}}}, {"a\\b", 1}, {"x", {{"y", "z"}}}}}};
   using chat::push::property;
   REQUIRE(property(event, "content.m\\.mentions.room"));
   CHECK(*property(event, "content.m\\.mentions.room") == true);
   CHECK(*property(event, "content.a\\\\b") == 1);
   CHECK(*property(event, "content.x.y") == "z");
   CHECK(property(event, "content.m.mentions.room") == nullptr);
   CHECK(property(event, "content.x.y.z") == nullptr);
}

TEST_CASE("push evaluate: the server-default rules") {
   using namespace client_api;
   const json rules = defaults();
   const auto group = chat::push::evaluate(rules, message("hello"), alice, "Alice Smith", 5, false);
   REQUIRE(group);
   CHECK(group->rule_id == ".m.rule.message");
   CHECK(group->notify);
   CHECK_FALSE(group->highlight);
   CHECK(rule_for(rules, message("hello"), 2) == ".m.rule.room_one_to_one");

   // A highlight on the display name (word boundaries, any case) and on the user name.
   const auto named = chat::push::evaluate(rules, message("hey alice smith, lunch?"), alice, "Alice Smith", 5, false);
   REQUIRE(named);
   CHECK(named->rule_id == ".m.rule.contains_display_name");
   CHECK(named->highlight);
   // Not the display name, but "alice" is the user name.
   CHECK(rule_for(rules, message("hey Alice Smithers")) == ".m.rule.contains_user_name");
   CHECK(rule_for(rules, message("hey Smith")) == ".m.rule.message");
   CHECK(rule_for(rules, message("ping alice")) == ".m.rule.contains_user_name");
   CHECK(rule_for(rules, message("ping malice")) == ".m.rule.message");
   CHECK(chat::push::evaluate(rules, message("Smith"), alice, "Smith", 5, false)->rule_id == ".m.rule.contains_display_name");
   CHECK(chat::push::evaluate(rules, message("Smith"), alice, "", 5, false)->rule_id == ".m.rule.message");

   // With m.mentions, the legacy mention rules step aside for the intentional ones.
   CHECK(rule_for(rules, message("hey Alice Smith", {{"m.mentions", json::object()}})) == ".m.rule.message");
   CHECK(rule_for(rules, message("hi", {{"m.mentions", {{"user_ids", {alice}}}}})) == ".m.rule.is_user_mention");
   CHECK(rule_for(rules, message("hi", {{"m.mentions", {{"room", true}}}}), 5, true) == ".m.rule.is_room_mention");
   CHECK(rule_for(rules, message("hi", {{"m.mentions", {{"room", true}}}}), 5, false) == ".m.rule.message");
   CHECK(rule_for(rules, message("@room look"), 5, true) == ".m.rule.roomnotif");
   CHECK(rule_for(rules, message("@room look"), 5, false) == ".m.rule.message");

   // Suppressed: notices, member events, reactions, edits (a matching rule that does not notify).
   const auto notice = chat::push::evaluate(rules, message("beep", {{"msgtype", "m.notice"}}), alice, "Alice Smith", 5, false);
   REQUIRE(notice);
   CHECK(notice->rule_id == ".m.rule.suppress_notices");
   CHECK_FALSE(notice->notify);
   CHECK(rule_for(rules, message("* fixed", {{"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", "$e"}}}})) == ".m.rule.suppress_edits");
   CHECK(rule_for(rules, {{"type", "m.reaction"}, {"content", json::object()}}) == ".m.rule.reaction");
   const json join = {{"type", "m.room.member"}, {"state_key", "@bob:example.org"}, {"content", {{"membership", "join"}}}};
   CHECK(rule_for(rules, join) == ".m.rule.member_event");
   const json invite = {{"type", "m.room.member"}, {"state_key", alice}, {"content", {{"membership", "invite"}}}};
   CHECK(rule_for(rules, invite) == ".m.rule.invite_for_me");
   const json tombstone = {{"type", "m.room.tombstone"}, {"state_key", ""}, {"content", json::object()}};
   CHECK(chat::push::evaluate(rules, tombstone, alice, "", 5, false)->highlight);
   CHECK(rule_for(rules, {{"type", "m.call.invite"}, {"content", json::object()}}) == ".m.rule.call");
   CHECK(rule_for(rules, {{"type", "m.room.encrypted"}, {"content", json::object()}}, 2) == ".m.rule.encrypted_room_one_to_one");
   CHECK(rule_for(rules, {{"type", "m.room.encrypted"}, {"content", json::object()}}, 3) == ".m.rule.encrypted");
   CHECK(rule_for(rules, {{"type", "m.room.topic"}, {"state_key", ""}, {"content", {{"topic", "x"}}}}) == "");
}

TEST_CASE("push evaluate: user rules, disabled rules and each condition kind") {
   using namespace client_api;
   json rules = defaults();
   json &global = rules["global"];
   auto add = [&](const char *kind, json rule) {
      rule["default"] = false;
      rule["enabled"] = true;
      global[kind].insert(global[kind].begin() + (std::string(kind) == "override" ? 1 : 0), rule);
   };
   // A user room rule silences the room: it comes before the default underride rules.
   add("room", {{"rule_id", "!r:example.org"}, {"actions", json::array()}});
   const auto silenced = chat::push::evaluate(rules, message("hello"), alice, "Alice Smith", 5, false);
   REQUIRE(silenced);
   CHECK(silenced->rule_id == "!r:example.org");
   CHECK_FALSE(silenced->notify);
   // ...but an override rule, and the display name rule, come before room rules.
   CHECK(rule_for(rules, message("Alice Smith?")) == ".m.rule.contains_display_name");
   add("sender", {{"rule_id", "@bob:example.org"}, {"actions", {"notify"}}});
   global["room"] = json::array();
   CHECK(rule_for(rules, message("hello")) == "@bob:example.org");
   global["sender"] = json::array();

   // A disabled rule is skipped; with no rule left, no outcome.
   for (auto &r : global["underride"])
      if (r["rule_id"] == ".m.rule.message") r["enabled"] = false;
   CHECK(rule_for(rules, message("hello")) == "");
   // The master rule, once enabled, silences everything.
   global["override"][0]["enabled"] = true;
   CHECK(rule_for(rules, message("Alice Smith")) == ".m.rule.master");
   global["override"][0]["enabled"] = false;

   // A highlight tweak whose value is false does not highlight.
   add("content", {{"rule_id", "cake"}, {"pattern", "cake*lie"}, {"actions", {"notify", {{"set_tweak", "highlight"}, {"value", false}}}}});
   const auto cake = chat::push::evaluate(rules, message("the cake is a lie"), alice, "", 5, false);
   REQUIRE(cake);
   CHECK(cake->rule_id == "cake");
   CHECK_FALSE(cake->highlight);

   auto condition = [&](const json &c, const json &event, int64_t members = 5, bool may_notify = false) {
      json only = {{"override", {{{"rule_id", "t"}, {"enabled", true}, {"conditions", {c}}, {"actions", {"notify"}}}}}};
      return chat::push::evaluate(only, event, alice, "Alice Smith", members, may_notify).has_value();
   };
   const json counted = message("x");
   CHECK(condition({{"kind", "room_member_count"}, {"is", "5"}}, counted, 5));
   CHECK(condition({{"kind", "room_member_count"}, {"is", "==5"}}, counted, 5));
   CHECK_FALSE(condition({{"kind", "room_member_count"}, {"is", "5"}}, counted, 4));
   CHECK(condition({{"kind", "room_member_count"}, {"is", "<5"}}, counted, 4));
   CHECK_FALSE(condition({{"kind", "room_member_count"}, {"is", "<5"}}, counted, 5));
   CHECK(condition({{"kind", "room_member_count"}, {"is", "<=5"}}, counted, 5));
   CHECK(condition({{"kind", "room_member_count"}, {"is", ">5"}}, counted, 6));
   CHECK_FALSE(condition({{"kind", "room_member_count"}, {"is", ">5"}}, counted, 5));
   CHECK(condition({{"kind", "room_member_count"}, {"is", ">=5"}}, counted, 5));
   CHECK_FALSE(condition({{"kind", "room_member_count"}, {"is", "=>5"}}, counted, 5));

   CHECK(condition({{"kind", "event_match"}, {"key", "type"}, {"pattern", "m.room.*"}}, counted));
   CHECK_FALSE(condition({{"kind", "event_match"}, {"key", "type"}, {"pattern", "m.room"}}, counted));
   CHECK_FALSE(condition({{"kind", "event_match"}, {"key", "content.n"}, {"pattern", "*"}}, message("x", {{"n", 1}})));

   const json flagged = message("x", {{"flag", true}, {"n", 1}, {"none", nullptr}, {"tags", {"a", 1, true}}});
   CHECK(condition({{"kind", "event_property_is"}, {"key", "content.flag"}, {"value", true}}, flagged));
   CHECK_FALSE(condition({{"kind", "event_property_is"}, {"key", "content.n"}, {"value", true}}, flagged));
   CHECK_FALSE(condition({{"kind", "event_property_is"}, {"key", "content.n"}, {"value", "1"}}, flagged));
   CHECK(condition({{"kind", "event_property_is"}, {"key", "content.n"}, {"value", 1}}, flagged));
   CHECK(condition({{"kind", "event_property_is"}, {"key", "content.none"}, {"value", nullptr}}, flagged));
   CHECK_FALSE(condition({{"kind", "event_property_is"}, {"key", "content.absent"}, {"value", nullptr}}, flagged));
   CHECK(condition({{"kind", "event_property_contains"}, {"key", "content.tags"}, {"value", "a"}}, flagged));
   CHECK(condition({{"kind", "event_property_contains"}, {"key", "content.tags"}, {"value", 1}}, flagged));
   CHECK_FALSE(condition({{"kind", "event_property_contains"}, {"key", "content.tags"}, {"value", "b"}}, flagged));
   CHECK_FALSE(condition({{"kind", "event_property_contains"}, {"key", "content.flag"}, {"value", true}}, flagged));

   CHECK(condition({{"kind", "contains_display_name"}}, message("oh, Alice Smith.")));
   CHECK_FALSE(condition({{"kind", "contains_display_name"}}, message("AliceSmith")));
   CHECK(condition({{"kind", "sender_notification_permission"}, {"key", "room"}}, counted, 5, true));
   CHECK_FALSE(condition({{"kind", "sender_notification_permission"}, {"key", "room"}}, counted, 5, false));
   CHECK_FALSE(condition({{"kind", "org.example.future"}}, counted)); // unknown: never matches
}

TEST_CASE("client misc: capabilities, .well-known discovery, TURN and third-party protocols") {
   Host host({});
   const std::string token = host.user("alice");
   const auto caps = host.request("GET", "/_matrix/client/v3/capabilities", nullptr, token);
   REQUIRE(caps.status == 200);
   const json c = Host::body(caps)["capabilities"];
   CHECK(c["m.room_versions"] == json{{"default", "10"}, {"available", {{"10", "stable"}}}});
   CHECK(c["m.change_password"]["enabled"] == false);
   CHECK(c["m.set_displayname"]["enabled"] == true);
   CHECK(c["m.3pid_changes"]["enabled"] == true);
   CHECK(host.request("GET", "/_matrix/client/v3/capabilities").status == 401);

   // Discovery is open, and only answers when the operator says where clients reach the server.
   const auto none = host.request("GET", "/.well-known/matrix/client");
   CHECK(none.status == 404);
   CHECK(test::errcode(none) == "M_NOT_FOUND");
   Host configured({}, {{"public_baseurl", "https://chat.example.org/"}});
   const auto known = configured.request("GET", "/.well-known/matrix/client");
   REQUIRE(known.status == 200);
   CHECK(Host::body(known) == json{{"m.homeserver", {{"base_url", "https://chat.example.org/"}}}});

   CHECK(Host::body(host.request("GET", "/_matrix/client/v3/voip/turnServer", nullptr, token)) == json::object());
   CHECK(Host::body(host.request("GET", "/_matrix/client/v3/thirdparty/protocols", nullptr, token)) == json::object());
   CHECK(host.request("GET", "/_matrix/client/v3/voip/turnServer").status == 401);
}

TEST_CASE("client misc: devices are listed, renamed and deleted behind the password, as logout does") {
   Host host({probe("chat_a", "a", {{"answers", {{"on_logged_out", nullptr}}}})});
   host.user("bob");
   auto login = [&](const std::string &device) {
      const auto r = host.request("POST", "/_matrix/client/v3/login",
                                  {{"type", "m.login.password"}, {"user", "bob"}, {"password", "pw-bob"},
                                   {"device_id", device}, {"initial_device_display_name", device + " name"}});
      REQUIRE(r.status == 200);
      return Host::body(r)["access_token"].get<std::string>();
   };
   const std::string phone = login("PHONE"), laptop = login("LAPTOP"), tablet = login("TABLET");
   const std::string d = "/_matrix/client/v3/devices";
   const json listed = Host::body(host.request("GET", d, nullptr, phone))["devices"];
   REQUIRE(listed.size() == 4); // with registration's own device
   const auto laptop_entry = std::find_if(listed.begin(), listed.end(), [](const json &d) { return d["device_id"] == "LAPTOP"; });
   REQUIRE(laptop_entry != listed.end());
   CHECK(*laptop_entry == json{{"device_id", "LAPTOP"}, {"display_name", "LAPTOP name"}});
   CHECK(Host::body(host.request("GET", d + "/PHONE", nullptr, laptop)) == json{{"device_id", "PHONE"}, {"display_name", "PHONE name"}});
   CHECK(host.request("GET", d + "/NOPE", nullptr, phone).status == 404);

   CHECK(host.request("PUT", d + "/PHONE", {{"display_name", "Pocket"}}, laptop).status == 200);
   CHECK(Host::body(host.request("GET", d + "/PHONE", nullptr, phone))["display_name"] == "Pocket");
   CHECK(test::errcode(host.request("PUT", d + "/PHONE", {{"display_name", std::string(101, 'x')}}, phone)) == "M_TOO_LARGE");
   CHECK(test::errcode(host.request("PUT", d + "/PHONE", {{"display_name", 3}}, phone)) == "M_BAD_JSON");
   CHECK(test::errcode(host.request("PUT", d + "/NOPE", {{"display_name", "x"}}, phone)) == "M_NOT_FOUND");

   // Another user sees none of them.
   const std::string carol = host.user("carol");
   CHECK(host.request("GET", d + "/PHONE", nullptr, carol).status == 404);
   CHECK(Host::body(host.request("GET", d, nullptr, carol))["devices"].size() == 1);

   // Deleting asks for the password (user-interactive auth), then logs the device out.
   const auto challenge = host.request("DELETE", d + "/PHONE", nullptr, laptop);
   CHECK(challenge.status == 401);
   CHECK(Host::body(challenge)["flows"][0]["stages"] == json::array({"m.login.password"}));
   const json wrong = {{"auth", {{"type", "m.login.password"}, {"password", "nope"}}}};
   CHECK(host.request("DELETE", d + "/PHONE", wrong, laptop).status == 401);
   CHECK(host.request("DELETE", d + "/PHONE", nullptr, carol).status == 401); // carol's own challenge
   const json right = {{"auth", {{"type", "m.login.password"}, {"password", "pw-bob"}}}};
   CHECK(host.request("DELETE", d + "/PHONE", {{"auth", {{"type", "m.login.password"}, {"password", "pw-carol"}}}}, carol).status == 200);
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, phone).status == 200); // carol had no PHONE
   host.clear();
   CHECK(host.request("DELETE", d + "/PHONE", right, laptop).status == 200);
   CHECK(host.calls("on_logged_out") == std::vector<std::string>{"a:on_logged_out"});
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, phone).status == 401);
   CHECK(host.request("DELETE", d + "/PHONE", right, laptop).status == 200); // already gone: done

   // Several at once.
   CHECK(test::errcode(host.request("POST", "/_matrix/client/v3/delete_devices", right, laptop)) == "M_MISSING_PARAM");
   CHECK(test::errcode(host.request("POST", "/_matrix/client/v3/delete_devices", {{"devices", {1}}, {"auth", right["auth"]}}, laptop)) == "M_BAD_JSON");
   CHECK(host.request("POST", "/_matrix/client/v3/delete_devices", {{"devices", {"TABLET", "LAPTOP"}}}, laptop).status == 401);
   host.clear();
   CHECK(host.request("POST", "/_matrix/client/v3/delete_devices", {{"devices", {"TABLET", "LAPTOP", "NOPE"}}, {"auth", right["auth"]}}, laptop).status == 200);
   CHECK(host.calls("on_logged_out").size() == 2);
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, tablet).status == 401);
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, laptop).status == 401);
}

TEST_CASE("client misc: the end-to-end encryption endpoints say this server does not support it") {
   Host host({});
   const std::string token = host.user("alice");
   const std::string c = "/_matrix/client/v3";
   const std::vector<std::pair<std::string, std::string>> calls = {
      {"POST", "/keys/upload"}, {"POST", "/keys/query"}, {"POST", "/keys/claim"}, {"GET", "/keys/changes"},
      {"POST", "/keys/device_signing/upload"}, {"POST", "/keys/signatures/upload"}, {"GET", "/room_keys/version"},
      {"POST", "/room_keys/version"}, {"PUT", "/room_keys/version/1"}, {"GET", "/room_keys/keys"},
      {"PUT", "/room_keys/keys/!r:example.org"}, {"DELETE", "/room_keys/keys/!r:example.org/s1"}};
   for (const auto &call : calls) {
      const std::string &path = call.second;
      CAPTURE(path);
      const auto r = host.request(call.first, c + path, json::object(), token);
      CHECK(r.status == 404);
      CHECK(test::errcode(r) == "M_UNRECOGNIZED");
      CHECK(Host::body(r)["error"].get<std::string>().find("End-to-end encryption is not supported") != std::string::npos);
   }
   CHECK(host.request("POST", c + "/keys/upload", json::object()).status == 401);
}

TEST_CASE("transaction IDs: a retried send answers the same event, and IDs are forgotten after their time") {
   Host host({probe("chat_a", "a")});
   const std::string token = host.user("alice");
   const std::string room = host.room(token);
   const std::string path = "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/retry-1";
   const json content = {{"msgtype", "m.text"}, {"body", "once"}};
   const auto first = host.request("PUT", path, content, token), again = host.request("PUT", path, content, token);
   REQUIRE(first.status == 200);
   REQUIRE(again.status == 200);
   CHECK(Host::body(again)["event_id"] == Host::body(first)["event_id"]);
   CHECK(host.app->state().txn_events.size() == 1);

   SUBCASE("kept for keep_ms, then forgotten; one remembered again lives from its new time") {
      chat::Transactions t(1000);
      t.remember("a", "$1", 0);
      t.remember("b", "$2", 0);
      t.remember("b", "$3", 500);
      REQUIRE(t.find("a", 999));
      CHECK(*t.find("a", 999) == "$1");
      CHECK_FALSE(t.find("a", 1000));
      REQUIRE(t.find("b", 1200));
      CHECK(*t.find("b", 1200) == "$3");
      CHECK_FALSE(t.find("b", 1500));
      CHECK(t.size() == 0);
   }
   SUBCASE("a host that sends for ever keeps only the last keep_ms of them") {
      chat::Transactions t(1000);
      for (int64_t now = 0; now < 100000; now += 10) t.remember("k" + std::to_string(now), "$e", now);
      CHECK(t.size() == 100);
   }
}
