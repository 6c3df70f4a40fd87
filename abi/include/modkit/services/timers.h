// modkit/services/timers.h - one-shot and repeating timers (ABI 1.1), Synapse's
// clock.call_later / looping_call for native modules.
//
// Reached with get_extension(host, MODKIT_TIMERS_ID) and announced by has_capability. The
// loader provides it to every module; a host may replace it (docs/services.md).
#pragma once

#include "../call.h"
#include "../host.h"
#include "../status.h"

MODKIT_EXTERN_C_BEGIN

#define MODKIT_TIMERS_ID "modkit.timers/1"

// A timer's callback. It runs on a service thread, never inside start() and never while the
// same timer's previous run is still going: a repeating timer's next run is scheduled only
// after this run has finished (returned, or completed the call it suspended), `period_ms`
// after it started, or at once when the run took longer. call works like a callback's: it may
// suspend (call_can_suspend is true) and the run finishes at call_complete. A status other
// than MODKIT_OK is logged with the module's name; the timer keeps running.
typedef modkit_status(MODKIT_ABI *modkit_timer_fn)(void *user_data, modkit_call *call);

typedef struct modkit_timers_api {
   uint32_t struct_size; // sizeof(modkit_timers_api) as compiled into the host

   // ---- since 1.1 ----

   // Arms a timer that first fires delay_ms from now and then, when period_ms is not 0,
   // every period_ms. user_data must stay valid until the timer is cancelled or the module's
   // deinit (the host stops and drains every timer of a module before its deinit, so a module
   // never has to cancel at shutdown). *out_id receives an ID for cancel (may be NULL).
   // MODKIT_E_INVALID_ARGUMENT for a null fn, MODKIT_E_STATE before init or after deinit began.
   // [thread-safe]
   modkit_status(MODKIT_ABI *start)(modkit_host *host, uint32_t delay_ms, uint32_t period_ms,
                                    modkit_timer_fn fn, void *user_data, uint64_t *out_id);

   // Stops a timer: it does not fire again. A run already going on finishes (cancel never
   // waits, so a timer may cancel itself from its own callback); the call it holds reports
   // call_is_cancelled. MODKIT_E_NOT_FOUND for an ID this module does not hold (also one that
   // fired its last time).
   // [thread-safe]
   modkit_status(MODKIT_ABI *cancel)(modkit_host *host, uint64_t id);

   // True on the host instance that runs background work (Synapse's
   // should_run_background_tasks). A host of one process is always that instance unless its
   // config says otherwise ("services": {"background_instance": false}).
   // [thread-safe]
   bool(MODKIT_ABI *is_background_instance)(modkit_host *host);
} modkit_timers_api;

MODKIT_EXTERN_C_END
