// api_sync.cpp - /sync (long polling, filters, full state on join, gaps, ephemeral events,
// unread counts) and the filter endpoints.
//
// Tokens. A since, next_batch or prev_batch token is "s<N>": a position in the server's one
// stream, which orders events, typing, receipts, account data and presence alike. Events are
// "after" a token when their stream position is greater; /messages takes the same tokens.
#include "accounts.hpp"
#include "sync_filter.hpp"
#include "unread.hpp"

#include <algorithm>
#include <set>

namespace chat {

namespace {

const std::string client = "/_matrix/client/v3";
constexpr int64_t default_timeline_limit = 10; // Synapse's
constexpr int64_t max_timeout_ms = 10 * 60 * 1000;

std::string token(uint64_t position) { return "s" + std::to_string(position); }

// A filter ID as POST /user/{id}/filter gives them (the index in the user's list); nullopt when
// the text cannot be one.
std::optional<size_t> filter_id(const std::string &text) {
   if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
   return std::stoul(text);
}

// The timeline limit a filter asks for, or the default.
int64_t timeline_limit(const SyncFilter &filter) {
   return filter.timeline.limit ? filter.timeline.limit : default_timeline_limit;
}

// Keeps the last `limit` of events; true when some were dropped.
template <class T>
bool keep_last(std::vector<T> &events, int64_t limit) {
   if (static_cast<int64_t>(events.size()) <= limit) return false;
   events.erase(events.begin(), events.end() - limit);
   return true;
}

// filter=: a filter ID from POST /user/{id}/filter, or a filter definition in JSON.
SyncFilter filter_of(Ctx &ctx) {
   const auto f = ctx.query("filter");
   if (!f || f->empty()) return {};
   if ((*f)[0] == '{') {
      json definition;
      try {
         definition = json::parse(*f);
      } catch (const json::exception &) {
         throw MatrixError(400, "M_BAD_JSON", "filter is not valid JSON");
      }
      return parse_sync_filter(definition);
   }
   const auto id = filter_id(*f);
   if (!id) throw MatrixError(400, "M_INVALID_PARAM", "filter must be a filter ID or a JSON object");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const auto &mine = ctx.app.state().filters[ctx.user_id];
   if (*id >= mine.size()) throw MatrixError(404, "M_NOT_FOUND", "No filter " + *f);
   return parse_sync_filter(mine[*id]);
}

struct JoinedRoom {
   std::vector<Event> timeline, state;
   bool limited = false;
   uint64_t prev_batch = 0;
   json ephemeral = json::array(), account_data = json::array(), summary = json::object();
   Unread unread;
};

struct LeftRoom {
   std::vector<Event> timeline;
   uint64_t prev_batch = 0;
};

struct Snapshot {
   uint64_t position = 0;
   int64_t recheck_ms = 0; // when someone's typing in the user's rooms times out (0: nobody types)
   std::map<std::string, JoinedRoom> join;
   std::map<std::string, std::vector<Event>> invite; // stripped state
   std::map<std::string, LeftRoom> leave;
   std::vector<PresenceDelivery> presence;
   json account_data = json::array();
   bool empty() const { return join.empty() && invite.empty() && leave.empty() && presence.empty() && account_data.empty(); }
};

uint64_t membership_stream(const State &s, const std::string &room_id, const std::string &user_id) {
   const Event *e = s.state_event(room_id, "m.room.member", user_id);
   return e ? e->stream : 0;
}

// Whether user_id was joined at stream position `at`: a profile change re-sends "join", which
// must not make the room look newly joined.
bool joined_at(const State &s, const std::string &room_id, const std::string &user_id, uint64_t at) {
   const Room &room = s.rooms.at(room_id);
   for (auto it = room.timeline.rbegin(); it != room.timeline.rend(); ++it) {
      const Event &e = s.events.at(*it);
      if (e.stream > at || e.type != "m.room.member" || e.state_key != user_id) continue;
      return e.content.value("membership", json()) == "join";
   }
   return false;
}

// `since` is nullopt for an initial sync, which has no earlier position to compare with.
using Since = std::optional<uint64_t>;

json typing_event(const State &s, const std::string &room_id, Since since) {
   auto t = s.typing.find(room_id);
   if (t == s.typing.end() || (since && t->second.stream <= *since)) return json();
   json users = json::array();
   const int64_t now = now_ms();
   for (const auto &[user, until] : t->second.until)
      if (until > now) users.push_back(user);
   if (!since && users.empty()) return json();
   return {{"type", "m.typing"}, {"content", {{"user_ids", users}}}};
}

json receipt_event(const State &s, const std::string &room_id, const std::string &viewer, uint64_t since) {
   auto r = s.receipts.find(room_id);
   if (r == s.receipts.end()) return json();
   json content = json::object();
   for (const auto &[key, receipt] : r->second) {
      const auto &[user, type] = key;
      if (receipt.stream <= since) continue;
      if (type == "m.read.private" && user != viewer) continue; // private receipts are the reader's own
      json entry = {{"ts", receipt.ts}};
      if (receipt.thread_id) entry["thread_id"] = *receipt.thread_id;
      content[receipt.event_id][type][user] = entry;
   }
   if (content.empty()) return json();
   return {{"type", "m.receipt"}, {"content", content}};
}

json summary_of(const State &s, const std::string &room_id, const std::string &viewer) {
   const auto joined = s.members(room_id, "join"), invited = s.members(room_id, "invite");
   json heroes = json::array();
   for (const auto *list : {&joined, &invited})
      for (const auto &u : *list)
         if (u != viewer && heroes.size() < 5) heroes.push_back(u);
   return {{"m.joined_member_count", joined.size()}, {"m.invited_member_count", invited.size()}, {"m.heroes", heroes}};
}

void joined_room(State &s, const std::string &id, const std::string &user, Since since_token, bool full_state,
                 const SyncFilter &filter, Snapshot &out) {
   JoinedRoom room;
   const uint64_t since = since_token.value_or(0);
   const uint64_t membership_at = membership_stream(s, id, user);
   const bool newly_joined = !since_token || (membership_at > since && !joined_at(s, id, user, since));
   std::vector<const Event *> fresh;
   if (since_token && membership_at <= since) {
      // Joined since before `since` without a break: all that came since is visible, and only
      // that is read, from the end of the timeline.
      for (const Event *e : s.events_after(id, since))
         if (filter.timeline.matches(e->type, e->sender)) fresh.push_back(e);
   } else {
      for (const Event *e : s.visible_timeline(id, user))
         if ((newly_joined || e->stream > since) && filter.timeline.matches(e->type, e->sender)) fresh.push_back(e);
   }
   room.limited = keep_last(fresh, timeline_limit(filter));
   room.prev_batch = fresh.empty() ? s.stream() : fresh.front()->stream - 1;
   std::set<std::string> in_timeline, senders;
   for (const Event *e : fresh) {
      room.timeline.push_back(*e);
      in_timeline.insert(e->event_id);
      senders.insert(e->sender);
   }
   const RoomEventFilter &sf = filter.state;
   if (newly_joined || full_state || room.limited || sf.lazy_load_members) {
      const bool everything = newly_joined || full_state || room.limited;
      for (const auto &[key, event_id] : s.rooms.at(id).state) {
         if (in_timeline.count(event_id)) continue;
         const Event &e = s.events.at(event_id);
         if (!sf.matches(e.type, e.sender)) continue;
         const bool member = e.type == "m.room.member";
         // Lazy loading: the members who speak in this timeline, and the viewer; always, as
         // this server does not track which members a client already holds.
         if (member && sf.lazy_load_members && key.second != user && !senders.count(key.second)) continue;
         if (!everything && !member) continue;
         room.state.push_back(e);
      }
   }
   if (filter.ephemeral.allows_room(id)) {
      if (json t = typing_event(s, id, since_token); !t.is_null() && filter.ephemeral.matches("m.typing", ""))
         room.ephemeral.push_back(t);
      if (json r = receipt_event(s, id, user, since); !r.is_null() && filter.ephemeral.matches("m.receipt", ""))
         room.ephemeral.push_back(r);
   }
   if (auto u = s.room_account_data.find(user); u != s.room_account_data.end())
      if (auto r = u->second.find(id); r != u->second.end())
         for (const auto &[type, item] : r->second)
            if (item.stream > since && filter.room_account_data.matches(type, user))
               room.account_data.push_back({{"type", type}, {"content", item.content}});
   const bool changed = newly_joined || !room.timeline.empty() || !room.state.empty() || !room.ephemeral.empty() ||
                        !room.account_data.empty();
   if (!changed) return;
   // The summary when the membership may have changed (as Synapse sends it).
   const auto member_event = [](const Event &e) { return e.type == "m.room.member"; };
   if (newly_joined || std::any_of(room.timeline.begin(), room.timeline.end(), member_event) ||
       std::any_of(room.state.begin(), room.state.end(), member_event))
      room.summary = summary_of(s, id, user);
   room.unread = unread_counts(s, id, user);
   out.join.emplace(id, std::move(room));
}

// Stripped state an invitee may see before joining, with the invite itself.
std::vector<Event> invite_state(const State &s, const std::string &id, const std::string &user) {
   static const std::set<std::string> shown = {"m.room.create", "m.room.name", "m.room.avatar", "m.room.topic",
                                               "m.room.join_rules", "m.room.canonical_alias", "m.room.encryption"};
   std::vector<Event> out;
   const Event *invite = s.state_event(id, "m.room.member", user);
   for (const auto &[key, event_id] : s.rooms.at(id).state) {
      const Event &e = s.events.at(event_id);
      if (shown.count(key.first) || (key.first == "m.room.member" && invite && key.second == invite->sender) ||
          (key.first == "m.room.member" && key.second == user))
         out.push_back(e);
   }
   return out;
}

Snapshot snapshot(App &app, const std::string &user, Since since_token, bool full_state, const SyncFilter &filter) {
   const uint64_t since = since_token.value_or(0);
   Snapshot out;
   std::lock_guard<std::mutex> lock(app.state().mutex);
   State &s = app.state();
   // Typing that timed out is news, made before the position is taken; the next timeout is when
   // a waiting sync must look again.
   for (const auto &id : s.rooms_of(user)) {
      const int64_t next = s.expire_typing(id, now_ms());
      if (next && (!out.recheck_ms || next < out.recheck_ms)) out.recheck_ms = next;
   }
   out.position = s.stream();
   for (const auto &[id, room] : s.rooms) {
      if (room.shut_down || !filter.allows_room(id)) continue;
      const auto m = s.membership(id, user);
      if (!m) continue;
      const uint64_t changed_at = membership_stream(s, id, user);
      if (*m == "join") {
         joined_room(s, id, user, since_token, full_state, filter, out);
      } else if (*m == "invite" && (!since_token || changed_at > since)) {
         out.invite[id] = invite_state(s, id, user);
      } else if ((*m == "leave" || *m == "ban") && ((since_token && changed_at > since) || (!since_token && filter.include_leave))) {
         LeftRoom left;
         for (const Event *e : s.visible_timeline(id, user))
            if (e->stream > since && e->stream < changed_at && filter.timeline.matches(e->type, e->sender))
               left.timeline.push_back(*e);
         // The leave or ban itself, which the history visibility would hide from a non-member.
         left.timeline.push_back(*s.state_event(id, "m.room.member", user));
         keep_last(left.timeline, timeline_limit(filter));
         left.prev_batch = left.timeline.empty() ? changed_at : left.timeline.front().stream - 1;
         out.leave.emplace(id, std::move(left));
      }
   }
   if (auto inbox = s.presence_inbox.find(user); inbox != s.presence_inbox.end())
      for (const auto &d : inbox->second)
         if (d.stream > since && filter.presence.matches("m.presence", d.user_id)) out.presence.push_back(d);
   if (auto data = s.account_data.find(user); data != s.account_data.end())
      for (const auto &[type, item] : data->second)
         if (item.stream > since && filter.account_data.matches(type, user))
            out.account_data.push_back({{"type", type}, {"content", item.content}});
   // The push rules are account data to clients; until a user changes one, they are the
   // server's defaults, stored nowhere, so an initial sync adds them.
   const bool stored = s.account_data.count(user) && s.account_data.at(user).count("m.push_rules");
   if (!since_token && !stored && filter.account_data.matches("m.push_rules", user))
      out.account_data.push_back({{"type", "m.push_rules"}, {"content", {{"global", push::stored_ruleset(s, user)}}}});
   return out;
}

json served(Ctx &ctx, const std::vector<Event> &events) {
   json out = json::array();
   for (const auto &e : events) out.push_back(ctx.app.serve_event(ctx, e));
   return out;
}

json render(Ctx &ctx, Snapshot &snap) {
   json join = json::object(), invite = json::object(), leave = json::object();
   for (auto &[id, r] : snap.join) {
      join[id] = {{"timeline", {{"events", served(ctx, r.timeline)}, {"limited", r.limited}, {"prev_batch", token(r.prev_batch)}}},
                  {"state", {{"events", served(ctx, r.state)}}},
                  {"ephemeral", {{"events", r.ephemeral}}},
                  {"account_data", {{"events", r.account_data}}},
                  {"summary", r.summary},
                  {"unread_notifications",
                   {{"notification_count", r.unread.notifications}, {"highlight_count", r.unread.highlights}}}};
   }
   for (const auto &[id, events] : snap.invite) {
      json stripped = json::array();
      for (const auto &e : events)
         stripped.push_back({{"type", e.type}, {"state_key", e.state_key.value_or("")}, {"sender", e.sender}, {"content", e.content}});
      invite[id] = {{"invite_state", {{"events", stripped}}}};
   }
   for (auto &[id, r] : snap.leave)
      leave[id] = {{"timeline", {{"events", served(ctx, r.timeline)}, {"limited", false}, {"prev_batch", token(r.prev_batch)}}},
                   {"state", {{"events", json::array()}}}};
   json presence = json::array();
   for (const auto &d : snap.presence) {
      json content = {{"presence", d.presence.presence}, {"currently_active", d.presence.currently_active},
                      {"last_active_ago", std::max<int64_t>(0, now_ms() - d.presence.last_active_ts)}};
      if (d.presence.status_msg) content["status_msg"] = *d.presence.status_msg;
      presence.push_back({{"type", "m.presence"}, {"sender", d.user_id}, {"content", content}});
   }
   return {{"next_batch", token(snap.position)},
           {"rooms", {{"join", join}, {"invite", invite}, {"leave", leave}, {"knock", json::object()}}},
           {"presence", {{"events", presence}}},
           {"account_data", {{"events", snap.account_data}}},
           {"to_device", {{"events", json::array()}}},
           {"device_lists", {{"changed", json::array()}, {"left", json::array()}}},
           {"device_one_time_keys_count", json::object()}};
}

Response sync(Ctx &ctx) {
   Since since;
   if (auto s = ctx.query("since")) since = parse_stream_token(*s, "since");
   const int64_t timeout = static_cast<int64_t>(std::min<uint64_t>(ctx.query_number("timeout").value_or(0), max_timeout_ms));
   const bool full_state = ctx.query("full_state") == std::optional<std::string>("true");
   const SyncFilter filter = filter_of(ctx);
   const int64_t deadline = ctx.req.poll_deadline_ms ? ctx.req.poll_deadline_ms : now_ms() + timeout;
   for (;;) {
      Snapshot snap = snapshot(ctx.app, ctx.user_id, since, full_state, filter);
      // An initial sync, a full-state one, or anything new answers at once; so does the end of the wait.
      if (!since || full_state || !snap.empty() || now_ms() >= deadline) return json_response(render(ctx, snap));
      if (ctx.req.may_hold) {
         Response wait;
         wait.long_poll = LongPoll{ctx.user_id, snap.position, deadline, snap.recheck_ms};
         return wait;
      }
      ctx.app.state().notifier.wait_blocking(ctx.user_id, snap.position,
                                             snap.recheck_ms ? std::min(deadline, snap.recheck_ms) : deadline);
   }
}

Response post_filter(Ctx &ctx) {
   const std::string user_id = ctx.param("user_id");
   if (user_id != ctx.user_id) throw MatrixError(403, "M_FORBIDDEN", "Cannot create filters for other users");
   const json definition = ctx.body();
   parse_sync_filter(definition); // refuse what a later /sync could not use
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   auto &mine = ctx.app.state().filters[user_id];
   if (mine.size() >= State::max_filters_per_user)
      throw MatrixError(400, "M_LIMIT_EXCEEDED", "Too many filters (at most " + std::to_string(State::max_filters_per_user) + ")");
   mine.push_back(definition);
   return json_response({{"filter_id", std::to_string(mine.size() - 1)}});
}

Response get_filter(Ctx &ctx) {
   const std::string user_id = ctx.param("user_id");
   if (user_id != ctx.user_id) throw MatrixError(403, "M_FORBIDDEN", "Cannot read other users' filters");
   const auto id = filter_id(ctx.param("filter_id"));
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const auto &mine = ctx.app.state().filters[user_id];
   if (!id || *id >= mine.size()) throw MatrixError(404, "M_NOT_FOUND", "No filter " + ctx.param("filter_id"));
   return json_response(mine[*id]);
}

} // namespace

uint64_t parse_stream_token(const std::string &token, const char *what) {
   if (token.size() < 2 || token[0] != 's' || token.size() > 20 ||
       token.find_first_not_of("0123456789", 1) != std::string::npos)
      throw MatrixError(400, "M_INVALID_PARAM", std::string("Invalid ") + what + " token");
   return std::stoull(token.substr(1));
}

void add_sync_routes(std::vector<Route> &r) {
   r.push_back({"GET", client + "/sync", Access::user, sync});
   r.push_back({"POST", client + "/user/{user_id}/filter", Access::user, post_filter});
   r.push_back({"GET", client + "/user/{user_id}/filter/{filter_id}", Access::user, get_filter});
}

} // namespace chat
