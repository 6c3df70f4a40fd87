// async_calls.cpp - the completion protocol of suspended calls (ABI 1.1), from both sides: the
// module's call_can_suspend / call_complete and the host's modkit_loader_call_settle, and the
// pins a suspended call holds on its snapshot.
//
// A call's state (modkit_call.state) moves ARMED -> SUSPENDED -> (done runs) when the callback
// returns MODKIT_PENDING first, or ARMED -> COMPLETED -> (settle returns the status) when the
// module completes before returning. Whichever side arrives second continues, decided by one
// compare-and-swap each, so no lock and no allocation is involved. status is written before
// the releasing CAS and read after the acquiring one.
#include "async_calls.hpp"

#include "loader.hpp"
#include "min_sizes.hpp"

#include <fmt/format.h>

namespace modkit::loader {

namespace {

bool can_carry_async(const modkit_call *call) { return call && call->struct_size >= min_size::async_call; }

uint32_t load_state(const modkit_call *call) { return __atomic_load_n(&call->state, __ATOMIC_ACQUIRE); }

bool move_state(modkit_call *call, uint32_t from, uint32_t to) {
   return __atomic_compare_exchange_n(&call->state, &from, to, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void log_misuse(const modkit_call *call, const char *what) {
   if (!call->loader) return;
   const std::string_view id = call->request_id.data ? std::string_view(call->request_id.data, call->request_id.size)
                                                     : std::string_view();
   try {
      call->loader->impl.logf(MODKIT_LOG_ERROR, nullptr,
                              fmt::format("a module {} (call '{}'); the completion is ignored", what, id));
   } catch (...) {
   }
}

} // namespace

bool call_can_suspend(const modkit_call *call) {
   return can_carry_async(call) && call->done && load_state(call) == MODKIT_LOADER_CALL_ARMED;
}

modkit_status call_complete(modkit_call *call, modkit_status status) {
   if (!can_carry_async(call) || !call->done) return MODKIT_E_INVALID_ARGUMENT;
   if (status == MODKIT_PENDING) {
      log_misuse(call, "completed a call with MODKIT_PENDING");
      status = MODKIT_E_INTERNAL;
   }
   for (;;) {
      const uint32_t state = load_state(call);
      if (state == MODKIT_LOADER_CALL_ARMED) {
         // The callback has not returned yet: leave the status for settle to pick up.
         __atomic_store_n(&call->status, status, __ATOMIC_RELAXED);
         if (move_state(call, MODKIT_LOADER_CALL_ARMED, MODKIT_LOADER_CALL_COMPLETED)) return MODKIT_OK;
      } else if (state == MODKIT_LOADER_CALL_SUSPENDED) {
         if (move_state(call, MODKIT_LOADER_CALL_SUSPENDED, MODKIT_LOADER_CALL_IDLE)) {
            // Read done before the host may re-arm the call for its next callback.
            call->done(call->done_user_data, call, status);
            return MODKIT_OK;
         }
      } else {
         log_misuse(call, "completed a call twice, or one it had not suspended");
         return MODKIT_E_STATE;
      }
   }
}

} // namespace modkit::loader

namespace modkit::loader {

modkit_status call_settle(modkit_call *call, modkit_status status) {
   if (!call) return status;
   if (status != MODKIT_PENDING || !can_carry_async(call) || !call->done) {
      if (can_carry_async(call)) {
         uint32_t state = __atomic_load_n(&call->state, __ATOMIC_ACQUIRE);
         // Answered, yet completed as well: the answer stands; the completion was a misuse.
         if (state == MODKIT_LOADER_CALL_COMPLETED && status != MODKIT_PENDING)
            log_misuse(call, "completed a call it answered synchronously");
         __atomic_store_n(&call->state, MODKIT_LOADER_CALL_IDLE, __ATOMIC_RELAXED);
      }
      // PENDING from a call that could not suspend stays an error status, as in ABI 1.0.
      return status;
   }
   uint32_t expected = MODKIT_LOADER_CALL_ARMED;
   if (__atomic_compare_exchange_n(&call->state, &expected, MODKIT_LOADER_CALL_SUSPENDED, false, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE))
      return MODKIT_PENDING;
   // The module completed before it returned: the dispatch goes on here, synchronously.
   const modkit_status completed = __atomic_load_n(&call->status, __ATOMIC_RELAXED);
   __atomic_store_n(&call->state, MODKIT_LOADER_CALL_IDLE, __ATOMIC_RELAXED);
   return completed;
}

void pin(const modkit_loader_snapshot *snapshot, uint32_t module_index) {
   if (!snapshot) return;
   const auto &snap = static_cast<const Snapshot &>(*snapshot);
   // seq_cst: a writer that has seen the grace period end must see every pin taken before it.
   snap.pins.fetch_add(1, std::memory_order_seq_cst);
   if (module_index < snap.pending.size()) snap.pending[module_index]->fetch_add(1, std::memory_order_relaxed);
}

void unpin(const modkit_loader_snapshot *snapshot, uint32_t module_index) {
   if (!snapshot) return;
   const auto &snap = static_cast<const Snapshot &>(*snapshot);
   if (module_index < snap.pending.size()) snap.pending[module_index]->fetch_sub(1, std::memory_order_relaxed);
   // release: everything the call did with the snapshot happens before a writer frees it.
   snap.pins.fetch_sub(1, std::memory_order_release);
}

} // namespace modkit::loader
