// notifier.cpp - see notifier.hpp for the thread and ownership rules.
#include "notifier.hpp"

#include <chrono>

namespace chat {

bool Notifier::changed_since(const std::string &user_id, uint64_t seen) const {
   if (all_position_ > seen) return true;
   auto it = user_position_.find(user_id);
   return it != user_position_.end() && it->second > seen;
}

uint64_t Notifier::wait(const std::string &user_id, uint64_t seen, Wake wake) {
   std::lock_guard<std::mutex> lock(mutex_);
   // A change between the waiter's look at the state and this call must not be missed.
   if (changed_since(user_id, seen)) {
      wake();
      return 0;
   }
   const uint64_t id = ++next_id_;
   waiters_.emplace(id, Waiter{user_id, seen, std::move(wake)});
   by_user_.emplace(user_id, id);
   return id;
}

void Notifier::cancel(uint64_t id) {
   std::lock_guard<std::mutex> lock(mutex_);
   auto it = waiters_.find(id);
   if (it == waiters_.end()) return;
   auto range = by_user_.equal_range(it->second.user_id);
   for (auto u = range.first; u != range.second; ++u)
      if (u->second == id) {
         by_user_.erase(u);
         break;
      }
   waiters_.erase(it);
}

void Notifier::wait_blocking(const std::string &user_id, uint64_t seen, int64_t deadline_ms) {
   std::mutex m;
   std::condition_variable cv;
   bool woken = false;
   const uint64_t id = wait(user_id, seen, [&] {
      std::lock_guard<std::mutex> l(m);
      woken = true;
      cv.notify_one();
   });
   if (id == 0) return;
   const auto deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(deadline_ms));
   {
      std::unique_lock<std::mutex> l(m);
      cv.wait_until(l, deadline, [&] { return woken; });
   }
   cancel(id); // after this the callback, which refers to this frame, can no longer run
}

void Notifier::wake_user(const std::string &user_id, uint64_t position) {
   auto range = by_user_.equal_range(user_id);
   for (auto u = range.first; u != range.second;) {
      auto w = waiters_.find(u->second);
      if (w != waiters_.end() && w->second.seen < position) {
         w->second.wake();
         waiters_.erase(w);
         u = by_user_.erase(u);
      } else {
         ++u;
      }
   }
}

void Notifier::notify(uint64_t position, const std::vector<std::string> &users) {
   std::lock_guard<std::mutex> lock(mutex_);
   for (const auto &user : users) {
      uint64_t &p = user_position_[user];
      if (p < position) p = position;
      wake_user(user, position);
   }
}

void Notifier::notify_all(uint64_t position) {
   std::lock_guard<std::mutex> lock(mutex_);
   if (all_position_ < position) all_position_ = position;
   for (auto w = waiters_.begin(); w != waiters_.end();) {
      if (w->second.seen < position) {
         w->second.wake();
         w = waiters_.erase(w);
      } else {
         ++w;
      }
   }
   for (auto u = by_user_.begin(); u != by_user_.end();)
      u = waiters_.count(u->second) ? std::next(u) : by_user_.erase(u);
}

size_t Notifier::waiting() const {
   std::lock_guard<std::mutex> lock(mutex_);
   return waiters_.size();
}

} // namespace chat
