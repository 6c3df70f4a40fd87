// api_push.cpp - the push rules API (/pushrules). Each user's rules live whole in the account
// data m.push_rules (push_rules.hpp), so every change reaches /sync as that event.
#include "app.hpp"
#include "push_rules.hpp"
#include "unread.hpp"

#include <algorithm>

namespace chat {

namespace {

const std::string base = "/_matrix/client/v3/pushrules";

std::string checked_kind(const Ctx &ctx) {
   const std::string kind = ctx.param("kind");
   if (!push::is_kind(kind)) throw MatrixError(400, "M_INVALID_PARAM", "Unknown push rule kind " + kind);
   return kind;
}

// The position of rule_id among ruleset[kind], or -1.
long find_rule(const json &ruleset, const std::string &kind, const std::string &rule_id) {
   auto found = ruleset.find(kind);
   if (found == ruleset.end() || !found->is_array()) return -1;
   const json &list = *found;
   for (size_t i = 0; i < list.size(); ++i)
      if (list[i].value("rule_id", "") == rule_id) return static_cast<long>(i);
   return -1;
}

json &existing_rule(json &ruleset, const std::string &kind, const std::string &rule_id) {
   const long at = find_rule(ruleset, kind, rule_id);
   if (at < 0) throw MatrixError(404, "M_NOT_FOUND", "No push rule " + rule_id + " of kind " + kind);
   return ruleset[kind][static_cast<size_t>(at)];
}

Response get_all(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   return json_response({{"global", push::stored_ruleset(ctx.app.state(), ctx.user_id)}});
}

Response get_global(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   return json_response(push::stored_ruleset(ctx.app.state(), ctx.user_id));
}

Response get_kind(Ctx &ctx) {
   const std::string kind = checked_kind(ctx);
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   return json_response(push::stored_ruleset(ctx.app.state(), ctx.user_id)[kind]);
}

// GET .../{kind}/{rule_id}, or one attribute of it ("enabled", "actions") as {attr: value}.
Response get_rule(Ctx &ctx, const char *attr) {
   const std::string kind = checked_kind(ctx), rule_id = ctx.param("rule_id");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   json ruleset = push::stored_ruleset(ctx.app.state(), ctx.user_id);
   const json &r = existing_rule(ruleset, kind, rule_id);
   return json_response(attr ? json{{attr, r.value(attr, json())}} : r);
}

Response put_rule(Ctx &ctx) {
   const std::string kind = ctx.param("kind"), rule_id = ctx.param("rule_id");
   json r = push::rule_from_request(kind, rule_id, ctx.body());
   const auto before = ctx.query("before"), after = ctx.query("after");
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      State &state = ctx.app.state();
      json ruleset = push::stored_ruleset(state, ctx.user_id);
      json &list = ruleset[kind];
      if (!list.is_array()) list = json::array();
      const long existing = find_rule(ruleset, kind, rule_id);
      if (existing >= 0) r["enabled"] = list[static_cast<size_t>(existing)].value("enabled", true);
      // An update without before/after keeps its place; otherwise the rule is (re)inserted.
      if (existing >= 0 && !before && !after) {
         list[static_cast<size_t>(existing)] = std::move(r);
      } else {
         if (existing >= 0) list.erase(static_cast<size_t>(existing));
         // New rules go first among the user's rules: after .m.rule.master, before the defaults.
         size_t at = !list.empty() && list[0].value("rule_id", "") == ".m.rule.master" ? 1 : 0;
         if (before || after) {
            const std::string &anchor = before ? *before : *after; // the spec: before wins
            const long pos = find_rule(ruleset, kind, anchor);
            if (pos < 0 || anchor.empty() || anchor[0] == '.')
               throw MatrixError(400, "M_INVALID_PARAM", "before/after must name a user-defined " + kind + " rule");
            at = static_cast<size_t>(pos) + (before ? 0 : 1);
         }
         list.insert(list.begin() + static_cast<long>(at), std::move(r));
      }
      push::store_ruleset(state, ctx.user_id, std::move(ruleset));
   }
   return json_response(json::object());
}

Response delete_rule(Ctx &ctx) {
   const std::string kind = checked_kind(ctx), rule_id = ctx.param("rule_id");
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      State &state = ctx.app.state();
      json ruleset = push::stored_ruleset(state, ctx.user_id);
      existing_rule(ruleset, kind, rule_id); // 404 first
      if (rule_id[0] == '.')
         throw MatrixError(400, "M_INVALID_PARAM", "Server-default rules cannot be deleted; disable them instead");
      ruleset[kind].erase(static_cast<size_t>(find_rule(ruleset, kind, rule_id)));
      push::store_ruleset(state, ctx.user_id, std::move(ruleset));
   }
   return json_response(json::object());
}

// PUT .../enabled and .../actions: allowed on server-default rules too.
Response put_attr(Ctx &ctx, const char *attr) {
   const std::string kind = checked_kind(ctx), rule_id = ctx.param("rule_id");
   const json &body = ctx.body();
   json value;
   if (std::string(attr) == "enabled") {
      if (!body.contains("enabled") || !body["enabled"].is_boolean())
         throw MatrixError(400, "M_BAD_JSON", "enabled must be a boolean");
      value = body["enabled"];
   } else {
      if (!body.contains("actions")) throw MatrixError(400, "M_MISSING_PARAM", "Missing actions");
      value = push::clean_actions(body["actions"]);
   }
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      State &state = ctx.app.state();
      json ruleset = push::stored_ruleset(state, ctx.user_id);
      existing_rule(ruleset, kind, rule_id)[attr] = std::move(value);
      push::store_ruleset(state, ctx.user_id, std::move(ruleset));
   }
   return json_response(json::object());
}

// GET /notifications: the events that notified the user, newest first, across joined rooms,
// as their push rules decide (there are no pushers: this is the list a client shows).
// from: a previous next_token (a stream position); only=highlight keeps the highlights.
Response notifications(Ctx &ctx) {
   const int64_t limit = static_cast<int64_t>(std::clamp<uint64_t>(ctx.query_number("limit").value_or(50), 1, 1000));
   const uint64_t before = ctx.query_number("from").value_or(UINT64_MAX);
   const bool highlights_only = ctx.query("only") == std::optional<std::string>("highlight");
   struct Found {
      Event event;
      json actions;
      bool read;
   };
   std::vector<Found> found;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      State &s = ctx.app.state();
      for (const auto &room_id : s.rooms_of(ctx.user_id)) {
         int64_t taken = 0; // a page holds at most `limit` of one room's, its newest
         for_each_notification(s, room_id, ctx.user_id, false, [&](const Event &e, const push::Outcome &o, bool read) {
            if (e.stream >= before || (highlights_only && !o.highlight)) return true;
            found.push_back({e, o.actions, read});
            return ++taken < limit;
         });
      }
   }
   std::sort(found.begin(), found.end(), [](const Found &a, const Found &b) { return a.event.stream > b.event.stream; });
   if (static_cast<int64_t>(found.size()) > limit) found.resize(static_cast<size_t>(limit));
   json list = json::array();
   for (const auto &f : found)
      list.push_back({{"actions", f.actions}, {"event", ctx.app.serve_event(ctx, f.event)}, {"read", f.read},
                      {"room_id", f.event.room_id}, {"ts", f.event.origin_server_ts}});
   json out = {{"notifications", list}};
   if (static_cast<int64_t>(found.size()) == limit) out["next_token"] = std::to_string(found.back().event.stream);
   return json_response(out);
}

} // namespace

void add_push_routes(std::vector<Route> &r) {
   // Both forms: the spec's path ends in '/', some clients drop it.
   r.push_back({"GET", base + "/", Access::user, get_all});
   r.push_back({"GET", base, Access::user, get_all});
   r.push_back({"GET", base + "/global/", Access::user, get_global});
   r.push_back({"GET", base + "/global", Access::user, get_global});
   r.push_back({"GET", base + "/global/{kind}/", Access::user, get_kind});
   const std::string rule = base + "/global/{kind}/{rule_id}";
   r.push_back({"GET", rule, Access::user, [](Ctx &ctx) { return get_rule(ctx, nullptr); }});
   r.push_back({"PUT", rule, Access::user, put_rule});
   r.push_back({"DELETE", rule, Access::user, delete_rule});
   r.push_back({"GET", rule + "/enabled", Access::user, [](Ctx &ctx) { return get_rule(ctx, "enabled"); }});
   r.push_back({"PUT", rule + "/enabled", Access::user, [](Ctx &ctx) { return put_attr(ctx, "enabled"); }});
   r.push_back({"GET", rule + "/actions", Access::user, [](Ctx &ctx) { return get_rule(ctx, "actions"); }});
   r.push_back({"PUT", rule + "/actions", Access::user, [](Ctx &ctx) { return put_attr(ctx, "actions"); }});
   r.push_back({"GET", "/_matrix/client/v3/notifications", Access::user, notifications});
}

} // namespace chat
