#include "timers.hpp"

#include <ctime>

namespace modkit::loader {

namespace {

int64_t now_ns() {
   timespec ts{};
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

} // namespace

uint64_t Timers::start(int64_t deadline_ns, modkit_loader_timer_fn fire, void *user_data) {
   std::lock_guard<std::mutex> lock(mutex_);
   if (stopping_) return 0;
   if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
   const uint64_t id = next_id_++;
   auto at = queue_.emplace(deadline_ns, id);
   timers_.emplace(id, Timer{fire, user_data, at});
   if (at == queue_.begin()) wake_.notify_one();
   return id;
}

bool Timers::cancel(uint64_t id) {
   std::lock_guard<std::mutex> lock(mutex_);
   auto it = timers_.find(id);
   if (it == timers_.end()) return false;
   queue_.erase(it->second.at);
   timers_.erase(it);
   return true;
}

void Timers::stop() {
   {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
   }
   wake_.notify_one();
   if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Timers::run() {
   std::unique_lock<std::mutex> lock(mutex_);
   while (!stopping_) {
      if (queue_.empty()) {
         wake_.wait(lock);
         continue;
      }
      const int64_t wait = queue_.begin()->first - now_ns();
      if (wait > 0) {
         wake_.wait_for(lock, std::chrono::nanoseconds(wait));
         continue;
      }
      const uint64_t id = queue_.begin()->second;
      queue_.erase(queue_.begin());
      auto it = timers_.find(id);
      const Timer timer = it->second;
      timers_.erase(it);
      lock.unlock();
      timer.fire(timer.user_data);
      lock.lock();
   }
}

} // namespace modkit::loader
