// modkit/services/tasks.h - background tasks and thread offload (ABI 1.1), Synapse's
// run_as_background_process and defer_to_thread for native modules.
//
// Reached with get_extension(host, MODKIT_TASKS_ID) and announced by has_capability. The
// loader provides it to every module; a host may replace it (docs/services.md).
#pragma once

#include "../call.h"
#include "../host.h"
#include "../status.h"
#include "../str.h"

MODKIT_EXTERN_C_BEGIN

#define MODKIT_TASKS_ID "modkit.tasks/1"

// The work. It runs on a worker thread of the host's pool, never on the thread that called
// run(). It may block (that is what the pool is for) or suspend through call as a callback
// does; the task ends when it returns a status or completes the suspended call.
typedef modkit_status(MODKIT_ABI *modkit_task_fn)(void *user_data, modkit_call *call);

// Called exactly once per task run() accepted, after the task ended, with its status:
// MODKIT_E_CANCELLED when the task was cancelled before it started (a task that started
// always runs to its end). Runs on a service thread, never inside run(). May be NULL.
typedef void(MODKIT_ABI *modkit_task_done_fn)(void *user_data, modkit_status status);

typedef struct modkit_tasks_api {
   uint32_t struct_size; // sizeof(modkit_tasks_api) as compiled into the host

   // ---- since 1.1 ----

   // Queues fn(user_data, call) to run off the calling thread. At most the module's
   // concurrency limit (host config, "services": {"tasks": {"concurrency": N}}, default 4) of
   // its tasks run at once; the rest wait in order. name labels the task in logs and metrics
   // (copied). A task that ends with a status other than MODKIT_OK is logged with the module's
   // and the task's names. user_data must stay valid until done has run. Returns MODKIT_PENDING
   // when queued (done will be called), or MODKIT_E_INVALID_ARGUMENT (null fn),
   // MODKIT_E_STATE (before init or after deinit began) or MODKIT_E_DENIED (the module already
   // has the host's maximum of queued tasks waiting): done is then never called. *out_id
   // receives an ID for cancel (may be NULL).
   // [thread-safe]
   modkit_status(MODKIT_ABI *run)(modkit_host *host, const char *name, modkit_task_fn fn,
                                  modkit_task_done_fn done, void *user_data, uint64_t *out_id);

   // Cancels a task: one still waiting never starts and its done receives MODKIT_E_CANCELLED;
   // a running one sees call_is_cancelled and ends as it chooses. MODKIT_E_NOT_FOUND for an ID
   // this module does not hold or whose task has ended. Never waits.
   // [thread-safe]
   modkit_status(MODKIT_ABI *cancel)(modkit_host *host, uint64_t id);
} modkit_tasks_api;

MODKIT_EXTERN_C_END
