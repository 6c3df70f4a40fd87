// modkit/sdk/detail/callback_gate.hpp - lets an RAII handle promise that its callback is over.
//
// The host's cancel functions never wait for a callback already running, so a handle whose
// destructor only cancelled would leave the module's callback running on a service thread with
// whatever it captured (often the object being destroyed). The service thread brackets each
// callback with enter() and leave(); the handle calls close(). Once close() has returned, no
// callback is running and none starts.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace modkit::detail {

// Thread rule: [thread-safe]. Built for one callback at a time (a timer's runs never overlap; an
// HTTP request's done runs once), which is what lets close() recognise its own thread.
class CallbackGate {
public:
   // Before the callback: false once closed, and the callback must then be skipped.
   bool enter() {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return false;
      ++inside_;
      runner_ = std::this_thread::get_id();
      return true;
   }

   // After a callback that enter() let in.
   void leave() {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--inside_ == 0) runner_ = std::thread::id();
      left_.notify_all();
   }

   // Lets no callback in any more, and waits for the one inside, unless it is the caller: a
   // callback that cancels its own handle (a timer stopping itself, a coroutine ending inside
   // the callback that resumed it) could never finish if it waited for itself. A callback
   // waiting for a lock the closing thread holds deadlocks, as with any joining cancel.
   void close() {
      std::unique_lock<std::mutex> lock(mutex_);
      closed_ = true;
      const std::thread::id self = std::this_thread::get_id();
      left_.wait(lock, [&] { return inside_ == 0 || runner_ == self; });
   }

private:
   std::mutex mutex_;
   std::condition_variable left_;
   bool closed_ = false;    // guarded by mutex_
   int inside_ = 0;         // guarded by mutex_
   std::thread::id runner_; // guarded by mutex_; the thread inside, while inside_ > 0
};

} // namespace modkit::detail
