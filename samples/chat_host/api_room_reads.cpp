// api_room_reads.cpp - reading a room as a member: its members, one event, an event's context.
// Each event is served as /sync and /messages serve it (with the modules' unsigned fields), and
// only when the history visibility lets the requester see it.
#include "accounts.hpp"

#include <algorithm>

namespace chat {

namespace {

const std::string client = "/_matrix/client/v3";

// Members, and those who left or were banned (they keep what they could see then).
void require_reader(const State &s, const std::string &room_id, const std::string &user_id) {
   auto room = s.rooms.find(room_id);
   if (room == s.rooms.end()) throw MatrixError(404, "M_NOT_FOUND", "Unknown room " + room_id);
   const auto m = s.membership(room_id, user_id).value_or("");
   if (m != "join" && m != "leave" && m != "ban")
      throw MatrixError(403, "M_FORBIDDEN", "User " + user_id + " not in room " + room_id);
}

json serve_all(Ctx &ctx, const std::vector<Event> &events) {
   json out = json::array();
   for (const auto &e : events) out.push_back(ctx.app.serve_event(ctx, e));
   return out;
}

Response members(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id");
   const auto only = ctx.query("membership"), except = ctx.query("not_membership");
   std::vector<Event> found;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      const State &s = ctx.app.state();
      require_reader(s, room_id, ctx.user_id);
      for (const auto &[key, id] : s.rooms.at(room_id).state) {
         if (key.first != "m.room.member") continue;
         const Event &e = s.events.at(id);
         const std::string m = e.content.value("membership", std::string());
         if ((only && m != *only) || (except && m == *except)) continue;
         found.push_back(e);
      }
   }
   return json_response({{"chunk", serve_all(ctx, found)}});
}

Response joined_members(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const State &s = ctx.app.state();
   require_reader(s, room_id, ctx.user_id);
   if (s.membership(room_id, ctx.user_id) != std::optional<std::string>("join"))
      throw MatrixError(403, "M_FORBIDDEN", "User " + ctx.user_id + " not in room " + room_id);
   json joined = json::object();
   for (const auto &user : s.members(room_id, "join")) {
      const Event *e = s.state_event(room_id, "m.room.member", user);
      json entry = json::object();
      if (e && e->content.value("displayname", json()).is_string()) entry["display_name"] = e->content["displayname"];
      if (e && e->content.value("avatar_url", json()).is_string()) entry["avatar_url"] = e->content["avatar_url"];
      joined[user] = entry;
   }
   return json_response({{"joined", joined}});
}

// The requester's visible timeline and the index of event_id in it; 404 when it is not there
// (unknown, in another room, or hidden by the history visibility: no difference is disclosed).
std::pair<std::vector<const Event *>, size_t> locate(const State &s, const std::string &room_id, const std::string &user_id,
                                                     const std::string &event_id) {
   require_reader(s, room_id, user_id);
   std::vector<const Event *> visible = s.visible_timeline(room_id, user_id);
   auto it = std::find_if(visible.begin(), visible.end(), [&](const Event *e) { return e->event_id == event_id; });
   if (it == visible.end()) throw MatrixError(404, "M_NOT_FOUND", "Event not found.");
   const size_t at = static_cast<size_t>(it - visible.begin());
   return {std::move(visible), at};
}

Response get_event(Ctx &ctx) {
   Event event;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      const auto [visible, at] = locate(ctx.app.state(), ctx.param("room_id"), ctx.user_id, ctx.param("event_id"));
      event = *visible[at];
   }
   return json_response(ctx.app.serve_event(ctx, event));
}

Response context(Ctx &ctx) {
   const int64_t limit = static_cast<int64_t>(std::min<uint64_t>(ctx.query_number("limit").value_or(10), 100));
   const std::string room_id = ctx.param("room_id");
   Event event;
   std::vector<Event> before, after, state;
   uint64_t start = 0, end = 0;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      const State &s = ctx.app.state();
      const auto [visible, at] = locate(s, room_id, ctx.user_id, ctx.param("event_id"));
      event = *visible[at];
      // The limit is shared between both sides, as Synapse shares it.
      const int64_t half = limit / 2, rest = limit - half;
      for (int64_t i = static_cast<int64_t>(at) - 1; i >= 0 && static_cast<int64_t>(before.size()) < half; --i)
         before.push_back(*visible[i]);
      for (size_t i = at + 1; i < visible.size() && static_cast<int64_t>(after.size()) < rest; ++i) after.push_back(*visible[i]);
      start = (before.empty() ? event.stream : before.back().stream) - 1;
      end = after.empty() ? event.stream : after.back().stream;
      for (const auto &[key, id] : s.rooms.at(room_id).state) state.push_back(s.events.at(id));
   }
   return json_response({{"event", ctx.app.serve_event(ctx, event)},
                         {"events_before", serve_all(ctx, before)},
                         {"events_after", serve_all(ctx, after)},
                         {"state", serve_all(ctx, state)},
                         {"start", "s" + std::to_string(start)},
                         {"end", "s" + std::to_string(end)}});
}

} // namespace

void add_room_read_routes(std::vector<Route> &r) {
   r.push_back({"GET", client + "/rooms/{room_id}/members", Access::user, members});
   r.push_back({"GET", client + "/rooms/{room_id}/joined_members", Access::user, joined_members});
   r.push_back({"GET", client + "/rooms/{room_id}/event/{event_id}", Access::user, get_event});
   r.push_back({"GET", client + "/rooms/{room_id}/context/{event_id}", Access::user, context});
}

} // namespace chat
