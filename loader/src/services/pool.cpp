#include "pool.hpp"

#include <algorithm>
#include <ctime>

namespace modkit::loader::services {

int64_t monotonic_ns() {
   timespec ts{};
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void Pool::start_locked() {
   if (threads_.empty()) {
      threads_.reserve(size_);
      for (unsigned i = 0; i < size_; ++i) threads_.emplace_back([this] { run(); });
   }
}

// Notified under the lock, here and in at(): a thread that posts as the pool's owner stops and
// destroys it (a module's own thread completing a timer run during unload) must be done with
// wake_ before stop() can return.
bool Pool::post(Job job) {
   std::lock_guard<std::mutex> lock(mutex_);
   if (stopping_) return false;
   start_locked();
   jobs_.push_back(std::move(job));
   wake_.notify_one();
   return true;
}

uint64_t Pool::at(int64_t deadline_ns, Job job) {
   std::lock_guard<std::mutex> lock(mutex_);
   if (stopping_) return 0;
   start_locked();
   const uint64_t id = next_id_++;
   auto at = due_.emplace(deadline_ns, id);
   timed_.emplace(id, Timed{std::move(job), at});
   // Threads waiting for a later deadline must recompute theirs; an idle one takes it.
   if (at == due_.begin()) wake_.notify_one();
   return id;
}

bool Pool::cancel(uint64_t id) {
   Job dropped; // destroyed outside the lock: it may own what a job's captures hold
   std::lock_guard<std::mutex> lock(mutex_);
   auto it = timed_.find(id);
   if (it == timed_.end()) return false;
   due_.erase(it->second.at);
   dropped = std::move(it->second.job);
   timed_.erase(it);
   return true;
}

void Pool::stop() {
   std::vector<std::thread> threads;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      threads.swap(threads_);
      wake_.notify_all();
   }
   for (auto &t : threads) t.join();
   std::deque<Job> jobs;
   std::unordered_map<uint64_t, Timed> timed;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs.swap(jobs_);
      timed.swap(timed_);
      due_.clear();
   }
}

bool Pool::on_pool_thread() const {
   std::lock_guard<std::mutex> lock(mutex_);
   const auto self = std::this_thread::get_id();
   return std::any_of(threads_.begin(), threads_.end(), [&](const std::thread &t) { return t.get_id() == self; });
}

void Pool::run() {
   std::unique_lock<std::mutex> lock(mutex_);
   while (!stopping_) {
      Job job;
      if (!due_.empty() && due_.begin()->first <= monotonic_ns()) {
         auto it = timed_.find(due_.begin()->second);
         due_.erase(due_.begin());
         job = std::move(it->second.job);
         timed_.erase(it);
      } else if (!jobs_.empty()) {
         job = std::move(jobs_.front());
         jobs_.pop_front();
      } else if (!due_.empty()) {
         wake_.wait_for(lock, std::chrono::nanoseconds(due_.begin()->first - monotonic_ns()));
         continue;
      } else {
         wake_.wait(lock);
         continue;
      }
      lock.unlock();
      job();
      job = nullptr;
      lock.lock();
   }
}

} // namespace modkit::loader::services
