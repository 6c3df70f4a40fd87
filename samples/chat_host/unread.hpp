// unread.hpp - which events notify a user, from their push rules: /sync's unread counts and
// GET /notifications. An event counts when another user sent it, the user can see it, and the
// first matching push rule says "notify"; it is read once it is at or before the user's read
// receipt, or before the user's own last event (sending reads everything before it).
#pragma once

#include "push_rules.hpp"
#include "state.hpp"

#include <functional>

namespace chat {

struct Unread {
   int64_t notifications = 0, highlights = 0;
};

// Call with the state mutex held (for this and the next).
Unread unread_counts(State &state, const std::string &room_id, const std::string &user_id);

// Calls f(event, outcome, read) for each event of the room that notifies user_id, newest first,
// until f returns false. unread_only: stop at the first read event.
using NotificationVisitor = std::function<bool(const Event &, const push::Outcome &, bool read)>;
void for_each_notification(State &state, const std::string &room_id, const std::string &user_id, bool unread_only,
                           const NotificationVisitor &f);

} // namespace chat
