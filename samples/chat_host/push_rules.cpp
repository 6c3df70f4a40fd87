// push_rules.cpp - the server-default push rules, checks on client rules, and evaluation.
#include "push_rules.hpp"

#include "matrix_error.hpp"
#include "state.hpp"

#include <vector>

namespace chat::push {

namespace {

// ---- the server-default rules ----

json sound(const char *value) { return {{"set_tweak", "sound"}, {"value", value}}; }
json highlight() { return {{"set_tweak", "highlight"}}; }
json match(const char *key, const std::string &pattern) {
   return {{"kind", "event_match"}, {"key", key}, {"pattern", pattern}};
}
json rule(const char *id, json conditions, json actions, bool enabled = true) {
   return {{"rule_id", id}, {"default", true}, {"enabled", enabled}, {"conditions", std::move(conditions)},
           {"actions", std::move(actions)}};
}

// ---- matching ----

// Text as code points, ASCII letters lower-cased: '?' then matches one character, not one byte.
// A byte that does not start valid UTF-8 stands for itself.
std::u32string fold(std::string_view s) {
   std::u32string out;
   out.reserve(s.size());
   for (size_t i = 0; i < s.size();) {
      const auto b = static_cast<unsigned char>(s[i]);
      size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
      if (len > 1 && i + len <= s.size()) {
         char32_t c = b & (0x7F >> len);
         for (size_t k = 1; k < len; ++k) {
            const auto cont = static_cast<unsigned char>(s[i + k]);
            if ((cont & 0xC0) != 0x80) {
               len = 0;
               break;
            }
            c = (c << 6) | (cont & 0x3F);
         }
         if (len) {
            out.push_back(c);
            i += len;
            continue;
         }
      }
      out.push_back(static_cast<char32_t>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
   }
   return out;
}

// The spec's word characters: ASCII letters, digits and '_'.
bool is_word(char32_t c) {
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One pass over the pattern, keeping the set of value positions reachable so far: linear in
// the value per pattern character, so a long body cannot make matching quadratic or worse.
// literal: '*' and '?' are plain characters (display names).
bool match_folded(const std::u32string &p, const std::u32string &v, bool whole, bool literal) {
   const size_t n = v.size();
   std::vector<char> at(n + 1, 0);
   for (size_t i = 0; i <= n; ++i) at[i] = whole ? i == 0 : i == 0 || !is_word(v[i - 1]);
   for (const char32_t c : p) {
      std::vector<char> next(n + 1, 0);
      if (c == '*' && !literal) {
         bool seen = false; // every position from the first reachable one on
         for (size_t i = 0; i <= n; ++i) next[i] = seen = seen || at[i];
      } else {
         for (size_t i = 0; i < n; ++i)
            if (at[i] && ((c == '?' && !literal) || v[i] == c)) next[i + 1] = 1;
      }
      at.swap(next);
   }
   for (size_t j = 0; j <= n; ++j)
      if (at[j] && (whole ? j == n : j == n || !is_word(v[j]))) return true;
   return false;
}

bool is_scalar(const json &v) { return v.is_string() || v.is_number_integer() || v.is_boolean() || v.is_null(); }

// Exact equality without casts: 1 is not true nor "1"; signed and unsigned integers compare by value.
bool same_scalar(const json &a, const json &b) {
   if (a.is_number_integer() && b.is_number_integer()) return a == b;
   return a.type() == b.type() && a == b;
}

// "<=10" -> (op, 10); false when malformed.
bool parse_count(const std::string &is, std::string &op, int64_t &n) {
   size_t digits = 0;
   while (digits < is.size() && std::string_view("<>=").find(is[digits]) != std::string_view::npos) ++digits;
   op = is.substr(0, digits);
   if (op.empty()) op = "==";
   if (op != "==" && op != "<" && op != ">" && op != "<=" && op != ">=") return false;
   const std::string rest = is.substr(digits);
   if (rest.empty() || rest.size() > 15 || rest.find_first_not_of("0123456789") != std::string::npos) return false;
   n = std::stoll(rest);
   return true;
}

struct Facts {
   const json &event;
   const std::string &display_name;
   int64_t member_count;
   bool sender_may_notify_room;
};

bool condition_holds(const json &c, const Facts &f) {
   if (!c.is_object() || !c.contains("kind") || !c["kind"].is_string()) return false;
   const std::string kind = c["kind"];
   const json *key = c.contains("key") && c["key"].is_string() ? &c["key"] : nullptr;
   if (kind == "event_match") {
      if (!key || !c.contains("pattern") || !c["pattern"].is_string()) return false;
      const json *v = property(f.event, key->get<std::string>());
      return v && v->is_string() &&
             glob_match(c["pattern"].get<std::string>(), v->get<std::string>(), *key != "content.body");
   }
   if (kind == "event_property_is" || kind == "event_property_contains") {
      if (!key || !c.contains("value") || !is_scalar(c["value"])) return false;
      const json *v = property(f.event, key->get<std::string>());
      if (!v) return false;
      if (kind == "event_property_is") return is_scalar(*v) && same_scalar(*v, c["value"]);
      if (!v->is_array()) return false;
      for (const json &item : *v)
         if (is_scalar(item) && same_scalar(item, c["value"])) return true;
      return false;
   }
   if (kind == "contains_display_name") {
      const json *body = property(f.event, "content.body");
      return !f.display_name.empty() && body && body->is_string() &&
             match_folded(fold(f.display_name), fold(body->get<std::string>()), false, true);
   }
   if (kind == "room_member_count") {
      std::string op;
      int64_t n = 0;
      if (!c.contains("is") || !c["is"].is_string() || !parse_count(c["is"], op, n)) return false;
      const int64_t m = f.member_count;
      return op == "==" ? m == n : op == "<" ? m < n : op == ">" ? m > n : op == "<=" ? m <= n : m >= n;
   }
   if (kind == "sender_notification_permission") return key && *key == "room" && f.sender_may_notify_room;
   return false; // the spec: an unrecognised condition never matches
}

// Spec v1.7: these three only apply to events without m.mentions (intentional mentions).
bool is_legacy_mention_rule(const std::string &id) {
   return id == ".m.rule.contains_display_name" || id == ".m.rule.roomnotif" || id == ".m.rule.contains_user_name";
}

bool rule_matches(const std::string &kind, const json &r, const std::string &id, const Facts &f) {
   if (kind == "override" || kind == "underride") {
      const json conditions = r.value("conditions", json::array());
      if (!conditions.is_array()) return false;
      for (const json &c : conditions)
         if (!condition_holds(c, f)) return false;
      return true;
   }
   if (kind == "content") {
      const json *body = property(f.event, "content.body");
      return r.contains("pattern") && r["pattern"].is_string() && body && body->is_string() &&
             glob_match(r["pattern"].get<std::string>(), body->get<std::string>(), false);
   }
   const char *field = kind == "room" ? "room_id" : "sender";
   return f.event.contains(field) && f.event[field].is_string() && f.event[field] == id;
}

Outcome outcome_of(const json &actions, const std::string &id) {
   Outcome o;
   o.rule_id = id;
   o.actions = actions;
   if (!actions.is_array()) return o;
   bool tweak = false;
   for (const json &a : actions) {
      if (a == "notify") o.notify = true;
      if (a.is_object() && a.value("set_tweak", json()) == "highlight") tweak = a.value("value", json(true)) != false;
   }
   o.highlight = o.notify && tweak;
   return o;
}

void check_condition(const json &c) {
   auto bad = [](const std::string &why) { throw MatrixError(400, "M_INVALID_PARAM", "Invalid condition: " + why); };
   if (!c.is_object() || !c.contains("kind") || !c["kind"].is_string()) bad("each condition needs a string kind");
   const std::string kind = c["kind"];
   auto need_string = [&](const char *field) {
      if (!c.contains(field) || !c[field].is_string()) bad(kind + " needs a string " + field);
   };
   if (kind == "event_match") {
      need_string("key");
      need_string("pattern");
   } else if (kind == "event_property_is" || kind == "event_property_contains") {
      need_string("key");
      if (!c.contains("value") || !is_scalar(c["value"])) bad(kind + " needs a string, integer, boolean or null value");
   } else if (kind == "room_member_count") {
      std::string op;
      int64_t n = 0;
      need_string("is");
      if (!parse_count(c["is"], op, n)) bad("is must be a number, optionally after ==, <, >, <= or >=");
   } else if (kind == "sender_notification_permission") {
      need_string("key");
   }
   // Other kinds are stored as given: the spec has them never match, which clients may rely on.
}

} // namespace

bool is_kind(std::string_view kind) {
   for (const char *k : kinds)
      if (kind == k) return true;
   return false;
}

json default_ruleset(const std::string &user_id) {
   const std::string localpart = user_id.substr(1, user_id.find(':') - 1);
   const json mention_actions = {"notify", sound("default"), highlight()};
   json override_rules = json::array({
      rule(".m.rule.master", json::array(), json::array(), false),
      rule(".m.rule.suppress_notices", json::array({match("content.msgtype", "m.notice")}), json::array()),
      rule(".m.rule.invite_for_me",
           {match("type", "m.room.member"), match("content.membership", "invite"), match("state_key", user_id)},
           {"notify", sound("default")}),
      rule(".m.rule.member_event", json::array({match("type", "m.room.member")}), json::array()),
      rule(".m.rule.is_user_mention",
           {{{"kind", "event_property_contains"}, {"key", R"(content.m\.mentions.user_ids)"}, {"value", user_id}}},
           mention_actions),
      rule(".m.rule.contains_display_name", {{{"kind", "contains_display_name"}}}, mention_actions),
      rule(".m.rule.is_room_mention",
           {{{"kind", "event_property_is"}, {"key", R"(content.m\.mentions.room)"}, {"value", true}},
            {{"kind", "sender_notification_permission"}, {"key", "room"}}},
           {"notify", highlight()}),
      rule(".m.rule.roomnotif",
           {match("content.body", "@room"), {{"kind", "sender_notification_permission"}, {"key", "room"}}},
           {"notify", highlight()}),
      rule(".m.rule.tombstone", {match("type", "m.room.tombstone"), match("state_key", "")}, {"notify", highlight()}),
      rule(".m.rule.reaction", json::array({match("type", "m.reaction")}), json::array()),
      rule(".m.rule.room.server_acl", {match("type", "m.room.server_acl"), match("state_key", "")}, json::array()),
      rule(".m.rule.suppress_edits",
           {{{"kind", "event_property_is"}, {"key", R"(content.m\.relates_to.rel_type)"}, {"value", "m.replace"}}},
           json::array()),
   });
   const json content_rules = json::array({{{"rule_id", ".m.rule.contains_user_name"}, {"default", true},
                                            {"enabled", true}, {"pattern", localpart}, {"actions", mention_actions}}});
   const json one_to_one = {{"kind", "room_member_count"}, {"is", "2"}};
   json underride_rules = json::array({
      rule(".m.rule.call", json::array({match("type", "m.call.invite")}), {"notify", sound("ring")}),
      rule(".m.rule.encrypted_room_one_to_one", {one_to_one, match("type", "m.room.encrypted")},
           {"notify", sound("default")}),
      rule(".m.rule.room_one_to_one", {one_to_one, match("type", "m.room.message")}, {"notify", sound("default")}),
      rule(".m.rule.message", json::array({match("type", "m.room.message")}), json::array({"notify"})),
      rule(".m.rule.encrypted", json::array({match("type", "m.room.encrypted")}), json::array({"notify"})),
   });
   return {{"override", std::move(override_rules)}, {"content", content_rules}, {"room", json::array()},
           {"sender", json::array()}, {"underride", std::move(underride_rules)}};
}

json clean_actions(const json &actions) {
   if (!actions.is_array()) throw MatrixError(400, "M_INVALID_PARAM", "actions must be an array");
   json out = json::array();
   for (const json &a : actions) {
      // The spec's historical actions: accepted and dropped, so old clients keep working.
      if (a == "dont_notify" || a == "coalesce") continue;
      if (a == "notify" || (a.is_object() && a.contains("set_tweak") && a["set_tweak"].is_string())) {
         out.push_back(a);
         continue;
      }
      throw MatrixError(400, "M_INVALID_PARAM", "Unknown action " + a.dump());
   }
   return out;
}

json rule_from_request(const std::string &kind, const std::string &rule_id, const json &body) {
   if (!is_kind(kind)) throw MatrixError(400, "M_INVALID_PARAM", "Unknown push rule kind " + kind);
   if (rule_id.empty() || rule_id[0] == '.')
      throw MatrixError(400, "M_INVALID_PARAM", "Rule IDs starting with '.' are reserved for server-default rules");
   if (rule_id.find_first_of("/\\") != std::string::npos)
      throw MatrixError(400, "M_INVALID_PARAM", "Rule IDs may not contain '/' or '\\'");
   if (!body.is_object() || !body.contains("actions")) throw MatrixError(400, "M_INVALID_PARAM", "Missing actions");
   json r = {{"rule_id", rule_id}, {"default", false}, {"enabled", true}, {"actions", clean_actions(body["actions"])}};
   if (kind == "override" || kind == "underride") {
      // The spec makes conditions optional (none: the rule always matches); Synapse requires them.
      const json conditions = body.value("conditions", json::array());
      if (!conditions.is_array()) throw MatrixError(400, "M_INVALID_PARAM", "conditions must be an array");
      for (const json &c : conditions) check_condition(c);
      r["conditions"] = conditions;
   } else if (kind == "content") {
      if (!body.contains("pattern") || !body["pattern"].is_string())
         throw MatrixError(400, "M_INVALID_PARAM", "A content rule needs a string pattern");
      r["pattern"] = body["pattern"];
   }
   return r;
}

json stored_ruleset(State &state, const std::string &user_id) {
   auto user = state.account_data.find(user_id);
   if (user != state.account_data.end()) {
      auto item = user->second.find("m.push_rules");
      if (item != user->second.end() && item->second.content.is_object() && item->second.content.contains("global"))
         return item->second.content["global"];
   }
   return default_ruleset(user_id);
}

void store_ruleset(State &state, const std::string &user_id, json ruleset) {
   // NOTIFIER: the one place push rules take a stream position; next_stream_for wakes the
   // user's waiting /sync (App has no notify_account_data to call).
   const uint64_t stream = state.next_stream_for({user_id});
   state.account_data[user_id]["m.push_rules"] = {stream, {{"global", std::move(ruleset)}}};
}

bool seed_ruleset(State &state, const std::string &user_id) {
   auto user = state.account_data.find(user_id);
   if (user != state.account_data.end() && user->second.count("m.push_rules")) return false;
   store_ruleset(state, user_id, default_ruleset(user_id));
   return true;
}

std::optional<Outcome> evaluate(const json &rules, const json &event, const std::string &user_id,
                                const std::string &display_name, int64_t room_member_count,
                                bool sender_may_notify_room) {
   (void)user_id; // the stored rules already name the user (invite_for_me, is_user_mention)
   const json &set = rules.is_object() && rules.contains("global") ? rules["global"] : rules;
   if (!set.is_object() || !event.is_object()) return std::nullopt;
   const json *content = property(event, "content");
   const bool has_mentions = content && content->is_object() && content->contains("m.mentions");
   const Facts facts{event, display_name, room_member_count, sender_may_notify_room};
   for (const char *kind : kinds) {
      auto list = set.find(kind);
      if (list == set.end() || !list->is_array()) continue;
      for (const json &r : *list) {
         if (!r.is_object() || !r.contains("rule_id") || !r["rule_id"].is_string()) continue;
         if (r.contains("enabled") && r["enabled"] != true) continue;
         const std::string id = r["rule_id"];
         if (has_mentions && is_legacy_mention_rule(id)) continue;
         if (rule_matches(kind, r, id, facts)) return outcome_of(r.value("actions", json::array()), id);
      }
   }
   return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view value, bool whole) {
   return match_folded(fold(pattern), fold(value), whole, false);
}

const json *property(const json &event, std::string_view dotted_key) {
   // Split on unescaped dots: "\." is a dot inside a name and "\\" a backslash (spec appendix).
   std::vector<std::string> path(1);
   for (size_t i = 0; i < dotted_key.size(); ++i) {
      const char c = dotted_key[i];
      if (c == '\\' && i + 1 < dotted_key.size() && (dotted_key[i + 1] == '.' || dotted_key[i + 1] == '\\'))
         path.back() += dotted_key[++i];
      else if (c == '.') path.emplace_back();
      else path.back() += c;
   }
   const json *at = &event;
   for (const std::string &name : path) {
      if (!at->is_object()) return nullptr;
      auto it = at->find(name);
      if (it == at->end()) return nullptr;
      at = &*it;
   }
   return at;
}

} // namespace chat::push
