// api_profile.cpp - profiles, account data, presence and the user directory.
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

Response put_avatar_url(Ctx &ctx) {
   const std::string user_id = ctx.param("user_id");
   if (user_id != ctx.user_id && !ctx.is_admin) require_self(ctx, user_id);
   const json &body = ctx.body();
   std::optional<std::string> url;
   if (body.is_object() && body.contains("avatar_url") && !body["avatar_url"].is_null()) {
      url = require_string(body, "avatar_url");
      // An mxc URI, or empty for none (what clients send to remove it).
      if (url->empty()) url.reset();
      else if (url->rfind("mxc://", 0) != 0 || url->size() > 512)
         throw MatrixError(400, "M_INVALID_PARAM", "avatar_url must be an mxc:// URI of at most 512 bytes");
   }
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      if (!ctx.app.state().users.count(user_id)) throw MatrixError(404, "M_NOT_FOUND", "Unknown user");
   }
   set_avatar_url(ctx, user_id, url, user_id != ctx.user_id);
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
      const uint64_t stream = app.state().next_stream_for({user_id});
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

} // namespace

void add_profile_routes(std::vector<Route> &r) {
   r.push_back({"GET", client + "/profile/{user_id}", Access::user, [](Ctx &ctx) { return get_profile(ctx, nullptr); }});
   r.push_back({"GET", client + "/profile/{user_id}/displayname", Access::user,
                [](Ctx &ctx) { return get_profile(ctx, "displayname"); }});
   r.push_back({"PUT", client + "/profile/{user_id}/displayname", Access::user, put_displayname});
   r.push_back({"GET", client + "/profile/{user_id}/avatar_url", Access::user,
                [](Ctx &ctx) { return get_profile(ctx, "avatar_url"); }});
   r.push_back({"PUT", client + "/profile/{user_id}/avatar_url", Access::user, put_avatar_url});
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
}

} // namespace chat
