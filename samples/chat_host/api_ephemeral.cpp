// api_ephemeral.cpp - typing notifications, read receipts and read markers. They change no room
// state and run no module callback (Synapse's modules see neither); they reach the room's members
// through /sync's ephemeral events and account data.
#include "accounts.hpp"

namespace chat {

namespace {

const std::string client = "/_matrix/client/v3";
constexpr int64_t max_typing_ms = 120 * 1000;

void require_member(State &s, const std::string &room_id, const std::string &user_id) {
   auto room = s.rooms.find(room_id);
   if (room == s.rooms.end() || room->second.shut_down) throw MatrixError(404, "M_NOT_FOUND", "Unknown room " + room_id);
   if (s.membership(room_id, user_id) != std::optional<std::string>("join"))
      throw MatrixError(403, "M_FORBIDDEN", "User " + user_id + " not in room " + room_id);
}

Response put_typing(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id"), user_id = ctx.param("user_id");
   if (user_id != ctx.user_id) throw MatrixError(403, "M_FORBIDDEN", "Cannot set another user's typing state");
   const json &body = ctx.body();
   if (!body.is_object() || !body.value("typing", json()).is_boolean())
      throw MatrixError(400, "M_BAD_JSON", "typing must be a boolean");
   const bool typing = body["typing"].get<bool>();
   int64_t timeout = 30000;
   if (typing && body.contains("timeout")) {
      if (!body["timeout"].is_number_integer() || body["timeout"].get<int64_t>() < 0)
         throw MatrixError(400, "M_BAD_JSON", "timeout must be a number of milliseconds");
      timeout = std::min(body["timeout"].get<int64_t>(), max_typing_ms);
   }
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   State &s = ctx.app.state();
   require_member(s, room_id, user_id);
   const int64_t now = now_ms();
   s.expire_typing(room_id, now);
   Typing &t = s.typing[room_id];
   const bool was = t.until.count(user_id) > 0;
   if (typing) t.until[user_id] = now + timeout;
   else t.until.erase(user_id);
   // Only a start or a stop is news; a renewal of the timeout is not.
   if (was != typing) t.stream = s.next_stream_for(s.members(room_id, "join"));
   return json_response(json::object());
}

// Stores a receipt (the caller holds the state mutex and has checked membership).
void store_receipt(State &s, const std::string &room_id, const std::string &user_id, const std::string &type,
                   const std::string &event_id, std::optional<std::string> thread_id) {
   auto e = s.events.find(event_id);
   if (e == s.events.end() || e->second.room_id != room_id) throw MatrixError(404, "M_NOT_FOUND", "Unknown event " + event_id);
   auto &mine = s.receipts[room_id][{user_id, type}];
   // A receipt never moves back: clients may send them out of order.
   if (auto old = s.events.find(mine.event_id); old != s.events.end() && old->second.stream >= e->second.stream) return;
   mine.event_id = event_id;
   mine.ts = now_ms();
   mine.thread_id = std::move(thread_id);
   mine.stream = type == "m.read.private" ? s.next_stream_for({user_id}) : s.next_stream_for(s.members(room_id, "join"));
}

void store_fully_read(State &s, const std::string &room_id, const std::string &user_id, const std::string &event_id) {
   auto e = s.events.find(event_id);
   if (e == s.events.end() || e->second.room_id != room_id) throw MatrixError(404, "M_NOT_FOUND", "Unknown event " + event_id);
   s.room_account_data[user_id][room_id]["m.fully_read"] = {s.next_stream_for({user_id}), {{"event_id", event_id}}};
}

Response post_receipt(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id"), type = ctx.param("receipt_type"), event_id = ctx.param("event_id");
   if (type != "m.read" && type != "m.read.private" && type != "m.fully_read")
      throw MatrixError(400, "M_INVALID_PARAM", "Receipt type must be m.read, m.read.private or m.fully_read");
   std::optional<std::string> thread;
   if (!ctx.req.body.empty()) {
      const json &body = ctx.body();
      if (body.is_object() && body.contains("thread_id")) {
         if (!body["thread_id"].is_string()) throw MatrixError(400, "M_BAD_JSON", "thread_id must be a string");
         thread = body["thread_id"].get<std::string>();
      }
   }
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   State &s = ctx.app.state();
   require_member(s, room_id, ctx.user_id);
   if (type == "m.fully_read") store_fully_read(s, room_id, ctx.user_id, event_id);
   else store_receipt(s, room_id, ctx.user_id, type, event_id, thread);
   return json_response(json::object());
}

Response post_read_markers(Ctx &ctx) {
   const std::string room_id = ctx.param("room_id");
   const json &body = ctx.body();
   if (!body.is_object()) throw MatrixError(400, "M_BAD_JSON", "The body must be an object");
   for (const char *key : {"m.fully_read", "m.read", "m.read.private"})
      if (body.contains(key) && !body[key].is_string()) throw MatrixError(400, "M_BAD_JSON", std::string(key) + " must be an event ID");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   State &s = ctx.app.state();
   require_member(s, room_id, ctx.user_id);
   if (body.contains("m.fully_read")) store_fully_read(s, room_id, ctx.user_id, body["m.fully_read"]);
   for (const char *type : {"m.read", "m.read.private"})
      if (body.contains(type)) store_receipt(s, room_id, ctx.user_id, type, body[type], std::nullopt);
   return json_response(json::object());
}

} // namespace

void add_ephemeral_routes(std::vector<Route> &r) {
   r.push_back({"PUT", client + "/rooms/{room_id}/typing/{user_id}", Access::user, put_typing});
   r.push_back({"POST", client + "/rooms/{room_id}/receipt/{receipt_type}/{event_id}", Access::user, post_receipt});
   r.push_back({"POST", client + "/rooms/{room_id}/read_markers", Access::user, post_read_markers});
}

} // namespace chat
