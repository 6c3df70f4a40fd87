// unread.cpp - notifying events from read receipts and push rules.
#include "unread.hpp"

#include <algorithm>

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

// What push::evaluate needs to know about the room and the user, gathered once.
class Judge {
public:
   Judge(State &s, const std::string &room_id, const std::string &user_id) : user_(user_id) {
      rules_ = push::stored_ruleset(s, user_id);
      // The user's name in this room, as contains_display_name reads it.
      if (const Event *me = s.state_event(room_id, "m.room.member", user_id))
         if (me->content.value("displayname", json()).is_string()) display_name_ = me->content["displayname"];
      members_ = static_cast<int64_t>(s.members(room_id, "join").size());
      if (const Event *pl = s.state_event(room_id, "m.room.power_levels", "")) levels_ = pl->content;
      const json room_level = levels_.value("notifications", json::object()).value("room", json(50));
      needed_ = room_level.is_number_integer() ? room_level.get<int64_t>() : 50;
   }

   // Another user's event: what the rules say. The user's own: nothing.
   std::optional<push::Outcome> operator()(const Event &e) const {
      if (e.sender == user_) return std::nullopt;
      return push::evaluate(rules_, e.to_client(), user_, display_name_, members_, level_of(e.sender) >= needed_);
   }

private:
   int64_t level_of(const std::string &user) const {
      const json users = levels_.value("users", json::object());
      if (users.contains(user) && users[user].is_number_integer()) return users[user].get<int64_t>();
      const json fallback = levels_.value("users_default", json(0));
      return fallback.is_number_integer() ? fallback.get<int64_t>() : 0;
   }

   std::string user_, display_name_;
   json rules_, levels_ = json::object();
   int64_t members_ = 0, needed_ = 50;
};

uint64_t stream_of(const Event *e) { return e ? e->stream : 0; }

} // namespace

void for_each_notification(State &s, const std::string &room_id, const std::string &user_id, bool unread_only,
                           const NotificationVisitor &f) {
   uint64_t read = receipt_position(s, room_id, user_id);
   const std::vector<const Event *> timeline = s.visible_timeline(room_id, user_id);
   for (auto it = timeline.rbegin(); it != timeline.rend() && (*it)->stream > read; ++it)
      if ((*it)->sender == user_id) read = (*it)->stream;
   const Judge judge(s, room_id, user_id);
   for (auto it = timeline.rbegin(); it != timeline.rend(); ++it) {
      const Event &e = **it;
      const bool is_read = e.stream <= read;
      if (is_read && unread_only) break;
      const auto outcome = judge(e);
      if (!outcome || !outcome->notify) continue;
      if (!f(e, *outcome, is_read)) break;
   }
}

Unread unread_counts(State &s, const std::string &room_id, const std::string &user_id) {
   State::UnreadMemo &memo = s.unread_memo[{room_id, user_id}];
   const uint64_t receipt = receipt_position(s, room_id, user_id);
   // The last count holds while nothing it depended on changed: the receipt, the user's
   // membership and name (their member event), the room's power levels, the user's rules.
   uint64_t rules_changed = 0;
   if (auto data = s.account_data.find(user_id); data != s.account_data.end())
      if (auto rules = data->second.find("m.push_rules"); rules != data->second.end()) rules_changed = rules->second.stream;
   const bool valid = memo.counted && memo.receipt == receipt &&
                      stream_of(s.state_event(room_id, "m.room.member", user_id)) <= memo.counted &&
                      stream_of(s.state_event(room_id, "m.room.power_levels", "")) <= memo.counted &&
                      rules_changed <= memo.counted;
   if (!valid) {
      Unread full;
      for_each_notification(s, room_id, user_id, true, [&](const Event &, const push::Outcome &o, bool) {
         ++full.notifications;
         if (o.highlight) ++full.highlights;
         return true;
      });
      memo = {receipt, s.stream(), full.notifications, full.highlights};
      return full;
   }
   // Only what came since the last count; the user's own event reads all before it.
   const std::vector<const Event *> fresh = s.events_after(room_id, memo.counted);
   if (!fresh.empty()) {
      const Judge judge(s, room_id, user_id);
      for (const Event *e : fresh) {
         if (e->sender == user_id) {
            memo.notifications = memo.highlights = 0;
            continue;
         }
         const auto outcome = judge(*e);
         if (!outcome || !outcome->notify) continue;
         ++memo.notifications;
         if (outcome->highlight) ++memo.highlights;
      }
   }
   memo.counted = s.stream();
   return {memo.notifications, memo.highlights};
}

} // namespace chat
