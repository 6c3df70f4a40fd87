// tasks_service.cpp - modkit.tasks/1: work offloaded to the task pool, at most the module's
// concurrency limit at once, the rest waiting in order.
//
// A task's done runs on the event pool, never on the thread that ran the task: a task that
// blocks holds one task thread only, and done cannot re-enter the task that produced it.
#include "../loader.hpp"
#include "service_parts.hpp"
#include "services.hpp"

#include <modkit/services/tasks.h>

#include <fmt/format.h>

namespace modkit::loader::services {

struct TaskRun {
   Services *services = nullptr;
   ModuleServices *owner = nullptr;
   uint64_t id = 0;
   std::string name;
   modkit_task_fn fn = nullptr;
   modkit_task_done_fn done = nullptr;
   void *user_data = nullptr;
   volatile int32_t cancel_flag = 0;
   modkit_call call{};
};

const std::string &task_name(const TaskRun &task) { return task.name; }

namespace {

void start_task(const std::shared_ptr<TaskRun> &task);

// Delivers done(status) on the event pool, then ends the run.
void deliver(const std::shared_ptr<TaskRun> &task, modkit_status status) {
   auto call_done = [task, status] {
      if (task->done) task->done(task->user_data, status);
      leave(*task->owner);
   };
   if (!task->services->events().post(call_done)) call_done(); // the loader is shutting down
}

// The task ended: log a failure, let the next waiting task start, deliver done.
void ended(TaskRun *raw, modkit_status status) {
   ModuleServices &m = *raw->owner;
   if (status != MODKIT_OK)
      raw->services->log(MODKIT_LOG_WARNING, m,
                         fmt::format("background task '{}' failed: {}", raw->name, modkit_status_name(status)));
   std::shared_ptr<TaskRun> task, next;
   {
      std::lock_guard<std::mutex> lock(m.mutex);
      auto it = m.tasks.find(raw->id);
      task = it->second;
      m.tasks.erase(it);
      --m.running_tasks;
      if (!m.waiting.empty() && m.open) {
         next = std::move(m.waiting.front());
         m.waiting.pop_front();
         ++m.running_tasks;
      }
   }
   if (next) start_task(next);
   deliver(task, status);
}

void MODKIT_ABI on_complete(void *user_data, modkit_call *, modkit_status status) {
   ended(static_cast<TaskRun *>(user_data), status);
}

void start_task(const std::shared_ptr<TaskRun> &task) {
   auto work = [task] {
      run_suspendable(task->call, &task->cancel_flag, task->services->loader().handle(), on_complete, task.get(),
                      [&](modkit_call *call) { return task->fn(task->user_data, call); });
   };
   if (!task->services->tasks().post(work)) ended(task.get(), MODKIT_E_CANCELLED);
}

modkit_status MODKIT_ABI run(modkit_host *host, const char *name, modkit_task_fn fn, modkit_task_done_fn done,
                             void *user_data, uint64_t *out_id) {
   ModuleServices *m = module_services(host);
   if (!m || !fn) return MODKIT_E_INVALID_ARGUMENT;
   auto task = std::make_shared<TaskRun>();
   task->services = services_of(host);
   task->owner = m;
   task->name = name ? name : "";
   task->fn = fn;
   task->done = done;
   task->user_data = user_data;
   bool now = false;
   {
      std::lock_guard<std::mutex> lock(m->mutex);
      if (!m->open) return MODKIT_E_STATE;
      now = m->running_tasks < m->grants.limits.task_concurrency;
      if (!now && m->waiting.size() >= m->grants.limits.task_queue) {
         task->services->log(MODKIT_LOG_WARNING, *m,
                             fmt::format("background task '{}' refused: {} tasks already wait for a turn",
                                         task->name, m->waiting.size()));
         return MODKIT_E_DENIED;
      }
      task->id = m->next_id++;
      m->tasks.emplace(task->id, task);
      ++m->active;
      if (now) ++m->running_tasks;
      else m->waiting.push_back(task);
      if (out_id) *out_id = task->id;
   }
   if (now) start_task(task);
   return MODKIT_PENDING;
}

modkit_status MODKIT_ABI cancel(modkit_host *host, uint64_t id) {
   ModuleServices *m = module_services(host);
   if (!m) return MODKIT_E_INVALID_ARGUMENT;
   std::shared_ptr<TaskRun> waiting;
   {
      std::lock_guard<std::mutex> lock(m->mutex);
      auto it = m->tasks.find(id);
      if (it == m->tasks.end()) return MODKIT_E_NOT_FOUND;
      std::shared_ptr<TaskRun> task = it->second;
      __atomic_store_n(&task->cancel_flag, 1, __ATOMIC_RELEASE);
      auto w = std::find(m->waiting.begin(), m->waiting.end(), task);
      if (w != m->waiting.end()) {
         m->waiting.erase(w);
         m->tasks.erase(it);
         waiting = task;
      }
   }
   if (waiting) deliver(waiting, MODKIT_E_CANCELLED);
   return MODKIT_OK;
}

} // namespace

std::vector<std::shared_ptr<TaskRun>> take_waiting_tasks_locked(ModuleServices &m) {
   std::vector<std::shared_ptr<TaskRun>> out(m.waiting.begin(), m.waiting.end());
   m.waiting.clear();
   for (const auto &task : out) m.tasks.erase(task->id);
   for (const auto &t : m.tasks) __atomic_store_n(&t.second->cancel_flag, 1, __ATOMIC_RELEASE);
   return out;
}

void finish_cancelled_task(ModuleServices &m, TaskRun &task) {
   if (task.done) task.done(task.user_data, MODKIT_E_CANCELLED);
   leave(m);
}

const modkit_tasks_api tasks_table = {
   sizeof(modkit_tasks_api),
   run,
   cancel,
};

} // namespace modkit::loader::services
