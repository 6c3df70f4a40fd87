// epoch.hpp - lock-free read sections for dispatch, grace periods for unload and reload.
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
#pragma once

#include <modkit/loader.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>

namespace modkit::loader {

class Epoch {
public:
   Epoch();
   ~Epoch();
   Epoch(const Epoch &) = delete;
   Epoch &operator=(const Epoch &) = delete;

   // The calling thread's reader for this domain, registered on first use. Readers live as long
   // as the domain. [thread-safe]
   modkit_loader_reader *reader(const modkit_loader_snapshot *const volatile *current);

   // Returns once every read section that began before the call has ended. Must not be called
   // from inside a read section of this domain (it would wait for itself): returns false then.
   // [main-thread]
   bool synchronize();

   // True when the calling thread is inside a read section of this domain.
   bool in_read_section() const;

private:
   const uint64_t id_;                 // tells this domain from one that reuses its address
   volatile uint64_t epoch_ = 1;       // bumped by every grace period; readers copy it
   std::mutex mutex_;                  // guards readers_
   std::deque<modkit_loader_reader> readers_;
};

// Whether this process uses membarrier (decided once).
bool epoch_uses_membarrier();

} // namespace modkit::loader
