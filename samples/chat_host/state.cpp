// state.cpp - the in-memory store's helpers.
#include "state.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>

namespace chat {

int64_t now_ms() {
   using namespace std::chrono;
   return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

json Event::envelope() const {
   json j = {{"event_id", event_id}, {"room_id", room_id}, {"sender", sender}, {"type", type},
             {"origin_server_ts", origin_server_ts}};
   if (state_key) j["state_key"] = *state_key;
   // Room versions up to 10 carry the redacted event's ID at the top level too.
   if (type == "m.room.redaction" && content.contains("redacts")) j["redacts"] = content["redacts"];
   return j;
}

json Event::to_client() const {
   json j = envelope();
   j["content"] = content;
   return j;
}

namespace {

// The content keys a redaction keeps (the spec's redaction algorithm, room version 10).
json pruned_content(const std::string &type, const json &content) {
   static const std::map<std::string, std::vector<std::string>> keep = {
      {"m.room.member", {"membership", "join_authorised_via_users_server"}},
      {"m.room.create", {"creator"}},
      {"m.room.join_rules", {"join_rule", "allow"}},
      {"m.room.power_levels",
       {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}},
      {"m.room.history_visibility", {"history_visibility"}}};
   json out = json::object();
   auto k = keep.find(type);
   if (k == keep.end() || !content.is_object()) return out;
   for (const auto &key : k->second)
      if (content.contains(key)) out[key] = content[key];
   return out;
}

} // namespace

json Event::to_pdu() const {
   json j = to_client();
   j["origin"] = origin;
   return j;
}

std::string State::new_id(char sigil) {
   // Unpredictable IDs (tokens above all); the counter keeps them unique.
   static thread_local std::mt19937_64 rng{std::random_device{}()};
   static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
   std::string id;
   const int length = sigil == 'T' ? 32 : 12;
   for (int i = 0; i < length; ++i) id += alphabet[rng() % (sizeof alphabet - 1)];
   id += std::to_string(++ids_);
   switch (sigil) {
   case '!': return "!" + id + ":" + server_name_;
   case '$': return "$" + id;
   case 'D': return id.substr(0, 10);
   case 'T': return "mct_" + id;
   default: return id;
   }
}

void State::record_client(const std::string &user_id, const std::string &ip, const std::string &user_agent,
                          int64_t now) {
   auto &seen = clients[user_id];
   seen[{ip, user_agent}] = now;
   if (seen.size() <= max_clients_per_user) return;
   auto oldest = std::min_element(seen.begin(), seen.end(),
                                  [](const auto &a, const auto &b) { return a.second < b.second; });
   seen.erase(oldest);
}

bool State::is_local(const std::string &user_id) const { return server_of(user_id) == server_name_; }

std::optional<std::string> State::membership(const std::string &room_id, const std::string &user_id) const {
   const Event *e = state_event(room_id, "m.room.member", user_id);
   if (!e) return std::nullopt;
   return e->content.value("membership", std::string());
}

std::vector<std::string> State::members(const std::string &room_id, const std::string &membership) const {
   std::vector<std::string> out;
   auto r = rooms.find(room_id);
   if (r == rooms.end()) return out;
   for (const auto &[key, event_id] : r->second.state) {
      if (key.first != "m.room.member") continue;
      auto e = events.find(event_id);
      if (e != events.end() && e->second.content.value("membership", "") == membership) out.push_back(key.second);
   }
   return out;
}

const Event *State::state_event(const std::string &room_id, const std::string &type, const std::string &key) const {
   auto r = rooms.find(room_id);
   if (r == rooms.end()) return nullptr;
   auto s = r->second.state.find({type, key});
   if (s == r->second.state.end()) return nullptr;
   auto e = events.find(s->second);
   return e == events.end() ? nullptr : &e->second;
}

json State::state_json(const std::string &room_id) const {
   json out = json::object();
   auto r = rooms.find(room_id);
   if (r == rooms.end()) return out;
   for (const auto &[key, event_id] : r->second.state) {
      auto e = events.find(event_id);
      if (e != events.end()) out[key.first][key.second] = e->second.to_client();
   }
   return out;
}

int64_t State::expire_typing(const std::string &room_id, int64_t now) {
   auto t = typing.find(room_id);
   if (t == typing.end()) return 0;
   bool dropped = false;
   int64_t next = 0;
   for (auto it = t->second.until.begin(); it != t->second.until.end();) {
      if (it->second <= now) {
         it = t->second.until.erase(it);
         dropped = true;
      } else {
         next = next ? std::min(next, it->second) : it->second;
         ++it;
      }
   }
   if (dropped) t->second.stream = next_stream_for(members(room_id, "join"));
   return next;
}

std::vector<std::string> State::audience(const std::string &room_id) const {
   std::vector<std::string> out = members(room_id, "join");
   for (auto &u : members(room_id, "invite")) out.push_back(std::move(u));
   return out;
}

void State::append(Event event) {
   event.stream = ++stream_;
   Room &room = rooms[event.room_id];
   room.room_id = event.room_id;
   room.timeline.push_back(event.event_id);
   if (event.state_key) room.state[{event.type, *event.state_key}] = event.event_id;
   if (event.type == "m.room.redaction" && event.content.value("redacts", json()).is_string()) {
      auto target = events.find(event.content["redacts"].get<std::string>());
      if (target != events.end() && target->second.room_id == event.room_id && !target->second.redacted_by) {
         target->second.content = pruned_content(target->second.type, target->second.content);
         target->second.redacted_by = event.event_id;
      }
   }
   const uint64_t position = event.stream;
   std::vector<std::string> concerned = audience(event.room_id);
   // One who left or was kicked must still learn it.
   if (event.type == "m.room.member" && event.state_key) concerned.push_back(*event.state_key);
   events[event.event_id] = std::move(event);
   notifier.notify(position, concerned);
}

std::string State::join_rule(const std::string &room_id) const {
   const Event *e = state_event(room_id, "m.room.join_rules", "");
   return e ? e->content.value("join_rule", std::string("invite")) : "invite";
}

namespace {

// More permissive first: the order the spec lists them in.
int openness(const std::string &visibility) {
   if (visibility == "world_readable") return 3;
   if (visibility == "shared") return 2;
   if (visibility == "invited") return 1;
   return visibility == "joined" ? 0 : -1;
}

} // namespace

std::vector<const Event *> State::visible_timeline(const std::string &room_id, const std::string &user_id) const {
   std::vector<const Event *> out;
   auto room = rooms.find(room_id);
   if (room == rooms.end()) return out;
   const bool joined_now = membership(room_id, user_id) == std::optional<std::string>("join");
   std::string member, visibility = "shared"; // the state before each event
   for (const auto &id : room->second.timeline) {
      auto found = events.find(id);
      if (found == events.end()) continue;
      const Event &e = found->second;
      const bool own_membership = e.type == "m.room.member" && e.state_key == user_id;
      const bool visibility_change = e.type == "m.room.history_visibility" && e.state_key == std::optional<std::string>("");
      const std::string next_member = own_membership ? e.content.value("membership", std::string()) : member;
      std::string next_visibility = visibility;
      if (visibility_change) {
         const json v = e.content.value("history_visibility", json());
         if (v.is_string() && openness(v.get<std::string>()) >= 0) next_visibility = v.get<std::string>();
      }
      // A user's own membership event is judged by the new membership; a visibility change by
      // the more permissive of the old and new values (Synapse's rules).
      const std::string &m = own_membership ? next_member : member;
      const std::string &v = openness(next_visibility) > openness(visibility) ? next_visibility : visibility;
      const bool visible = v == "world_readable" || m == "join" || (v == "invited" && m == "invite") ||
                           (v == "shared" && joined_now);
      if (visible && !e.soft_failed) out.push_back(&e);
      member = next_member;
      visibility = next_visibility;
   }
   return out;
}

std::vector<const Event *> State::events_after(const std::string &room_id, uint64_t after) const {
   std::vector<const Event *> out;
   auto room = rooms.find(room_id);
   if (room == rooms.end()) return out;
   const auto &timeline = room->second.timeline;
   for (auto it = timeline.rbegin(); it != timeline.rend(); ++it) {
      auto e = events.find(*it);
      if (e == events.end()) continue;
      if (e->second.stream <= after) break;
      if (!e->second.soft_failed) out.push_back(&e->second);
   }
   std::reverse(out.begin(), out.end());
   return out;
}

std::set<std::string> State::rooms_of(const std::string &user_id) const {
   std::set<std::string> out;
   for (const auto &[id, room] : rooms) {
      if (!room.shut_down && membership(id, user_id) == std::optional<std::string>("join")) out.insert(id);
   }
   return out;
}

bool State::share_room(const std::string &a, const std::string &b) const {
   const auto ra = rooms_of(a);
   const auto rb = rooms_of(b);
   return std::any_of(ra.begin(), ra.end(), [&](const std::string &r) { return rb.count(r) > 0; });
}

std::optional<std::string> State::user_for_threepid(const std::string &medium, const std::string &address) const {
   for (const auto &[id, user] : users) {
      for (const auto &t : user.threepids)
         if (t.medium == medium && t.address == address) return id;
      for (const auto &t : user.bound_threepids)
         if (t.medium == medium && t.address == address) return id;
   }
   return std::nullopt;
}

void State::index_user(const User &user) {
   if (user.deactivated) {
      directory.erase(user.user_id);
      return;
   }
   std::string text = user.user_id + " " + user.display_name;
   std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
   directory[user.user_id] = text;
}

} // namespace chat
