// worker_pool.cpp - see worker_pool.hpp for the thread rules.
#include "worker_pool.hpp"

#include <algorithm>

namespace chat {

WorkerPool::WorkerPool(size_t threads) {
   for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) workers_.push_back(std::make_unique<Worker>());
   for (auto &w : workers_) threads_.emplace_back([this, worker = w.get()] { run(*worker); });
}

WorkerPool::~WorkerPool() { join(); }

void WorkerPool::join() {
   {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      for (auto &w : workers_) w->wake.notify_one();
   }
   for (auto &t : threads_)
      if (t.joinable()) t.join();
}

void WorkerPool::post(std::function<void()> job) {
   std::unique_lock<std::mutex> lock(mutex_);
   if (stopping_) return;
   if (idle_.empty()) {
      queue_.push_back(std::move(job));
      return;
   }
   Worker *w = idle_.back();
   idle_.pop_back();
   w->job = std::move(job);
   w->has_job = true;
   lock.unlock();
   w->wake.notify_one();
}

void WorkerPool::run(Worker &self) {
   std::unique_lock<std::mutex> lock(mutex_);
   for (;;) {
      if (!queue_.empty()) {
         self.job = std::move(queue_.front());
         queue_.pop_front();
         self.has_job = true;
      }
      if (!self.has_job) {
         if (stopping_) return;
         idle_.push_back(&self);
         self.wake.wait(lock, [&] { return self.has_job || stopping_; });
         if (!self.has_job) { // stopping, never handed a job: leave the idle stack
            idle_.erase(std::find(idle_.begin(), idle_.end(), &self));
            continue;
         }
      }
      std::function<void()> job = std::move(self.job);
      self.has_job = false;
      lock.unlock();
      job();
      lock.lock();
   }
}

} // namespace chat
