#include "epoch.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>
#include <utility>
#include <vector>

namespace modkit::loader {

namespace {

// ThreadSanitizer cannot see the ordering membarrier(2) gives; under it, readers fence instead.
#if defined(__SANITIZE_THREAD__)
constexpr bool thread_sanitizer = true;
#elif defined(__has_feature)
#   if __has_feature(thread_sanitizer)
constexpr bool thread_sanitizer = true;
#   else
constexpr bool thread_sanitizer = false;
#   endif
#else
constexpr bool thread_sanitizer = false;
#endif

bool membarrier_available() {
   if (thread_sanitizer) return false;
   const long commands = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
   if (commands < 0 || !(commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
   return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

std::atomic<uint64_t> next_domain_id{1};

// Per thread: the reader of each domain this thread has read from.
thread_local std::vector<std::pair<uint64_t, modkit_loader_reader *>> thread_readers;

} // namespace

bool epoch_uses_membarrier() {
   static const bool available = membarrier_available();
   return available;
}

Epoch::Epoch() : id_(next_domain_id.fetch_add(1)) {}

Epoch::~Epoch() = default;

modkit_loader_reader *Epoch::reader(const modkit_loader_snapshot *const volatile *current) {
   for (const auto &[id, reader] : thread_readers) {
      if (id == id_) return reader;
   }
   modkit_loader_reader *reader = nullptr;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      reader = &readers_.emplace_back();
   }
   reader->struct_size = sizeof *reader;
   reader->fenced = epoch_uses_membarrier() ? 0 : 1;
   reader->epoch = &epoch_;
   reader->current = current;
   thread_readers.emplace_back(id_, reader);
   return reader;
}

bool Epoch::in_read_section() const {
   for (const auto &[id, reader] : thread_readers) {
      if (id == id_) return reader->depth > 0;
   }
   return false;
}

bool Epoch::synchronize() {
   if (in_read_section()) return false;
   {
      // A thread reads only through a reader it registered first, and registering takes this
      // lock: with none registered, no section can hold the old snapshot, and a thread that
      // registers later sees the new one (published before this call). Nothing to wait for.
      std::lock_guard<std::mutex> lock(mutex_);
      if (readers_.empty()) return true;
   }
   // The new snapshot is already published; sections that begin from here on copy the new
   // epoch and are not waited for.
   const uint64_t target = __atomic_add_fetch(&epoch_, 1, __ATOMIC_SEQ_CST);
   if (epoch_uses_membarrier())
      syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
   else
      std::atomic_thread_fence(std::memory_order_seq_cst);
   std::vector<modkit_loader_reader *> readers;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto &r : readers_) readers.push_back(&r);
   }
   for (modkit_loader_reader *r : readers) {
      for (unsigned spins = 0;; ++spins) {
         const uint64_t active = __atomic_load_n(&r->active, __ATOMIC_ACQUIRE);
         if (active == 0 || active >= target) break;
         if (spins < 64) std::this_thread::yield();
         else std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
   }
   return true;
}

} // namespace modkit::loader
