// loop_threads.cpp - see loop_threads.hpp for the threads, the hand-off and the memory order.
#include "loop_threads.hpp"

#include "blocking.hpp"

#include <algorithm>

namespace chat {

namespace {

int64_t now_ns() {
   return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

thread_local LoopThreads *LoopThreads::owner_ = nullptr;
thread_local LoopThreads::Member *LoopThreads::current_ = nullptr;

LoopThreads::LoopThreads(std::function<bool()> run_one, size_t max_threads, std::chrono::microseconds slow_after)
   : run_one_(std::move(run_one)), max_threads_(std::max<size_t>(max_threads, 1)), slow_after_(slow_after) {}

LoopThreads::~LoopThreads() { join(); }

void LoopThreads::run() {
   Member *first = nullptr;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      members_.push_back(std::make_unique<Member>());
      first = members_.back().get();
      leader_ = first;
      threads_.emplace_back([this] { monitor(); });
   }
   serve(*first);
}

void LoopThreads::stop() {
   {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      for (Member *m : parked_) m->wake.notify_one();
   }
   monitor_wake_.notify_all();
}

void LoopThreads::join() {
   stop();
   std::vector<std::thread> all;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      all.swap(threads_); // no thread starts once stopping_ is set
   }
   for (auto &t : all)
      if (t.joinable()) t.join();
}

size_t LoopThreads::threads() const {
   std::lock_guard<std::mutex> lock(mutex_);
   return members_.size();
}

void LoopThreads::serve(Member &me) {
   owner_ = this;
   current_ = &me;
   for (;;) {
      {
         std::unique_lock<std::mutex> lock(mutex_);
         if (leader_ != &me) {
            if (stopping_) break;
            parked_.push_back(&me);
            me.wake.wait(lock, [&] { return leader_ == &me || stopping_; });
            if (leader_ != &me) {
               parked_.erase(std::find(parked_.begin(), parked_.end(), &me));
               break;
            }
         }
      }
      me.lost = false;
      bool running = true;
      while (running && !me.lost) running = run_one_();
      if (!running) {
         stop(); // the loop has stopped: parked threads leave too
         break;
      }
   }
   owner_ = nullptr;
   current_ = nullptr;
}

void LoopThreads::pass_lead_locked(Member &from, int64_t began) {
   if (leader_ != &from || stopping_) return;
   Member *next = nullptr;
   if (!parked_.empty()) {
      next = parked_.back();
   } else if (members_.size() < max_threads_) {
      try {
         members_.push_back(std::make_unique<Member>());
      } catch (...) {
         return; // out of memory: the request keeps the lead
      }
      next = members_.back().get();
      try {
         threads_.emplace_back([this, next] { serve(*next); }); // waits for mutex_, then leads or parks
      } catch (...) {
         members_.pop_back();
         return;
      }
   } else {
      return; // every thread is taken: the loop waits with this request
   }
   // The request may have ended meanwhile, still leading: then a new thread simply parks.
   if (!from.busy.compare_exchange_strong(began, taken, std::memory_order_acq_rel)) return;
   if (!parked_.empty() && parked_.back() == next) parked_.pop_back();
   leader_ = next;
   next->wake.notify_one();
}

void LoopThreads::begin_request() noexcept {
   Member *me = current_;
   if (!me) return;
   me->busy.store(now_ns(), std::memory_order_seq_cst);
   owner_->started_.fetch_add(1, std::memory_order_relaxed);
   if (owner_->monitor_asleep_.load(std::memory_order_seq_cst)) owner_->wake_monitor();
}

bool LoopThreads::end_request() noexcept {
   Member *me = current_;
   if (!me || me->busy.exchange(0, std::memory_order_acq_rel) != taken) return true;
   me->lost = true;
   return false;
}

void will_block() noexcept {
   LoopThreads::Member *me = LoopThreads::current_;
   if (!me) return;
   const int64_t began = me->busy.load(std::memory_order_relaxed);
   if (began <= 0) return; // no request inline here, or the lead is gone already
   LoopThreads &owner = *LoopThreads::owner_;
   std::lock_guard<std::mutex> lock(owner.mutex_);
   owner.pass_lead_locked(*me, began);
}

void LoopThreads::wake_monitor() {
   if (!monitor_asleep_.exchange(false, std::memory_order_seq_cst)) return;
   std::lock_guard<std::mutex> lock(mutex_); // the monitor is waiting, or about to with mutex_ held
   monitor_wake_.notify_one();
}

void LoopThreads::monitor() {
   // Half the bound, so a request is seen within 1.5 times it; about 100 ms without a request
   // and the monitor sleeps until the next one.
   const auto tick = std::max<std::chrono::microseconds>(slow_after_ / 2, std::chrono::microseconds(100));
   const int64_t slow_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(slow_after_).count();
   const int quiet_ticks = static_cast<int>(std::chrono::milliseconds(100) / tick) + 1;
   std::unique_lock<std::mutex> lock(mutex_);
   uint64_t seen = started_.load(std::memory_order_relaxed);
   int quiet = 0;
   while (!stopping_) {
      monitor_wake_.wait_for(lock, tick);
      if (stopping_) break;
      int64_t began = leader_ ? leader_->busy.load(std::memory_order_seq_cst) : 0;
      if (began > 0 && now_ns() - began >= slow_ns) pass_lead_locked(*leader_, began);
      const uint64_t started = started_.load(std::memory_order_relaxed);
      if (started != seen || began != 0) {
         seen = started;
         quiet = 0;
         continue;
      }
      if (++quiet < quiet_ticks) continue;
      monitor_asleep_.store(true, std::memory_order_seq_cst);
      began = leader_ ? leader_->busy.load(std::memory_order_seq_cst) : 0;
      if (began == 0)
         monitor_wake_.wait(lock, [&] { return stopping_ || !monitor_asleep_.load(std::memory_order_seq_cst); });
      monitor_asleep_.store(false, std::memory_order_seq_cst);
      quiet = 0;
      seen = started_.load(std::memory_order_relaxed);
   }
}

} // namespace chat
