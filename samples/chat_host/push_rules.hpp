// push_rules.hpp - a user's push rules (the client-server spec's Push Notifications module):
// the server-default rule set, checks on the rules clients send, and the evaluation of a rule
// set against an event, from which /sync counts unread notifications and highlights.
//
// A rule set is JSON as clients see it: {"override": [...], "content": [...], "room": [...],
// "sender": [...], "underride": [...]}. It is stored whole, defaults included, as the account
// data m.push_rules = {"global": <rule set>}, so /sync delivers it unchanged.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

using json = nlohmann::json;
class State;

namespace push {

// The five kinds, in the order rules are evaluated.
inline constexpr const char *kinds[] = {"override", "content", "room", "sender", "underride"};
bool is_kind(std::string_view kind);

// The server-default rule set for user_id (spec v1.9's predefined rules), user rules empty.
json default_ruleset(const std::string &user_id);

// The rule a PUT .../pushrules/global/{kind}/{rule_id} body describes, enabled. Throws
// MatrixError(400, M_INVALID_PARAM) for a bad rule ID, kind, pattern, condition or action.
json rule_from_request(const std::string &kind, const std::string &rule_id, const json &body);
// actions without the historical dont_notify and coalesce (the spec: ignored). Throws
// MatrixError(400, M_INVALID_PARAM) unless it is an array of notify and set_tweak objects.
json clean_actions(const json &actions);

// The user's stored rule set, or the defaults when none is stored yet.
// [state.mutex held]
json stored_ruleset(State &state, const std::string &user_id);
// Stores ruleset as the user's m.push_rules at a new stream position, which wakes /sync.
// [state.mutex held]
void store_ruleset(State &state, const std::string &user_id, json ruleset);
// Stores the defaults as m.push_rules (store_ruleset) unless some rule set is stored already,
// so that an initial /sync carries them. Returns true when it stored them.
// [state.mutex held]
bool seed_ruleset(State &state, const std::string &user_id);

// What the first matching enabled rule says about an event.
struct Outcome {
   bool notify = false;    // "notify" among its actions: counts as an unread notification
   bool highlight = false; // with notify, a highlight tweak that is not false
   std::string rule_id;
   json actions; // the rule's, as GET /notifications reports them
};

// Evaluates rules (the m.push_rules content {"global": ...}, or a bare rule set) against event
// (client format: type, content, sender, room_id, state_key) for user_id. display_name is the
// user's name in that room (empty: contains_display_name never matches); sender_may_notify_room
// is what sender_notification_permission "room" answers (the sender's power level reaches the
// room's notifications.room, 50 by default). nullopt when no enabled rule matches. The caller
// skips the user's own events. Pure: no state, no lock.
std::optional<Outcome> evaluate(const json &rules, const json &event, const std::string &user_id,
                                const std::string &display_name, int64_t room_member_count,
                                bool sender_may_notify_room);

// ---- the pieces evaluate() uses, exposed for tests ----

// Glob match ('*' any run, '?' one character), ASCII case-insensitive. whole: the pattern must
// match all of value; otherwise any substring starting and ending at word boundaries.
bool glob_match(std::string_view pattern, std::string_view value, bool whole);
// The value at a dot-separated path ("content.m\\.mentions.room"), or nullptr when absent.
const json *property(const json &event, std::string_view dotted_key);

} // namespace push
} // namespace chat
