// service_parts.hpp - what Services::drain and the metrics text need from each service's file.
#pragma once

#include "../async_calls.hpp"
#include "module_services.hpp"

#include <modkit/services/http.h>
#include <modkit/services/metrics.h>
#include <modkit/services/storage.h>
#include <modkit/services/tasks.h>
#include <modkit/services/timers.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace modkit::loader::services {

class Services;

// Each service's table, defined beside its functions.
extern const modkit_timers_api timers_table;
extern const modkit_tasks_api tasks_table;
extern const modkit_http_api http_table;
extern const modkit_storage_api storage_table;
extern const modkit_metrics_api metrics_table;

// Calls fn(user_data, call) on a fresh call that may suspend (its cancel flag is *cancel):
// done(done_user_data, &call, status) receives the final status, inline when fn answered at once,
// else from the thread that completes the call. Timers and tasks run module code this way.
template <class Fn>
void run_suspendable(modkit_call &call, volatile int32_t *cancel, const modkit_loader *loader,
                     modkit_loader_call_done_fn done, void *done_user_data, Fn &&fn) {
   call = modkit_call_make(modkit_str{nullptr, 0});
   call.cancelled = cancel;
   modkit_loader_call_arm(&call, done, done_user_data, loader);
   modkit_status status = fn(&call);
   if (status == MODKIT_PENDING) status = call_settle(&call, status);
   else call.state = MODKIT_LOADER_CALL_IDLE;
   if (status != MODKIT_PENDING) done(done_user_data, &call, status);
}

// Timers (timers_service.cpp): marks every timer cancelled; those armed and not running are
// disarmed and stop counting as active. [m.mutex held]
void cancel_timers_locked(Services &services, ModuleServices &m);

// Tasks (tasks_service.cpp): removes the tasks waiting for a turn, to be finished with
// finish_cancelled_task outside the lock; flags the running ones cancelled. [m.mutex held]
std::vector<std::shared_ptr<TaskRun>> take_waiting_tasks_locked(ModuleServices &m);
// Calls a task's done with MODKIT_E_CANCELLED and ends its run. [m.mutex not held]
void finish_cancelled_task(ModuleServices &m, TaskRun &task);
const std::string &task_name(const TaskRun &task);

// Metrics (metrics_service.cpp): appends m's metrics in the Prometheus text format.
void render_module_metrics(ModuleServices &m, std::string &out);
// A label value escaped for the Prometheus text format (backslash, double quote, newline).
std::string prometheus_label(std::string_view value);

} // namespace modkit::loader::services
