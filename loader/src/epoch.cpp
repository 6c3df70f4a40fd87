#include "epoch.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <thread>
#include <unordered_map>
#include <utility>

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

// The live domains by ID, so an exiting thread gives its readers back only to domains that
// still exist. Leaked on purpose: threads may exit after static destructors have run.
struct Domains {
   std::mutex mutex; // taken before any Epoch's own mutex, never after
   std::unordered_map<uint64_t, Epoch *> live;
};
Domains &domains() {
   static Domains *d = new Domains();
   return *d;
}

// Per thread: the reader of each domain this thread has read from; gives them back at exit.
struct ThreadReaders {
   std::vector<std::pair<uint64_t, modkit_loader_reader *>> list;
   ~ThreadReaders() {
      if (list.empty()) return;
      Domains &d = domains();
      std::lock_guard<std::mutex> lock(d.mutex);
      for (const auto &[id, reader] : list) {
         auto it = d.live.find(id);
         if (it != d.live.end()) it->second->release(reader);
      }
   }
   // Forgets readers of domains that no longer exist, so a long-lived thread that reads from
   // many short-lived loaders does not accumulate them.
   void prune() {
      Domains &d = domains();
      std::lock_guard<std::mutex> lock(d.mutex);
      list.erase(std::remove_if(list.begin(), list.end(), [&](const auto &e) { return !d.live.count(e.first); }),
                 list.end());
   }
};
thread_local ThreadReaders thread_readers;

void add(modkit_loader_counter &to, const modkit_loader_counter &from) {
   to.calls += __atomic_load_n(&from.calls, __ATOMIC_RELAXED);
   to.errors += __atomic_load_n(&from.errors, __ATOMIC_RELAXED);
   to.timed_calls += __atomic_load_n(&from.timed_calls, __ATOMIC_RELAXED);
   to.timed_ns += __atomic_load_n(&from.timed_ns, __ATOMIC_RELAXED);
}

} // namespace

bool epoch_uses_membarrier() {
   static const bool available = membarrier_available();
   return available;
}

Epoch::Epoch() : id_(next_domain_id.fetch_add(1)) {
   Domains &d = domains();
   std::lock_guard<std::mutex> lock(d.mutex);
   d.live.emplace(id_, this);
}

Epoch::~Epoch() {
   // After this, an exiting thread no longer finds the domain; one that found it first has
   // finished release() (it holds the same mutex).
   Domains &d = domains();
   std::lock_guard<std::mutex> lock(d.mutex);
   d.live.erase(id_);
}

modkit_loader_reader *Epoch::reader(const modkit_loader_snapshot *const volatile *current) {
   for (const auto &[id, reader] : thread_readers.list) {
      if (id == id_) return reader;
   }
   thread_readers.prune();
   modkit_loader_reader *reader = nullptr;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      auto free = std::find_if(slots_.begin(), slots_.end(), [](const Slot &s) { return !s.taken; });
      Slot &slot = free != slots_.end() ? *free : slots_.emplace_back();
      slot.taken = true;
      reader = &slot.reader;
      reader->struct_size = sizeof *reader;
      reader->depth = 0;
      reader->fenced = epoch_uses_membarrier() ? 0 : 1;
      reader->epoch = &epoch_;
      reader->current = current;
      reader->counters = slot.counters.get();
      reader->sample_countdown = MODKIT_LOADER_SAMPLE_PERIOD;
   }
   thread_readers.list.emplace_back(id_, reader);
   return reader;
}

void Epoch::release(modkit_loader_reader *reader) {
   std::lock_guard<std::mutex> lock(mutex_);
   for (Slot &slot : slots_) {
      if (&slot.reader != reader) continue;
      // The thread is gone: its counts move to exited_, and the zeroed array goes with the slot.
      if (exited_.size() < reader->counter_capacity) exited_.resize(reader->counter_capacity);
      for (uint32_t i = 0; i < reader->counter_capacity; ++i) {
         add(exited_[i], reader->counters[i]);
         reader->counters[i] = {};
      }
      __atomic_store_n(&reader->active, uint64_t{0}, __ATOMIC_RELEASE);
      slot.taken = false;
      return;
   }
}

void Epoch::reserve_counters_of(modkit_loader_reader *reader, uint32_t metric) {
   uint64_t id = 0;
   for (const auto &[domain, r] : thread_readers.list) {
      if (r == reader) id = domain;
   }
   if (id == 0) return; // not the calling thread's reader: refuse rather than race its owner
   Domains &d = domains();
   std::lock_guard<std::mutex> lock(d.mutex);
   auto it = d.live.find(id);
   if (it != d.live.end()) it->second->reserve_counters(reader, metric);
}

size_t Epoch::reader_slots() const {
   std::lock_guard<std::mutex> lock(mutex_);
   return slots_.size();
}

void Epoch::reserve_counters(modkit_loader_reader *reader, uint32_t metric) {
   if (metric <= reader->counter_capacity) return;
   const uint32_t capacity = std::max({metric, reader->counter_capacity * 2, 16u});
   std::unique_ptr<modkit_loader_counter[]> grown(new (std::nothrow) modkit_loader_counter[capacity]());
   if (!grown) return;
   std::lock_guard<std::mutex> lock(mutex_);
   for (Slot &slot : slots_) {
      if (&slot.reader != reader) continue;
      // Only this thread writes the old counts, so copying them loses nothing; sum() reads the
      // pointer and capacity under the mutex, so it sees the old array or the new one, whole.
      std::copy(reader->counters, reader->counters + reader->counter_capacity, grown.get());
      slot.counters = std::move(grown);
      reader->counters = slot.counters.get();
      reader->counter_capacity = capacity;
      return;
   }
}

modkit_loader_counter Epoch::sum(uint32_t metric) const {
   modkit_loader_counter total{};
   if (metric == 0) return total;
   std::lock_guard<std::mutex> lock(mutex_);
   if (metric <= exited_.size()) total = exited_[metric - 1];
   for (const Slot &slot : slots_) {
      if (metric <= slot.reader.counter_capacity) add(total, slot.reader.counters[metric - 1]);
   }
   return total;
}

bool Epoch::in_read_section() const {
   for (const auto &[id, reader] : thread_readers.list) {
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
      if (slots_.empty()) return true;
   }
   // The new snapshot is already published; sections that begin from here on copy the new
   // epoch and are not waited for.
   const uint64_t target = __atomic_add_fetch(&epoch_, 1, __ATOMIC_SEQ_CST);
   if (epoch_uses_membarrier())
      syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
   else
      std::atomic_thread_fence(std::memory_order_seq_cst);
   std::vector<const modkit_loader_reader *> readers;
   {
      // Slots are never removed, so the pointers stay valid after the lock is dropped; a slot
      // given back or taken meanwhile reads 0 or an epoch at least target.
      std::lock_guard<std::mutex> lock(mutex_);
      for (const Slot &s : slots_) readers.push_back(&s.reader);
   }
   for (const modkit_loader_reader *r : readers) {
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
