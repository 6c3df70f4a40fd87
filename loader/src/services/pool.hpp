// pool.hpp - a few threads that run queued jobs and jobs due at a time: the runtime the
// standard services share (one pool for timers and completions, one for offloaded tasks).
//
// Ownership: mutex_ guards the queues, the thread list and stopping_. Jobs run on the pool's
// threads outside the lock, so a job may queue or cancel jobs. A due job is taken by whichever
// thread wakes first: arm-to-run is one wake-up, as with a dedicated timer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <deque>
#include <thread>
#include <unordered_map>
#include <vector>

namespace modkit::loader::services {

// CLOCK_MONOTONIC nanoseconds.
int64_t monotonic_ns();

class Pool {
public:
   using Job = std::function<void()>;

   explicit Pool(unsigned threads) : size_(threads == 0 ? 1 : threads) {}
   ~Pool() { stop(); }
   Pool(const Pool &) = delete;
   Pool &operator=(const Pool &) = delete;

   // Runs job on a pool thread as soon as one is free; threads start on first use. False once
   // stopping. [thread-safe]
   bool post(Job job);
   // Runs job at deadline_ns (CLOCK_MONOTONIC) or soon after; returns its ID (0 once stopping).
   // [thread-safe]
   uint64_t at(int64_t deadline_ns, Job job);
   // True when the timed job was still waiting and is now removed (it never runs). [thread-safe]
   bool cancel(uint64_t id);
   // Stops the threads after the job each is running; queued jobs are dropped unrun. Not from a
   // pool thread. [the owner's destruction]
   void stop();
   // True on one of this pool's threads. [thread-safe]
   bool on_pool_thread() const;

private:
   void start_locked();
   void run();

   const unsigned size_;
   mutable std::mutex mutex_;
   std::condition_variable wake_;
   std::deque<Job> jobs_;
   std::multimap<int64_t, uint64_t> due_; // deadline -> ID
   struct Timed {
      Job job;
      std::multimap<int64_t, uint64_t>::iterator at;
   };
   std::unordered_map<uint64_t, Timed> timed_;
   uint64_t next_id_ = 1;
   bool stopping_ = false;
   std::vector<std::thread> threads_;
};

} // namespace modkit::loader::services
