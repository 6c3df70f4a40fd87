// timers_service.cpp - modkit.timers/1 on the event pool.
//
// A timer is armed as one timed job at a time: the run re-arms it when it finishes, so a
// repeating timer never overlaps itself, and a run that suspends keeps the next one waiting
// until it completes.
#include "../loader.hpp"
#include "service_parts.hpp"
#include "services.hpp"

#include <modkit/services/timers.h>

#include <fmt/format.h>

namespace modkit::loader::services {

struct TimerRun {
   Services *services = nullptr;
   ModuleServices *owner = nullptr;
   uint64_t id = 0;
   uint32_t period_ms = 0;
   modkit_timer_fn fn = nullptr;
   void *user_data = nullptr;
   // [owner->mutex]
   uint64_t armed = 0;     // the pool's ID of the timed job that fires it next; 0: none
   bool running = false;
   bool cancelled = false;
   // The run's call; its cancelled flag is what the module reads through call_is_cancelled.
   volatile int32_t cancel_flag = 0;
   int64_t started_ns = 0;
   modkit_call call{};
};

namespace {

void fire(const std::shared_ptr<TimerRun> &run);

// Arms the next run at deadline. [owner->mutex held]
void arm_locked(const std::shared_ptr<TimerRun> &run, int64_t deadline_ns) {
   run->armed = run->services->events().at(deadline_ns, [run] { fire(run); });
}

// Ends the run that is going on: re-arms a repeating timer, or forgets the timer.
void finished(TimerRun *run, modkit_status status) {
   ModuleServices &m = *run->owner;
   if (status != MODKIT_OK && status != MODKIT_E_CANCELLED)
      run->services->log(MODKIT_LOG_WARNING, m,
                         fmt::format("timer {} failed: {}", run->id, modkit_status_name(status)));
   std::lock_guard<std::mutex> lock(m.mutex);
   run->running = false;
   auto it = m.timers.find(run->id);
   if (run->period_ms != 0 && !run->cancelled && m.open && it != m.timers.end()) {
      const int64_t next = run->started_ns + int64_t(run->period_ms) * 1000000;
      arm_locked(it->second, std::max(next, monotonic_ns()));
      if (run->armed != 0) return;
   }
   if (it != m.timers.end()) m.timers.erase(it);
   if (--m.active == 0) m.idle.notify_all();
}

void MODKIT_ABI on_complete(void *user_data, modkit_call *, modkit_status status) {
   finished(static_cast<TimerRun *>(user_data), status);
}

void fire(const std::shared_ptr<TimerRun> &run) {
   ModuleServices &m = *run->owner;
   {
      std::lock_guard<std::mutex> lock(m.mutex);
      run->armed = 0;
      if (run->cancelled || !m.open) {
         m.timers.erase(run->id);
         if (--m.active == 0) m.idle.notify_all();
         return;
      }
      run->running = true;
   }
   run->started_ns = monotonic_ns();
   // The timer map holds run until finished() erases it, which outlives a suspension.
   run_suspendable(run->call, &run->cancel_flag, run->services->loader().handle(), on_complete, run.get(),
                   [&](modkit_call *call) { return run->fn(run->user_data, call); });
}

modkit_status MODKIT_ABI start(modkit_host *host, uint32_t delay_ms, uint32_t period_ms, modkit_timer_fn fn,
                               void *user_data, uint64_t *out_id) {
   ModuleServices *m = module_services(host);
   if (!m || !fn) return MODKIT_E_INVALID_ARGUMENT;
   Services &services = *services_of(host);
   auto run = std::make_shared<TimerRun>();
   run->services = &services;
   run->owner = m;
   run->period_ms = period_ms;
   run->fn = fn;
   run->user_data = user_data;
   std::lock_guard<std::mutex> lock(m->mutex);
   if (!m->open) return MODKIT_E_STATE;
   run->id = m->next_id++;
   arm_locked(run, monotonic_ns() + int64_t(delay_ms) * 1000000);
   if (run->armed == 0) return MODKIT_E_STATE; // the loader is shutting down
   ++m->active;
   m->timers.emplace(run->id, run);
   if (out_id) *out_id = run->id;
   return MODKIT_OK;
}

modkit_status MODKIT_ABI cancel(modkit_host *host, uint64_t id) {
   ModuleServices *m = module_services(host);
   if (!m) return MODKIT_E_INVALID_ARGUMENT;
   std::lock_guard<std::mutex> lock(m->mutex);
   auto it = m->timers.find(id);
   if (it == m->timers.end() || it->second->cancelled) return MODKIT_E_NOT_FOUND;
   TimerRun &run = *it->second;
   run.cancelled = true;
   __atomic_store_n(&run.cancel_flag, 1, __ATOMIC_RELEASE);
   // A job the pool already handed to a thread finds the flag in fire(); a run going on ends
   // in finished(), which does not re-arm.
   if (!run.running && run.armed != 0 && run.services->events().cancel(run.armed)) {
      m->timers.erase(it);
      if (--m->active == 0) m->idle.notify_all();
   }
   return MODKIT_OK;
}

bool MODKIT_ABI is_background_instance(modkit_host *host) {
   Services *services = services_of(host);
   return services && services->settings().background_instance;
}

} // namespace

void cancel_timers_locked(Services &services, ModuleServices &m) {
   for (auto it = m.timers.begin(); it != m.timers.end();) {
      TimerRun &run = *it->second;
      run.cancelled = true;
      __atomic_store_n(&run.cancel_flag, 1, __ATOMIC_RELEASE);
      if (!run.running && run.armed != 0 && services.events().cancel(run.armed)) {
         it = m.timers.erase(it);
         --m.active; // drain waits for the rest; it does not wait on idle before this returns
      } else {
         ++it;
      }
   }
}

const modkit_timers_api timers_table = {
   sizeof(modkit_timers_api),
   start,
   cancel,
   is_background_instance,
};

} // namespace modkit::loader::services
