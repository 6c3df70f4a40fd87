// api_rooms.cpp - createRoom, invite (users and third-party identifiers), join, leave, message
// and state events, room messages, aliases and the public room directory.
#include "accounts.hpp"
#include "module_refusal.hpp"
#include "sync_filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace chat {

namespace {

const std::string client = "/_matrix/client/v3";

void require_room(App &app, const std::string &room_id) {
   std::lock_guard<std::mutex> lock(app.state().mutex);
   auto room = app.state().rooms.find(room_id);
   if (room == app.state().rooms.end()) throw MatrixError(404, "M_NOT_FOUND", "Unknown room " + room_id);
   if (room->second.shut_down) throw MatrixError(403, "M_FORBIDDEN", "This room has been shut down");
}

void require_joined(App &app, const std::string &room_id, const std::string &user_id) {
   require_room(app, room_id);
   std::lock_guard<std::mutex> lock(app.state().mutex);
   if (app.state().membership(room_id, user_id) != std::optional<std::string>("join"))
      throw MatrixError(403, "M_FORBIDDEN", "User " + user_id + " not in room " + room_id);
}

int64_t power_level(const State &state, const std::string &room_id, const std::string &user_id) {
   const Event *pl = state.state_event(room_id, "m.room.power_levels", "");
   if (!pl) return 0;
   const json users = pl->content.value("users", json::object());
   if (users.contains(user_id) && users[user_id].is_number_integer()) return users[user_id].get<int64_t>();
   return pl->content.value("users_default", int64_t{0});
}

int64_t required_level(const State &state, const std::string &room_id, const std::string &type) {
   const Event *pl = state.state_event(room_id, "m.room.power_levels", "");
   if (!pl) return 0;
   const json events = pl->content.value("events", json::object());
   if (events.contains(type) && events[type].is_number_integer()) return events[type].get<int64_t>();
   return pl->content.value("state_default", int64_t{50});
}

void refuse_spam(const Decision<modkit_spam_result> &d, const std::string &what) {
   if (d.answer != MODKIT_NOT_SPAM)
      throw module_refusal(d, 403, modkit_spam_result_errcode(d.answer), what + " (module '" + d.module + "')");
}

Event make_event(App &app, const std::string &room_id, const std::string &sender, const std::string &type,
                 json content, std::optional<std::string> state_key = std::nullopt) {
   Event e;
   e.room_id = room_id;
   e.sender = sender;
   e.type = type;
   e.content = std::move(content);
   e.state_key = std::move(state_key);
   e.origin = app.config().server_name;
   return e;
}

std::string member_name(App &app, const std::string &user_id) {
   std::lock_guard<std::mutex> lock(app.state().mutex);
   auto u = app.state().users.find(user_id);
   return u == app.state().users.end() ? user_id : u->second.display_name;
}

// The three invite rate limiters, each with the modules' override for the inviter.
void ratelimit_invite(Ctx &ctx, const std::string &room_id, const std::string &invitee) {
   if (!ctx.ratelimited) return;
   App &app = ctx.app;
   const HostConfig &c = app.config();
   const struct {
      const char *name;
      std::string key;
      RateLimitConfig config;
   } limiters[] = {{"rc_invites.per_room", room_id, c.rc_invites_per_room},
                   {"rc_invites.per_user", invitee, c.rc_invites_per_user},
                   {"rc_invites.per_issuer", ctx.user_id, c.rc_invites_per_issuer}};
   for (const auto &l : limiters) {
      const auto over = app.modules().get_ratelimit_override_for_user(ctx.call, ctx.user_id, l.name);
      app.check(over, "get_ratelimit_override_for_user");
      const double rate = over.answer ? over.answer->per_second : l.config.per_second;
      const int64_t burst = over.answer ? over.answer->burst_count : l.config.burst_count;
      int64_t retry = 0;
      if (!app.ratelimiter().allow(std::string(l.name) + "|" + l.key, rate, burst, now_ms(), retry))
         throw MatrixError(429, "M_LIMIT_EXCEEDED", fmt::format("Too many invites ({})", l.name),
                           {{"retry_after_ms", retry}});
   }
}

// is_direct marks the invite as one to a direct chat (createRoom's is_direct), as clients and
// modules read it from the invite's content.
void invite_user(Ctx &ctx, const std::string &room_id, const std::string &invitee, bool is_direct = false) {
   App &app = ctx.app;
   if (!valid_user_id(invitee)) throw MatrixError(400, "M_INVALID_PARAM", "Invalid user ID " + invitee);
   require_joined(app, room_id, ctx.user_id);
   bool shadow_banned = false;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      const auto m = app.state().membership(room_id, invitee);
      if (m == std::optional<std::string>("join")) throw MatrixError(403, "M_FORBIDDEN", invitee + " is already in the room.");
      if (m == std::optional<std::string>("ban")) throw MatrixError(403, "M_FORBIDDEN", invitee + " is banned from the room");
      shadow_banned = app.state().users[ctx.user_id].shadow_banned;
   }
   ratelimit_invite(ctx, room_id, invitee);
   if (shadow_banned) {
      ctx.trace.note("inviter is shadow-banned: the invite is dropped silently");
      return;
   }
   refuse_spam(app.modules().user_may_invite(ctx.call, ctx.user_id, invitee, room_id), "Invite refused");
   json content = {{"membership", "invite"}};
   if (is_direct) content["is_direct"] = true;
   app.send_event(ctx, make_event(app, room_id, ctx.user_id, "m.room.member", std::move(content), invitee),
                  {false, true});
}

// initial_state's shape. Memberships come from the membership endpoints only: the creator could
// otherwise put anyone into the room (and into their joined rooms).
void check_initial_state(const json &config) {
   const json initial_state = config.value("initial_state", json::array());
   if (!initial_state.is_array()) throw MatrixError(400, "M_BAD_JSON", "initial_state must be an array");
   for (const auto &e : initial_state) {
      if (!e.is_object() || !e.value("type", json()).is_string() || !e.value("content", json()).is_object() ||
          !e.value("state_key", json("")).is_string())
         throw MatrixError(400, "M_BAD_JSON", "initial_state items need a type, a content object and a string state_key");
      if (e["type"] == "m.room.member")
         throw MatrixError(400, "M_INVALID_PARAM", "initial_state cannot hold m.room.member events; use invite");
   }
}

Response create_room(Ctx &ctx) {
   App &app = ctx.app;
   ModuleHost &modules = app.modules();
   json config = ctx.body();
   check_initial_state(config);
   const auto spam = modules.user_may_create_room(ctx.call, ctx.user_id, config);
   app.check(spam, "user_may_create_room");
   refuse_spam(spam, "You are not permitted to create rooms");
   RequesterArg requester{ctx.user_id, ctx.device_id, false, false};
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      requester.shadow_banned = app.state().users[ctx.user_id].shadow_banned;
   }
   const auto rules = modules.on_create_room(ctx.call, requester, config, ctx.is_admin);
   if (rules.answer == MODKIT_CREATE_ROOM_DENY || rules.outcome.kind == modkit::Outcome::Kind::failed_closed)
      throw module_refusal(rules, 403, "M_FORBIDDEN", "Room creation forbidden with these parameters (module '" + rules.module + "')");
   check_initial_state(config); // again: a module may have edited the request
   const json initial_state = config.value("initial_state", json::array());
   // From here on the body is what the modules left.
   std::string room_id;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      room_id = app.state().new_id('!');
   }
   std::optional<std::string> alias;
   if (config.contains("room_alias_name")) {
      alias = "#" + require_string(config, "room_alias_name") + ":" + app.config().server_name;
      if (!valid_room_alias(*alias, app.config().limits.max_identifier_length) || alias->find(':') != alias->rfind(':'))
         throw MatrixError(400, "M_INVALID_PARAM", "Invalid room_alias_name");
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         if (app.state().aliases.count(*alias)) throw MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken");
      }
      const auto may = modules.user_may_create_room_alias(ctx.call, ctx.user_id, *alias);
      app.check(may, "user_may_create_room_alias");
      refuse_spam(may, "You are not permitted to create this alias");
   }
   const std::string visibility = config.value("visibility", "private");
   if (visibility != "public" && visibility != "private")
      throw MatrixError(400, "M_INVALID_PARAM", "visibility must be \"public\" or \"private\"");
   if (visibility == "public") {
      const auto may = modules.user_may_publish_room(ctx.call, ctx.user_id, room_id);
      app.check(may, "user_may_publish_room");
      refuse_spam(may, "You are not permitted to publish rooms");
   }
   const std::string preset = config.value("preset", visibility == "public" ? "public_chat" : "private_chat");
   json power = {{"users", {{ctx.user_id, 100}}}, {"users_default", 0}, {"events_default", 0}, {"state_default", 50},
                 {"invite", 0}, {"kick", 50}, {"ban", 50}, {"redact", 50}};
   if (config.contains("power_level_content_override") && config["power_level_content_override"].is_object())
      power.update(config["power_level_content_override"]);
   json create = {{"creator", ctx.user_id}, {"room_version", "10"}};
   if (config.contains("creation_content") && config["creation_content"].is_object()) create.update(config["creation_content"]);

   std::vector<Event> initial = {
      make_event(app, room_id, ctx.user_id, "m.room.create", create, ""),
      make_event(app, room_id, ctx.user_id, "m.room.member",
                 {{"membership", "join"}, {"displayname", member_name(app, ctx.user_id)}}, ctx.user_id),
      make_event(app, room_id, ctx.user_id, "m.room.power_levels", power, ""),
      make_event(app, room_id, ctx.user_id, "m.room.join_rules",
                 {{"join_rule", preset == "public_chat" ? "public" : "invite"}}, ""),
      make_event(app, room_id, ctx.user_id, "m.room.history_visibility", {{"history_visibility", "shared"}}, "")};
   for (const auto &e : initial_state) {
      initial.push_back(make_event(app, room_id, ctx.user_id, e["type"], e["content"], e.value("state_key", "")));
   }
   if (config.contains("name"))
      initial.push_back(make_event(app, room_id, ctx.user_id, "m.room.name", {{"name", require_string(config, "name")}}, ""));
   if (config.contains("topic"))
      initial.push_back(make_event(app, room_id, ctx.user_id, "m.room.topic", {{"topic", require_string(config, "topic")}}, ""));
   // Every event is checked before the room exists, so a refusal leaves nothing behind.
   for (const auto &e : initial) app.check_event(e);
   for (const auto &invitee : config.value("invite", json::array()))
      if (!invitee.is_string() || !valid_user_id(invitee.get<std::string>()))
         throw MatrixError(400, "M_INVALID_PARAM", "invite must list valid user IDs");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      Room &room = app.state().rooms[room_id];
      room.room_id = room_id;
      room.creator = ctx.user_id;
   }
   for (auto &e : initial) app.send_event(ctx, std::move(e), {false, false});
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      Room &room = app.state().rooms[room_id];
      room.published = visibility == "public";
      if (alias) {
         app.state().aliases[*alias] = room_id;
         room.aliases.insert(*alias);
      }
   }
   const bool is_direct = config.value("is_direct", json(false)) == json(true);
   for (const auto &invitee : config.value("invite", json::array())) {
      if (!invitee.is_string()) throw MatrixError(400, "M_BAD_JSON", "invite must list user IDs");
      invite_user(ctx, room_id, invitee.get<std::string>(), is_direct);
   }
   json out = {{"room_id", room_id}};
   if (alias) out["room_alias"] = *alias;
   return json_response(out);
}

Response invite(Ctx &ctx) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id");
   const json &body = ctx.body();
   if (body.contains("user_id")) {
      invite_user(ctx, room_id, require_string(body, "user_id"));
      return json_response(json::object());
   }
   // A third-party identifier invite.
   const std::string medium = require_string(body, "medium"), address = require_string(body, "address");
   require_string(body, "id_server");
   require_joined(app, room_id, ctx.user_id);
   json state;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      state = app.state().state_json(room_id);
   }
   const auto can = app.modules().check_threepid_can_be_invited(ctx.call, medium, address, state);
   if (!can.answer) throw module_refusal(can, 403, "M_FORBIDDEN", "Cannot invite this 3PID (module '" + can.module + "')");
   std::optional<std::string> bound;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      bound = app.state().user_for_threepid(medium, address);
   }
   if (bound) {
      // The identifier belongs to a user: an ordinary invite, checked by user_may_invite.
      ctx.trace.note(address + " belongs to " + *bound);
      invite_user(ctx, room_id, *bound);
      return json_response(json::object());
   }
   const auto may = app.modules().user_may_send_3pid_invite(ctx.call, ctx.user_id, medium, address, room_id);
   app.check(may, "user_may_send_3pid_invite");
   refuse_spam(may, "Cannot send threepid invite");
   std::string token;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      token = app.state().new_id('D');
   }
   const std::string masked = address.substr(0, std::min<size_t>(3, address.size())) + "...";
   app.send_event(ctx, make_event(app, room_id, ctx.user_id, "m.room.third_party_invite",
                                  {{"display_name", masked}, {"key_validity_url", ""}, {"public_key", ""}}, token),
                  {true, true});
   return json_response(json::object());
}

std::string resolve_room(App &app, const std::string &id_or_alias) {
   if (id_or_alias.empty() || id_or_alias[0] != '#') return id_or_alias;
   std::lock_guard<std::mutex> lock(app.state().mutex);
   auto it = app.state().aliases.find(id_or_alias);
   if (it == app.state().aliases.end()) throw MatrixError(404, "M_NOT_FOUND", "Room alias " + id_or_alias + " not found");
   return it->second;
}

Response join_room(Ctx &ctx, const std::string &room_id) {
   App &app = ctx.app;
   require_room(app, room_id);
   bool invited = false;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      const auto m = app.state().membership(room_id, ctx.user_id);
      if (m == std::optional<std::string>("join")) return json_response({{"room_id", room_id}});
      if (m == std::optional<std::string>("ban")) throw MatrixError(403, "M_FORBIDDEN", "You are banned from this room");
      if (app.state().rooms[room_id].blocked) throw MatrixError(403, "M_FORBIDDEN", "This room has been blocked");
      invited = m == std::optional<std::string>("invite");
      if (!invited && app.state().join_rule(room_id) != "public")
         throw MatrixError(403, "M_FORBIDDEN", "You are not invited to this room.");
   }
   const auto may = app.modules().user_may_join_room(ctx.call, ctx.user_id, room_id, invited);
   app.check(may, "user_may_join_room");
   refuse_spam(may, "You are not allowed to join this room");
   app.send_event(ctx, make_event(app, room_id, ctx.user_id, "m.room.member",
                                  {{"membership", "join"}, {"displayname", member_name(app, ctx.user_id)}}, ctx.user_id),
                  {false, false});
   return json_response({{"room_id", room_id}});
}

Response leave(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id");
   require_joined(ctx.app, room_id, ctx.user_id);
   ctx.app.send_event(ctx, make_event(ctx.app, room_id, ctx.user_id, "m.room.member", {{"membership", "leave"}}, ctx.user_id),
                      {false, false});
   return json_response(json::object());
}

Response send_message(Ctx &ctx) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id");
   require_joined(app, room_id, ctx.user_id);
   const std::string txn_key = ctx.access_token + "|" + room_id + "|" + ctx.param("txn_id");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (const std::string *seen = app.state().txn_events.find(txn_key, now_ms())) return json_response({{"event_id", *seen}});
   }
   const std::string id = app.send_event(ctx, make_event(app, room_id, ctx.user_id, ctx.param("event_type"), ctx.body()),
                                         {true, true});
   std::lock_guard<std::mutex> lock(app.state().mutex);
   app.state().txn_events.remember(txn_key, id, now_ms());
   return json_response({{"event_id", id}});
}

Response send_state(Ctx &ctx, const std::string &state_key) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id"), type = ctx.param("event_type");
   if (type == "m.room.member") throw MatrixError(400, "M_BAD_JSON", "Use the membership endpoints (join, invite, leave)");
   require_joined(app, room_id, ctx.user_id);
   const json content = ctx.body();
   std::string old_rule;
   json state;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      const State &s = app.state();
      if (power_level(s, room_id, ctx.user_id) < required_level(s, room_id, type))
         throw MatrixError(403, "M_FORBIDDEN", "You don't have permission to post that to the room.");
      old_rule = s.join_rule(room_id);
      state = s.state_json(room_id);
   }
   const auto may = app.modules().user_may_send_state_event(ctx.call, ctx.user_id, room_id, type, state_key, content);
   app.check(may, "user_may_send_state_event");
   refuse_spam(may, "You are not allowed to send this state event");
   if (type == "m.room.join_rules" && state_key.empty()) {
      // Opening a room to everyone (or closing it) changes who can find and join it.
      const std::string new_rule = content.value("join_rule", "");
      if ((old_rule == "public") != (new_rule == "public")) {
         const auto can = app.modules().check_visibility_can_be_modified(ctx.call, room_id, state,
                                                                         new_rule == "public" ? "public" : "private");
         if (!can.answer)
            throw module_refusal(can, 403, "M_FORBIDDEN", "Changing the room's visibility is not allowed (module '" + can.module + "')");
      }
   }
   const std::string id = app.send_event(ctx, make_event(app, room_id, ctx.user_id, type, content, state_key), {true, true});
   return json_response({{"event_id", id}});
}

Response get_state_event(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id");
   require_joined(ctx.app, room_id, ctx.user_id);
   const std::string key = ctx.params.count("state_key") ? ctx.param("state_key") : "";
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const Event *e = ctx.app.state().state_event(room_id, ctx.param("event_type"), key);
   if (!e) throw MatrixError(404, "M_NOT_FOUND", "Event not found.");
   return json_response(e->content);
}

Response room_state(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id");
   require_joined(ctx.app, room_id, ctx.user_id);
   std::vector<Event> events;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      for (const auto &[key, id] : ctx.app.state().rooms[room_id].state) events.push_back(ctx.app.state().events[id]);
   }
   json out = json::array();
   for (const auto &e : events) out.push_back(ctx.app.serve_event(ctx, e));
   return json_response(out);
}

// Pages through the requester's visible timeline by stream tokens ("s<N>", as /sync gives):
// backwards from `from` takes events at or before N, forwards events after it.
Response messages(Ctx &ctx) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id");
   require_room(app, room_id);
   const std::string dir = ctx.query("dir").value_or("b");
   if (dir != "b" && dir != "f") throw MatrixError(400, "M_INVALID_PARAM", "dir must be b or f");
   const int64_t limit = static_cast<int64_t>(std::clamp<uint64_t>(ctx.query_number("limit").value_or(10), 1, 1000));
   RoomEventFilter filter;
   if (auto f = ctx.query("filter")) {
      json definition;
      try {
         definition = json::parse(*f);
      } catch (const json::exception &) {
         throw MatrixError(400, "M_BAD_JSON", "filter is not valid JSON");
      }
      filter = parse_room_event_filter(definition);
   }
   const bool backwards = dir == "b";
   std::optional<uint64_t> from, to;
   if (auto f = ctx.query("from")) from = parse_stream_token(*f, "from");
   if (auto t = ctx.query("to")) to = parse_stream_token(*t, "to");
   std::vector<Event> page, members;
   uint64_t start = 0, end = 0;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      const State &s = app.state();
      // Members, and those who left or were banned (they keep what they could see then), as
      // Synapse allows; anyone else only in a world-readable room.
      const auto m = s.membership(room_id, ctx.user_id).value_or("");
      const Event *hv = s.state_event(room_id, "m.room.history_visibility", "");
      const bool world_readable = hv && hv->content.value("history_visibility", json()) == "world_readable";
      if (m != "join" && m != "leave" && m != "ban" && !world_readable)
         throw MatrixError(403, "M_FORBIDDEN", "User " + ctx.user_id + " not in room " + room_id);
      const std::vector<const Event *> visible = s.visible_timeline(room_id, ctx.user_id);
      start = from.value_or(backwards ? s.stream() : 0);
      end = start;
      const auto take = [&](const Event *e) {
         if (static_cast<int64_t>(page.size()) >= limit) return false;
         if (to && (backwards ? e->stream <= *to : e->stream > *to)) return false;
         end = backwards ? e->stream - 1 : e->stream;
         if (filter.matches(e->type, e->sender)) page.push_back(*e);
         return true;
      };
      if (backwards) {
         for (auto it = visible.rbegin(); it != visible.rend(); ++it)
            if ((*it)->stream <= start && !take(*it)) break;
      } else {
         for (const Event *e : visible)
            if (e->stream > start && !take(e)) break;
      }
      if (filter.lazy_load_members) {
         std::set<std::string> senders;
         for (const auto &e : page) senders.insert(e.sender);
         for (const auto &sender : senders)
            if (const Event *member = s.state_event(room_id, "m.room.member", sender)) members.push_back(*member);
      }
   }
   json chunk = json::array();
   for (const auto &e : page) chunk.push_back(app.serve_event(ctx, e));
   json out = {{"chunk", chunk}, {"start", "s" + std::to_string(start)}};
   // No end once the history is exhausted: the client stops paginating.
   if (end != start) out["end"] = "s" + std::to_string(end);
   if (filter.lazy_load_members) {
      json state = json::array();
      for (const auto &e : members) state.push_back(app.serve_event(ctx, e));
      out["state"] = state;
   }
   return json_response(out);
}

// A redaction is an event like any other (spam checkers and third-party rules see it, as in
// Synapse); its sender needs the room's "redact" level unless the event is their own.
Response redact(Ctx &ctx) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id"), target = ctx.param("event_id");
   require_joined(app, room_id, ctx.user_id);
   const std::string txn_key = ctx.access_token + "|" + room_id + "|redact|" + ctx.param("txn_id");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      State &s = app.state();
      if (const std::string *seen = s.txn_events.find(txn_key, now_ms())) return json_response({{"event_id", *seen}});
      auto e = s.events.find(target);
      if (e == s.events.end() || e->second.room_id != room_id) throw MatrixError(404, "M_NOT_FOUND", "Event not found.");
      if (e->second.sender != ctx.user_id) {
         const Event *pl = s.state_event(room_id, "m.room.power_levels", "");
         const int64_t needed = pl ? pl->content.value("redact", int64_t{50}) : 50;
         if (power_level(s, room_id, ctx.user_id) < needed)
            throw MatrixError(403, "M_FORBIDDEN", "You don't have permission to redact events");
      }
   }
   json content = ctx.req.body.empty() ? json::object() : ctx.body();
   if (!content.is_object()) throw MatrixError(400, "M_BAD_JSON", "The body must be an object");
   if (content.contains("reason") && !content["reason"].is_string()) throw MatrixError(400, "M_BAD_JSON", "reason must be a string");
   content["redacts"] = target;
   const std::string id = app.send_event(ctx, make_event(app, room_id, ctx.user_id, "m.room.redaction", content), {true, true});
   std::lock_guard<std::mutex> lock(app.state().mutex);
   app.state().txn_events.remember(txn_key, id, now_ms());
   return json_response({{"event_id", id}});
}

Response put_alias(Ctx &ctx) {
   App &app = ctx.app;
   const std::string alias = ctx.param("room_alias");
   const std::string room_id = require_string(ctx.body(), "room_id");
   if (server_of(alias) != app.config().server_name || alias[0] != '#')
      throw MatrixError(400, "M_INVALID_PARAM", "Room alias must be local: #name:" + app.config().server_name);
   require_joined(app, room_id, ctx.user_id);
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (app.state().aliases.count(alias)) throw MatrixError(409, "M_UNKNOWN", "Room alias " + alias + " already exists");
   }
   const auto may = app.modules().user_may_create_room_alias(ctx.call, ctx.user_id, alias);
   app.check(may, "user_may_create_room_alias");
   refuse_spam(may, "You are not permitted to create this alias");
   std::lock_guard<std::mutex> lock(app.state().mutex);
   app.state().aliases[alias] = room_id;
   app.state().rooms[room_id].aliases.insert(alias);
   return json_response(json::object());
}

Response get_alias(Ctx &ctx) {
   const std::string room_id = resolve_room(ctx.app, ctx.param("room_alias"));
   return json_response({{"room_id", room_id}, {"servers", {ctx.app.config().server_name}}});
}

Response set_visibility(Ctx &ctx) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id");
   const std::string visibility = ctx.body().value("visibility", "public");
   if (visibility != "public" && visibility != "private")
      throw MatrixError(400, "M_INVALID_PARAM", "visibility must be \"public\" or \"private\"");
   require_joined(app, room_id, ctx.user_id);
   json state;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (power_level(app.state(), room_id, ctx.user_id) < 50 && !ctx.is_admin)
         throw MatrixError(403, "M_FORBIDDEN", "You don't have permission to change the room's visibility");
      state = app.state().state_json(room_id);
   }
   if (visibility == "public") {
      const auto may = app.modules().user_may_publish_room(ctx.call, ctx.user_id, room_id);
      app.check(may, "user_may_publish_room");
      refuse_spam(may, "You are not permitted to publish rooms");
   }
   const auto can = app.modules().check_visibility_can_be_modified(ctx.call, room_id, state, visibility);
   if (!can.answer) throw module_refusal(can, 403, "M_FORBIDDEN", "Not allowed to change the room's visibility (module '" + can.module + "')");
   std::lock_guard<std::mutex> lock(app.state().mutex);
   app.state().rooms[room_id].published = visibility == "public";
   return json_response(json::object());
}

Response get_visibility(Ctx &ctx) {
   require_room(ctx.app, ctx.param("room_id"));
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   return json_response({{"visibility", ctx.app.state().rooms[ctx.param("room_id")].published ? "public" : "private"}});
}

Response public_rooms(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const State &s = ctx.app.state();
   json chunk = json::array();
   for (const auto &[id, room] : s.rooms) {
      if (!room.published || room.shut_down) continue;
      json entry = {{"room_id", id}, {"num_joined_members", s.members(id, "join").size()}, {"world_readable", false},
                    {"guest_can_join", false}};
      if (const Event *name = s.state_event(id, "m.room.name", "")) entry["name"] = name->content.value("name", "");
      chunk.push_back(entry);
   }
   return json_response({{"chunk", chunk}, {"total_room_count_estimate", chunk.size()}});
}

Response joined_rooms(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const auto rooms = ctx.app.state().rooms_of(ctx.user_id);
   return json_response({{"joined_rooms", json(std::vector<std::string>(rooms.begin(), rooms.end()))}});
}

} // namespace

void add_room_routes(std::vector<Route> &r) {
   r.push_back({"POST", client + "/createRoom", Access::user, create_room});
   r.push_back({"POST", client + "/rooms/{room_id}/invite", Access::user, invite});
   r.push_back({"POST", client + "/rooms/{room_id}/join", Access::user,
                [](Ctx &ctx) { return join_room(ctx, ctx.param("room_id")); }});
   r.push_back({"POST", client + "/join/{room}", Access::user,
                [](Ctx &ctx) { return join_room(ctx, resolve_room(ctx.app, ctx.param("room"))); }});
   r.push_back({"POST", client + "/rooms/{room_id}/leave", Access::user, leave});
   r.push_back({"PUT", client + "/rooms/{room_id}/send/{event_type}/{txn_id}", Access::user, send_message});
   r.push_back({"PUT", client + "/rooms/{room_id}/state/{event_type}/{state_key}", Access::user,
                [](Ctx &ctx) { return send_state(ctx, ctx.param("state_key")); }});
   r.push_back({"PUT", client + "/rooms/{room_id}/state/{event_type}", Access::user,
                [](Ctx &ctx) { return send_state(ctx, ""); }});
   r.push_back({"GET", client + "/rooms/{room_id}/state/{event_type}/{state_key}", Access::user, get_state_event});
   r.push_back({"GET", client + "/rooms/{room_id}/state/{event_type}", Access::user, get_state_event});
   r.push_back({"GET", client + "/rooms/{room_id}/state", Access::user, room_state});
   r.push_back({"GET", client + "/rooms/{room_id}/messages", Access::user, messages});
   r.push_back({"PUT", client + "/rooms/{room_id}/redact/{event_id}/{txn_id}", Access::user, redact});
   r.push_back({"PUT", client + "/directory/room/{room_alias}", Access::user, put_alias});
   r.push_back({"GET", client + "/directory/room/{room_alias}", Access::open, get_alias});
   r.push_back({"PUT", client + "/directory/list/room/{room_id}", Access::user, set_visibility});
   r.push_back({"GET", client + "/directory/list/room/{room_id}", Access::open, get_visibility});
   r.push_back({"GET", client + "/publicRooms", Access::open, public_rooms});
   r.push_back({"GET", client + "/joined_rooms", Access::user, joined_rooms});
}

} // namespace chat
