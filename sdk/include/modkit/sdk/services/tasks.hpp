// modkit/sdk/services/tasks.hpp - background tasks (modkit.tasks/1): Synapse's
// run_as_background_process and defer_to_thread for a module.
//
//    reindex_ = modkit::run_in_background(api, "reindex", [this](modkit::Call &call) {
//       for (auto &room : rooms_) { if (call.cancelled()) return MODKIT_E_CANCELLED; index(room); }
//       return MODKIT_OK;
//    }, [this](modkit_status status) { api_.log().info("reindex ended: {}", modkit_status_name(status)); });
//
// In C++20, blocking work leaves the calling coroutine's thread and its value comes back:
//    const std::string digest = co_await modkit::offload(api, "hash", [&] { return sha256(blob); });
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/call.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/detail/service_table.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/task.hpp>

#include <modkit/services/tasks.h>

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace modkit {

namespace detail {

inline const modkit_tasks_api *tasks_table(const Api &api) {
   return service_table<modkit_tasks_api>(api, MODKIT_TASKS_ID,
                                          offsetof(modkit_tasks_api, cancel) + sizeof(modkit_tasks_api::cancel));
}

// What the host's user_data points at, from run() until done: done is called exactly once per
// accepted task, so it frees the slot.
template <class F>
struct TaskSlot {
   HostContext context;
   F fn;
   std::function<void(modkit_status)> on_done;
   std::shared_ptr<std::atomic<bool>> started; // shared with the BackgroundTask
   std::string where;                          // "background task <name>", for the log
};

// fn's result as the task's status: void is MODKIT_OK.
template <class F, class... A>
modkit_status invoke_task(F &fn, A &...args) {
   using R = std::invoke_result_t<F &, A &...>;
   if constexpr (std::is_void_v<R>) {
      fn(args...);
      return MODKIT_OK;
   } else {
      static_assert(std::is_convertible_v<R, modkit_status>,
                    "modkit::run_in_background: the function returns void or a modkit_status");
      return fn(args...);
   }
}

template <class F>
modkit_status MODKIT_ABI task_thunk(void *user_data, modkit_call *call) noexcept {
   auto *slot = static_cast<TaskSlot<F> *>(user_data);
   slot->started->store(true, std::memory_order_release);
   modkit_status answer = MODKIT_OK;
   const modkit_status status = barrier(
      [&] {
         Call c(slot->context.api, call);
         if constexpr (std::is_invocable_v<F &, Call &>) answer = invoke_task(slot->fn, c);
         else answer = invoke_task(slot->fn);
      },
      LogToHost{&slot->context, slot->where.c_str()});
   return status != MODKIT_OK ? status : answer;
}

template <class F>
void MODKIT_ABI task_done_thunk(void *user_data, modkit_status status) noexcept {
   const std::unique_ptr<TaskSlot<F>> slot(static_cast<TaskSlot<F> *>(user_data));
   if (slot->on_done)
      barrier([&] { slot->on_done(status); }, LogToHost{&slot->context, slot->where.c_str()});
}

} // namespace detail

class BackgroundTask;
template <class F>
BackgroundTask run_in_background(const Api &api, std::string_view name, F fn,
                                 std::function<void(modkit_status)> on_done = {});

// A task run_in_background queued. Move-only; destroying it cancels the task only if it has
// not started (a started task always runs to its end, per tasks.h); detach() lets it be.
// Ownership: the task's function and on_done belong to the host's run until on_done has run,
// not to this handle: a started function finishes, and on_done runs exactly once, also after
// the handle is gone, so they capture what they use by value or shared_ptr, or the module
// (which the host outlives: it drains tasks before deinit).
// Thread rule: one owner; cancel() and started() are [thread-safe].
class [[nodiscard]] BackgroundTask {
public:
   BackgroundTask() noexcept = default;
   BackgroundTask(BackgroundTask &&other) noexcept { *this = std::move(other); }
   BackgroundTask &operator=(BackgroundTask &&other) noexcept {
      if (this != &other) {
         reset();
         tasks_ = std::exchange(other.tasks_, nullptr);
         host_ = std::exchange(other.host_, nullptr);
         id_ = std::exchange(other.id_, 0);
         started_ = std::move(other.started_);
      }
      return *this;
   }
   BackgroundTask(const BackgroundTask &) = delete;
   BackgroundTask &operator=(const BackgroundTask &) = delete;
   ~BackgroundTask() { reset(); }

   // Asks the host to cancel: a task still waiting never starts and on_done receives
   // MODKIT_E_CANCELLED; a running one sees Call::cancelled() and ends as it chooses. False
   // when the host no longer holds it (it ended) or the handle is empty. Never waits.
   bool cancel() noexcept { return tasks_ != nullptr && tasks_->cancel(host_, id_) == MODKIT_OK; }

   // True once the function has begun on a worker thread.
   bool started() const noexcept { return started_ && started_->load(std::memory_order_acquire); }

   // Forgets the task without cancelling it; the handle becomes empty.
   void detach() noexcept {
      tasks_ = nullptr;
      started_.reset();
   }

   // The host's ID of the task; 0 for an empty handle.
   uint64_t id() const noexcept { return tasks_ ? id_ : 0; }

   explicit operator bool() const noexcept { return tasks_ != nullptr; }

private:
   template <class F>
   friend BackgroundTask run_in_background(const Api &, std::string_view, F, std::function<void(modkit_status)>);

   void reset() noexcept {
      if (tasks_ != nullptr && !started()) tasks_->cancel(host_, id_); // NOT_FOUND: it ended
      detach();
   }

   const modkit_tasks_api *tasks_ = nullptr;
   modkit_host *host_ = nullptr;
   uint64_t id_ = 0;
   std::shared_ptr<std::atomic<bool>> started_;
};

// Queues fn to run on a worker thread of the host's pool, labelled name in the host's logs and
// metrics. fn takes () or (modkit::Call &) (to poll cancelled()) and returns void (MODKIT_OK)
// or a modkit_status; it may block. on_done, if set, receives the task's status on a service
// thread once it has ended: fn's, MODKIT_E_CANCELLED for a task cancelled before it started,
// or the status of an exception that left fn (which is also logged through the host). An
// exception leaving on_done is logged. Throws Error(MODKIT_E_UNSUPPORTED) when the host offers
// no modkit.tasks/1, or the host's refusal (MODKIT_E_DENIED: too many tasks waiting); on_done
// is then never called.
// [thread-safe]
template <class F>
BackgroundTask run_in_background(const Api &api, std::string_view name, F fn,
                                 std::function<void(modkit_status)> on_done) {
   static_assert(std::is_invocable_v<F &, Call &> || std::is_invocable_v<F &>,
                 "modkit::run_in_background: the function takes () or (modkit::Call &)");
   const modkit_tasks_api *tasks = detail::tasks_table(api);
   const detail::HostContext &context = detail::ApiAccess::context(api);
   const std::string task_name(name);
   auto started = std::make_shared<std::atomic<bool>>(false);
   auto slot = std::make_unique<detail::TaskSlot<F>>(
      detail::TaskSlot<F>{context, std::move(fn), std::move(on_done), started, "background task " + task_name});
   uint64_t id = 0;
   const modkit_status status = tasks->run(context.host, task_name.c_str(), &detail::task_thunk<F>,
                                           &detail::task_done_thunk<F>, slot.get(), &id);
   // MODKIT_OK is taken as accepted too: freeing the slot of a task the host did queue would
   // leave its done with a dangling pointer.
   if (status != MODKIT_PENDING && status != MODKIT_OK)
      throw Error(status,
                  fmt::format("could not queue background task {}: {}", task_name, modkit_status_name(status)));
   slot.release(); // done frees it, maybe already has: not touched from here on
   BackgroundTask handle;
   handle.tasks_ = tasks;
   handle.host_ = context.host;
   handle.id_ = id;
   handle.started_ = std::move(started);
   return handle;
}

#if MODKIT_SDK_HAS_COROUTINES

namespace detail {
// fn's result, written on the worker before the task ends and read by done after it.
template <class T>
struct OffloadResult {
   Outcome<T> outcome;
   bool ran = false;
};
} // namespace detail

// Runs fn() as a background task named name and gives its value, or rethrows the exception
// that left it, to the awaiting coroutine. That resumes on the service thread reporting the
// task's end, or goes on without suspending when the task ended first. Throws
// Error(MODKIT_E_CANCELLED) when the task was cancelled before it started (the module is being
// unloaded); destroying the suspended coroutine cancels a task not yet started. An exception
// from fn is not logged by the SDK (the awaiter handles it); the host still sees the task fail
// with its status. Throws as run_in_background does when the task cannot be queued.
// With g++ 12, pass a lambda that captures by value as a named variable, not written inside
// the co_await expression: g++ 12 destroys the captures of a lambda temporary in a co_await
// expression twice (a compiler bug; clang is not affected).
// Thread rule: [thread-safe]; fn runs on a worker thread; api must outlive the task.
template <class F, class T = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<F &>>>>
task<T> offload(const Api &api, std::string name, F fn) {
   auto result = std::make_shared<detail::OffloadResult<T>>();
   Completion<T> done;
   const BackgroundTask background = run_in_background(
      api, name,
      [fn = std::move(fn), result]() mutable -> modkit_status {
         // The exception is kept for the awaiter; the barrier gives the host its status, and
         // logs nothing.
         const modkit_status status = detail::barrier(
            [&] {
               try {
                  if constexpr (std::is_void_v<T>) fn();
                  else result->outcome.set(fn());
               } catch (...) {
                  result->outcome.fail(std::current_exception());
                  throw;
               }
            },
            [](modkit_status, const char *, const char *) noexcept {});
         result->ran = true;
         return status;
      },
      [result, done, name](modkit_status status) mutable {
         if (!result->ran) {
            done.set_error(status == MODKIT_OK ? MODKIT_E_INTERNAL : status,
                           fmt::format("background task {} did not run: {}", name, modkit_status_name(status)));
         } else if (result->outcome.error) {
            done.set_exception(result->outcome.error);
         } else if constexpr (std::is_void_v<T>) {
            done.set_value();
         } else {
            done.set_value(std::move(*result->outcome.value));
         }
      });
   if constexpr (std::is_void_v<T>) co_await done;
   else co_return co_await done;
}

#endif // MODKIT_SDK_HAS_COROUTINES

} // namespace modkit
