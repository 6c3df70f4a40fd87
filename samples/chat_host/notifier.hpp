// notifier.hpp - wakes requests that wait for something new to happen (a long-polling /sync).
//
// Writers advance the server's stream under the state mutex and say whom the change concerns;
// waiters say which user they serve and the stream position they have already seen. A waiter
// whose user was concerned by a change past that position is woken once and forgotten.
//
// Threads and ownership. Any thread may call any function. One mutex guards the waiters and the
// per-user positions; it is taken after the state mutex (writers notify while holding it), never
// before it. Wake callbacks run under that mutex, so they must only hand work elsewhere (post to
// an event loop, signal a condition variable) and never call back into the notifier or take the
// state mutex. Because they run under it, cancel() returning means the callback is not running
// and never will: its owner may then be destroyed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace chat {

class Notifier {
public:
   using Wake = std::function<void()>;

   // Calls wake once, when a change past `seen` concerns user_id. Returns an ID for cancel(), or
   // 0 when such a change has already happened: then wake has been called before returning.
   uint64_t wait(const std::string &user_id, uint64_t seen, Wake wake);
   // Forgets a waiter (no-op when it was woken already).
   void cancel(uint64_t id);
   // Blocks the calling thread until a change past `seen` concerns user_id or deadline_ms (wall
   // clock, ms) passes. For callers without an event loop (the scenario runner, tests).
   void wait_blocking(const std::string &user_id, uint64_t seen, int64_t deadline_ms);

   // A change at stream position `position` that concerns `users` (call with the state mutex held,
   // after the change is made, so a woken request finds it).
   void notify(uint64_t position, const std::vector<std::string> &users);
   // A change that may concern anyone (presence, for instance).
   void notify_all(uint64_t position);

   size_t waiting() const; // for tests and metrics

private:
   struct Waiter {
      std::string user_id;
      uint64_t seen;
      Wake wake;
   };
   bool changed_since(const std::string &user_id, uint64_t seen) const; // mutex_ held
   void wake_user(const std::string &user_id, uint64_t position);     // mutex_ held

   mutable std::mutex mutex_;
   uint64_t next_id_ = 0;
   uint64_t all_position_ = 0;                     // the last change that concerned everyone
   std::map<std::string, uint64_t> user_position_; // the last change that concerned each user
   std::map<uint64_t, Waiter> waiters_;
   std::multimap<std::string, uint64_t> by_user_;
};

} // namespace chat
