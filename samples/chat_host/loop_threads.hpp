// loop_threads.hpp - the threads that run the HTTP server's event loop and its requests.
//
// One thread at a time leads: it runs the loop (one handler per run_one) and each request's
// handler inline, on the thread that read it, so a request costs no hand-off between threads
// and no wake-up. A request that would hold the loop up passes the lead on and finishes where it
// is, its answer posted back to the loop:
// - one that is about to wait (a module suspended its call) says so: will_block (blocking.hpp);
// - one that has run longer than slow_after without saying so (a module blocking inside its
//   callback, a reload waiting for calls to end) is seen by a monitor thread, which passes the
//   lead for it.
// The lead goes to the thread that parked last (it is the warmest), or to a new thread while
// there are fewer than max_threads; with none to take it, the request keeps the lead and the
// loop waits with it. A thread that lost the lead parks once its request has ended.
//
// Threads and ownership. mutex_ guards leader_, parked_, members_, threads_ and stopping_.
// Member::busy is when the member's current inline request began (steady clock, nanoseconds;
// 0: none; taken: the lead was passed on during it). Its own thread stores it at the request's
// start and exchanges it at the end; will_block and the monitor pass the lead only by a
// compare-exchange of it, under mutex_, so a request's end and a hand-off never both win: the
// request that ends still leading touches the loop's state directly, the one that lost it posts.
// started_ counts requests begun (relaxed, for the monitor's idle check). The monitor sleeps
// when no request ran for a while; begin_request wakes it. begin_request's store of busy and the
// monitor's store of monitor_asleep_ are each followed by a load of the other (seq_cst), so at
// least one of them sees the other.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace chat {

class LoopThreads {
public:
   // run_one runs at most one of the loop's handlers, waiting for one if need be, and returns
   // false once the loop has stopped. At most max_threads threads (at least 1) run it.
   LoopThreads(std::function<bool()> run_one, size_t max_threads, std::chrono::microseconds slow_after);
   ~LoopThreads();
   LoopThreads(const LoopThreads &) = delete;
   LoopThreads &operator=(const LoopThreads &) = delete;

   // Leads on the calling thread (and starts the monitor); returns once the loop has stopped and
   // this thread's own request, if any, has ended. Once only.
   void run();
   // Makes every thread leave once its request has ended; the loop itself is stopped by its
   // owner. [any thread]
   void stop();
   // stop(), then joins every thread run() started. [not from a loop thread]
   void join();

   // Around a request's handler run inline by a loop thread: begin before it, end after it.
   // end_request returns false when the lead was passed on meanwhile: what the handler's answer
   // does to the loop's state must then be posted to the loop. Outside a loop thread, begin does
   // nothing and end returns true.
   static void begin_request() noexcept;
   static bool end_request() noexcept;

   // Threads that have run the loop so far (tests read it). [any thread]
   size_t threads() const;

private:
   struct Member {
      std::condition_variable wake;
      std::atomic<int64_t> busy{0};
      bool lost = false; // its own thread only: the lead was passed on during its last request
   };
   static constexpr int64_t taken = -1;

   void serve(Member &me);
   // Passes the lead from `from`, whose request began at `began`, when a thread can take it.
   // [mutex_ held]
   void pass_lead_locked(Member &from, int64_t began);
   void monitor();
   void wake_monitor();

   friend void will_block() noexcept;
   // The loop thread running on this thread, if any, and its member.
   static thread_local LoopThreads *owner_;
   static thread_local Member *current_;

   const std::function<bool()> run_one_;
   const size_t max_threads_;
   const std::chrono::microseconds slow_after_;

   mutable std::mutex mutex_;
   Member *leader_ = nullptr;
   std::vector<Member *> parked_; // most recently parked last
   std::vector<std::unique_ptr<Member>> members_;
   std::vector<std::thread> threads_; // the members' but the first (run()'s caller), and the monitor
   bool stopping_ = false;
   std::condition_variable monitor_wake_;
   std::atomic<bool> monitor_asleep_{false};
   std::atomic<uint64_t> started_{0};
};

} // namespace chat
