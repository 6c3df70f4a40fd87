// timers.hpp - one thread per loader that fires one-shot timers: the deadlines of suspended
// calls (modkit_loader_timer_start).
//
// Ownership: mutex_ guards the queue and the thread's start and stop. A timer's callback runs on
// the thread, outside the lock, so it may start or cancel timers itself.
#pragma once

#include <modkit/loader.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace modkit::loader {

class Timers {
public:
   Timers() = default;
   ~Timers() { stop(); }
   Timers(const Timers &) = delete;
   Timers &operator=(const Timers &) = delete;

   // Schedules fire(user_data) at deadline_ns (CLOCK_MONOTONIC); the thread starts on first use.
   // [thread-safe]
   uint64_t start(int64_t deadline_ns, modkit_loader_timer_fn fire, void *user_data);
   // True when the timer was still queued and is now removed. [thread-safe]
   bool cancel(uint64_t id);
   // Stops the thread; timers still queued never fire. [the loader's destruction]
   void stop();

private:
   struct Timer {
      modkit_loader_timer_fn fire;
      void *user_data;
      std::multimap<int64_t, uint64_t>::iterator at;
   };
   void run();

   std::mutex mutex_;
   std::condition_variable wake_;
   std::multimap<int64_t, uint64_t> queue_; // deadline -> id
   std::unordered_map<uint64_t, Timer> timers_;
   uint64_t next_id_ = 1;
   bool stopping_ = false;
   std::thread thread_;
};

} // namespace modkit::loader
