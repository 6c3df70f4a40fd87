// unread.cpp - notifying events from read receipts and push rules.
#include "unread.hpp"

namespace chat {

namespace {

// Read up to this stream position: the newest of the user's receipts.
uint64_t receipt_position(const State &s, const std::string &room_id, const std::string &user_id) {
   uint64_t read = 0;
   if (auto r = s.receipts.find(room_id); r != s.receipts.end())
      for (const char *type : {"m.read", "m.read.private"})
         if (auto mine = r->second.find({user_id, type}); mine != r->second.end())
            if (auto e = s.events.find(mine->second.event_id); e != s.events.end()) read = std::max(read, e->second.stream);
   return read;
}

int64_t level_of(const json &levels, const std::string &user) {
   const json users = levels.value("users", json::object());
   if (users.contains(user) && users[user].is_number_integer()) return users[user].get<int64_t>();
   const json fallback = levels.value("users_default", json(0));
   return fallback.is_number_integer() ? fallback.get<int64_t>() : 0;
}

} // namespace

void for_each_notification(State &s, const std::string &room_id, const std::string &user_id, bool unread_only,
                           const NotificationVisitor &f) {
   uint64_t read = receipt_position(s, room_id, user_id);
   const std::vector<const Event *> timeline = s.visible_timeline(room_id, user_id);
   for (auto it = timeline.rbegin(); it != timeline.rend() && (*it)->stream > read; ++it)
      if ((*it)->sender == user_id) read = (*it)->stream;
   const json rules = push::stored_ruleset(s, user_id);
   // The user's name in this room, as contains_display_name reads it.
   std::string display_name;
   if (const Event *me = s.state_event(room_id, "m.room.member", user_id))
      if (me->content.value("displayname", json()).is_string()) display_name = me->content["displayname"];
   const int64_t members = static_cast<int64_t>(s.members(room_id, "join").size());
   const Event *pl = s.state_event(room_id, "m.room.power_levels", "");
   const json levels = pl ? pl->content : json::object();
   const json room_level = levels.value("notifications", json::object()).value("room", json(50));
   const int64_t needed = room_level.is_number_integer() ? room_level.get<int64_t>() : 50;
   for (auto it = timeline.rbegin(); it != timeline.rend(); ++it) {
      const Event &e = **it;
      const bool is_read = e.stream <= read;
      if (is_read && unread_only) break;
      if (e.sender == user_id) continue;
      const auto outcome = push::evaluate(rules, e.to_client(), user_id, display_name, members, level_of(levels, e.sender) >= needed);
      if (!outcome || !outcome->notify) continue;
      if (!f(e, *outcome, is_read)) break;
   }
}

Unread unread_counts(State &s, const std::string &room_id, const std::string &user_id) {
   Unread out;
   for_each_notification(s, room_id, user_id, true, [&](const Event &, const push::Outcome &o, bool) {
      ++out.notifications;
      if (o.highlight) ++out.highlights;
      return true;
   });
   return out;
}

} // namespace chat
