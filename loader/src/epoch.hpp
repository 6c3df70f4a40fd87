// epoch.hpp - lock-free read sections for dispatch, grace periods for unload and reload, and
// the per-thread metric counters that live beside each thread's reader.
//
// Dispatching threads read the registry through an immutable snapshot inside a read section;
// a thread that changes the module set publishes a new snapshot and then waits for a grace
// period: until every read section that might still see the old one has ended. Only then are
// the old snapshot freed and a removed module's deinit and dlclose run, so no call into a
// module can be in flight when it goes away, and none is lost or made twice.
//
// Readers pay two plain stores and a compiler barrier; the writer pays for the ordering with
// membarrier(2), which makes every running thread of the process execute a full barrier (the
// asymmetric scheme of userspace RCU). Where membarrier is unavailable, readers fence instead.
//
// Ownership: the Epoch owns every reader slot; a thread holds one slot per Epoch from its first
// read until it exits, when the slot (and its counts) are given back for the next thread to
// reuse, so the list is as long as the most threads that ever read at once. mutex_ guards the
// slot list, which slots are taken, each slot's counter array pointer and capacity, and the
// counts of threads that have exited. A slot's depth, active, countdown and counter values are
// written only by its owning thread (active and counters with atomic stores, read by others
// with atomic loads).
#pragma once

#include <modkit/loader.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace modkit::loader {

class Epoch {
public:
   Epoch();
   ~Epoch();
   Epoch(const Epoch &) = delete;
   Epoch &operator=(const Epoch &) = delete;

   // The calling thread's reader for this domain, taken on first use and given back when the
   // thread exits. [thread-safe]
   modkit_loader_reader *reader(const modkit_loader_snapshot *const volatile *current);

   // Returns once every read section that began before the call has ended. Must not be called
   // from inside a read section of this domain (it would wait for itself): returns false then.
   // [main-thread]
   bool synchronize();

   // True when the calling thread is inside a read section of this domain.
   bool in_read_section() const;

   // How many reader slots exist (taken or free): bounded by the most threads that read at once.
   size_t reader_slots() const;

   // Grows reader's counter array to hold metric (1-based). [reader's own thread]
   void reserve_counters(modkit_loader_reader *reader, uint32_t metric);
   // The same, finding the domain of the calling thread's reader. [reader's own thread]
   static void reserve_counters_of(modkit_loader_reader *reader, uint32_t metric);

   // metric's counts (1-based) summed over every thread, live or exited. [thread-safe]
   modkit_loader_counter sum(uint32_t metric) const;

   // Gives a thread's reader back (its counts are kept). [the exiting thread]
   void release(modkit_loader_reader *reader);

private:
   // One reader per cache-line pair, so no two threads' hot fields share a line.
   struct alignas(128) Slot {
      modkit_loader_reader reader{};
      bool taken = false;
      std::unique_ptr<modkit_loader_counter[]> counters; // what reader.counters points to
   };

   const uint64_t id_;                 // tells this domain from one that reuses its address
   volatile uint64_t epoch_ = 1;       // bumped by every grace period; readers copy it
   mutable std::mutex mutex_;          // see "Ownership" above
   std::deque<Slot> slots_;
   std::vector<modkit_loader_counter> exited_; // counts of threads that exited, by metric - 1
};

// Whether this process uses membarrier (decided once).
bool epoch_uses_membarrier();

} // namespace modkit::loader
