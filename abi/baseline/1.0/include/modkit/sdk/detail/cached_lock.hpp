// modkit/sdk/detail/cached_lock.hpp - the lock modkit::cached holds around its index.
//
// A cache hit holds it for one hash-table probe and one LRU splice, a few tens of
// nanoseconds, so it is a spin lock: taking it is one atomic exchange and releasing it one
// plain store, where a futex mutex pays an atomic read-modify-write for each (about as much as
// the probe itself). Nothing slow runs under it: the cached function, the clock and the
// destruction of dropped entries all run outside. A waiter that spins for long (its holder
// was descheduled) yields its core instead of burning it.
#pragma once

#include <atomic>
#include <thread>

namespace modkit::detail {

// Thread rule: [thread-safe]; a BasicLockable, for std::lock_guard and std::unique_lock.
class CacheLock {
public:
   void lock() noexcept {
      unsigned spins = 0;
      while (held_.exchange(true, std::memory_order_acquire)) {
         // Wait with plain loads, so waiters do not keep stealing the holder's cache line.
         while (held_.load(std::memory_order_relaxed)) {
            if (++spins < 128) relax();
            else std::this_thread::yield();
         }
      }
   }
   void unlock() noexcept { held_.store(false, std::memory_order_release); }

private:
   static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      __asm__ __volatile__("yield" ::: "memory");
#endif
   }
   std::atomic<bool> held_{false};
};

} // namespace modkit::detail
