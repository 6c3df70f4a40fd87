// api_profile.cpp - profiles, account data, presence, the user directory and /sync.
#include "accounts.hpp"

#include <algorithm>
#include <cctype>

namespace chat {

namespace {

const std::string client = "/_matrix/client/v3";

void require_self(const Ctx &ctx, const std::string &user_id) {
   if (user_id != ctx.user_id) throw MatrixError(403, "M_FORBIDDEN", "Cannot change another user's data");
}

Response get_profile(Ctx &ctx, const char *field) {
   const std::string user_id = ctx.param("user_id");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   auto user = ctx.app.state().users.find(user_id);
   if (user == ctx.app.state().users.end() || user->second.deactivated)
      throw MatrixError(404, "M_NOT_FOUND", "Profile was not found");
   json out = json::object();
   if (!user->second.display_name.empty()) out["displayname"] = user->second.display_name;
   if (user->second.avatar_url) out["avatar_url"] = *user->second.avatar_url;
   if (field && !out.contains(field)) throw MatrixError(404, "M_NOT_FOUND", std::string("No ") + field + " set");
   return json_response(field ? json{{field, out[field]}} : out);
}

Response put_displayname(Ctx &ctx) {
   const std::string user_id = ctx.param("user_id");
   if (user_id != ctx.user_id && !ctx.is_admin) require_self(ctx, user_id);
   const std::string name = require_string(ctx.body(), "displayname");
   if (name.size() > 256) throw MatrixError(400, "M_BAD_JSON", "displayname is too long (at most 256 bytes)");
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      if (!ctx.app.state().users.count(user_id)) throw MatrixError(404, "M_NOT_FOUND", "Unknown user");
   }
   set_display_name(ctx, user_id, name, user_id != ctx.user_id);
   return json_response(json::object());
}

Response put_account_data(Ctx &ctx, bool in_room) {
   App &app = ctx.app;
   const std::string user_id = ctx.param("user_id"), type = ctx.param("type");
   require_self(ctx, user_id);
   const json content = ctx.body();
   std::optional<std::string> room;
   if (in_room) room = ctx.param("room_id");
   if (type == "m.fully_read" || type == "m.push_rules")
      throw MatrixError(400, "M_BAD_JSON", "Cannot set " + type + " through the account data API");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      const uint64_t stream = app.state().next_stream();
      if (room) app.state().room_account_data[user_id][*room][type] = {stream, content};
      else app.state().account_data[user_id][type] = {stream, content};
   }
   app.modules().on_account_data_updated(ctx.call, user_id, room, type, content);
   return json_response(json::object());
}

Response get_account_data(Ctx &ctx, bool in_room) {
   const std::string user_id = ctx.param("user_id"), type = ctx.param("type");
   require_self(ctx, user_id);
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   State &s = ctx.app.state();
   const auto &items = in_room ? s.room_account_data[user_id][ctx.param("room_id")] : s.account_data[user_id];
   auto it = items.find(type);
   if (it == items.end()) throw MatrixError(404, "M_NOT_FOUND", "Account data not found");
   return json_response(it->second.content);
}

Response put_presence(Ctx &ctx) {
   App &app = ctx.app;
   const std::string user_id = ctx.param("user_id");
   require_self(ctx, user_id);
   const std::string state = require_string(ctx.body(), "presence");
   if (state != "online" && state != "offline" && state != "unavailable")
      throw MatrixError(400, "M_INVALID_PARAM", "presence must be online, offline or unavailable");
   Presence p;
   p.presence = state;
   p.status_msg = optional_string(ctx.body(), "status_msg");
   p.last_active_ts = now_ms();
   p.currently_active = state == "online";
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      app.state().presence[user_id] = p;
   }
   const auto recipients = app.route_presence(ctx, user_id, p);
   std::string list;
   for (const auto &r : recipients) list += (list.empty() ? "" : ", ") + r;
   ctx.trace.note("presence of " + user_id + " delivered to " + list);
   return json_response(json::object());
}

Response get_presence(Ctx &ctx) {
   App &app = ctx.app;
   const std::string user_id = ctx.param("user_id");
   if (!app.presence_visible(ctx, ctx.user_id, user_id))
      throw MatrixError(403, "M_FORBIDDEN", "You are not allowed to see their presence.");
   std::lock_guard<std::mutex> lock(app.state().mutex);
   const Presence p = app.state().presence.count(user_id) ? app.state().presence[user_id] : Presence{};
   json out = {{"presence", p.presence}, {"currently_active", p.currently_active}};
   if (p.last_active_ts) out["last_active_ago"] = std::max<int64_t>(0, now_ms() - p.last_active_ts);
   if (p.status_msg) out["status_msg"] = *p.status_msg;
   return json_response(out);
}

Response search_users(Ctx &ctx) {
   App &app = ctx.app;
   std::string term = require_string(ctx.body(), "search_term");
   std::transform(term.begin(), term.end(), term.begin(), [](unsigned char c) { return std::tolower(c); });
   int64_t limit = 10;
   if (ctx.body().contains("limit")) {
      if (!ctx.body()["limit"].is_number_unsigned()) throw MatrixError(400, "M_BAD_JSON", "limit must be a positive integer");
      limit = std::min<int64_t>(ctx.body()["limit"].get<int64_t>(), 50);
   }
   struct Candidate {
      std::string user_id, display_name;
      std::optional<std::string> avatar;
   };
   std::vector<Candidate> found;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      State &s = app.state();
      for (const auto &[id, text] : s.directory) {
         if (text.find(term) == std::string::npos) continue;
         bool visible = app.config().user_directory_search_all_users || id == ctx.user_id || s.share_room(id, ctx.user_id);
         for (const auto &room : s.rooms_of(id))
            if (!visible && s.join_rule(room) == "public") visible = true;
         const User &u = s.users[id];
         if (visible) found.push_back({id, u.display_name, u.avatar_url});
      }
   }
   json results = json::array();
   bool limited = false;
   for (const auto &c : found) {
      // A module may hide a user from this requester's results.
      const auto hidden = app.modules().check_username_for_spam(ctx.call, c.user_id, c.display_name, c.avatar, ctx.user_id);
      app.check(hidden, "check_username_for_spam");
      if (hidden.answer) continue;
      if (static_cast<int64_t>(results.size()) >= limit) {
         limited = true;
         break;
      }
      json r = {{"user_id", c.user_id}, {"display_name", c.display_name}};
      if (c.avatar) r["avatar_url"] = *c.avatar;
      results.push_back(r);
   }
   return json_response({{"results", results}, {"limited", limited}});
}

// A minimal /sync: joined rooms' new events, invites, presence and account data since a token.
// It answers at once (no long polling).
Response sync(Ctx &ctx) {
   App &app = ctx.app;
   uint64_t since = 0;
   if (auto s = ctx.query("since")) {
      if (s->size() < 2 || (*s)[0] != 's' || s->size() > 20 || s->find_first_not_of("0123456789", 1) != std::string::npos)
         throw MatrixError(400, "M_INVALID_PARAM", "Invalid since token");
      since = std::stoull(s->substr(1));
   }
   std::map<std::string, std::vector<Event>> timelines, invites;
   std::vector<PresenceDelivery> presence;
   json account_data = json::array();
   uint64_t next = 0;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      State &s = app.state();
      next = s.stream();
      for (const auto &[id, room] : s.rooms) {
         const auto m = s.membership(id, ctx.user_id);
         if (m == std::optional<std::string>("join")) {
            auto &list = timelines[id];
            for (const Event *e : s.visible_timeline(id, ctx.user_id))
               if (e->stream > since) list.push_back(*e);
            if (list.size() > 50) list.erase(list.begin(), list.end() - 50);
         } else if (m == std::optional<std::string>("invite")) {
            for (const auto &[key, eid] : room.state) {
               const Event &e = s.events[eid];
               if (key.first == "m.room.create" || key.first == "m.room.name" || key.first == "m.room.join_rules" ||
                   (key.first == "m.room.member" && key.second == ctx.user_id))
                  invites[id].push_back(e);
            }
         }
      }
      for (const auto &d : s.presence_inbox[ctx.user_id])
         if (d.stream > since) presence.push_back(d);
      for (const auto &[type, item] : s.account_data[ctx.user_id])
         if (item.stream > since) account_data.push_back({{"type", type}, {"content", item.content}});
   }
   json join = json::object(), invite = json::object();
   for (const auto &[id, events] : timelines) {
      json served = json::array();
      for (const auto &e : events) served.push_back(app.serve_event(ctx, e));
      join[id] = {{"timeline", {{"events", served}, {"limited", false}}}, {"state", {{"events", json::array()}}}};
   }
   for (const auto &[id, events] : invites) {
      json stripped = json::array();
      for (const auto &e : events)
         stripped.push_back({{"type", e.type}, {"state_key", e.state_key.value_or("")}, {"sender", e.sender}, {"content", e.content}});
      invite[id] = {{"invite_state", {{"events", stripped}}}};
   }
   json presence_events = json::array();
   for (const auto &d : presence) {
      json content = {{"presence", d.presence.presence}, {"currently_active", d.presence.currently_active}};
      if (d.presence.status_msg) content["status_msg"] = *d.presence.status_msg;
      presence_events.push_back({{"type", "m.presence"}, {"sender", d.user_id}, {"content", content}});
   }
   return json_response({{"next_batch", "s" + std::to_string(next)},
                         {"rooms", {{"join", join}, {"invite", invite}, {"leave", json::object()}}},
                         {"presence", {{"events", presence_events}}},
                         {"account_data", {{"events", account_data}}}});
}

} // namespace

void add_profile_routes(std::vector<Route> &r) {
   r.push_back({"GET", client + "/profile/{user_id}", Access::user, [](Ctx &ctx) { return get_profile(ctx, nullptr); }});
   r.push_back({"GET", client + "/profile/{user_id}/displayname", Access::user,
                [](Ctx &ctx) { return get_profile(ctx, "displayname"); }});
   r.push_back({"PUT", client + "/profile/{user_id}/displayname", Access::user, put_displayname});
   r.push_back({"PUT", client + "/user/{user_id}/account_data/{type}", Access::user,
                [](Ctx &ctx) { return put_account_data(ctx, false); }});
   r.push_back({"GET", client + "/user/{user_id}/account_data/{type}", Access::user,
                [](Ctx &ctx) { return get_account_data(ctx, false); }});
   r.push_back({"PUT", client + "/user/{user_id}/rooms/{room_id}/account_data/{type}", Access::user,
                [](Ctx &ctx) { return put_account_data(ctx, true); }});
   r.push_back({"GET", client + "/user/{user_id}/rooms/{room_id}/account_data/{type}", Access::user,
                [](Ctx &ctx) { return get_account_data(ctx, true); }});
   r.push_back({"PUT", client + "/presence/{user_id}/status", Access::user, put_presence});
   r.push_back({"GET", client + "/presence/{user_id}/status", Access::user, get_presence});
   r.push_back({"POST", client + "/user_directory/search", Access::user, search_users});
   r.push_back({"GET", client + "/sync", Access::user, sync});
}

} // namespace chat
