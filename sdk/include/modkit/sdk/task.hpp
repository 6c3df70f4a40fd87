// modkit/sdk/task.hpp - C++20 coroutines for callbacks that wait (ABI 1.1): modkit::task<T>, the
// coroutine type a callback or cached function returns, and modkit::Completion<T>, a one-shot
// result another thread (a worker, a timer, an HTTP client's callback) resolves.
//
//    callbacks.check_event_for_spam = [this](const modkit::Event &e) -> modkit::task<modkit::SpamResult> {
//       modkit::Completion<bool> verdict;
//       classifier_.submit(std::string(e.content_json()), [verdict](bool spam) mutable { verdict.set_value(spam); });
//       co_return co_await verdict ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
//    };
//
// The SDK starts the callback's coroutine on the host's thread. When it finishes before
// suspending, the callback answers as a synchronous one does. When it suspends and the host
// accepts MODKIT_PENDING (Call::can_suspend), the callback returns it; the thread that resumes
// the coroutine writes the outputs and completes the call. A host that cannot suspend the call
// (a 1.0 host, a synchronous dispatch) has its thread wait until the coroutine finishes.
// An exception leaving the coroutine becomes a status exactly as in a synchronous callback.
//
// Everything here exists only when the module is compiled as C++20 with coroutines
// (MODKIT_SDK_HAS_COROUTINES is then 1); C++17 modules see the synchronous API only.
#pragma once

#if defined(__has_include)
#   if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L && __has_include(<coroutine>)
#      define MODKIT_SDK_HAS_COROUTINES 1
#   endif
#endif
#ifndef MODKIT_SDK_HAS_COROUTINES
#   define MODKIT_SDK_HAS_COROUTINES 0
#endif

#if MODKIT_SDK_HAS_COROUTINES

#include <modkit/sdk/error.hpp>

#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace modkit {

template <class T = void>
class task;

namespace detail {

// How a computation ended: a value (none for void) or an exception.
// Thread rule: a plain value; handed from one thread to the next.
template <class T>
struct Outcome {
   std::optional<T> value;
   std::exception_ptr error;

   template <class U>
   void set(U &&v) {
      value.emplace(std::forward<U>(v));
   }
   void fail(std::exception_ptr e) noexcept { error = std::move(e); }
   // The value, or the exception rethrown.
   T take() {
      if (error) std::rethrow_exception(error);
      return std::move(*value);
   }
};

template <>
struct Outcome<void> {
   std::exception_ptr error;

   void fail(std::exception_ptr e) noexcept { error = std::move(e); }
   void take() const {
      if (error) std::rethrow_exception(error);
   }
};

// What every task's promise shares: lazy start, and at the end a jump to whoever awaited it.
struct TaskPromiseBase {
   std::coroutine_handle<> continuation;
   std::exception_ptr error;

   struct FinalAwaiter {
      bool await_ready() const noexcept { return false; }
      template <class P>
      std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) const noexcept {
         const std::coroutine_handle<> next = self.promise().continuation;
         return next ? next : std::noop_coroutine();
      }
      void await_resume() const noexcept {}
   };

   std::suspend_always initial_suspend() const noexcept { return {}; }
   FinalAwaiter final_suspend() const noexcept { return {}; }
   void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct TaskPromise : TaskPromiseBase {
   std::optional<T> value;

   task<T> get_return_object() noexcept;
   template <class U = T, class = std::enable_if_t<std::is_convertible_v<U &&, T>>>
   void return_value(U &&v) {
      value.emplace(std::forward<U>(v));
   }
   T take() {
      if (error) std::rethrow_exception(error);
      return std::move(*value);
   }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
   task<void> get_return_object() noexcept;
   void return_void() const noexcept {}
   void take() const {
      if (error) std::rethrow_exception(error);
   }
};

// A coroutine nobody awaits: created suspended, started by start_detached once its ramp has
// returned (so no frame is touched after another thread may have freed it), and freeing its
// frame when it ends. Used only by the SDK, whose bodies catch everything.
struct Detached {
   struct promise_type {
      Detached get_return_object() noexcept {
         return Detached{std::coroutine_handle<promise_type>::from_promise(*this)};
      }
      std::suspend_always initial_suspend() const noexcept { return {}; }
      std::suspend_never final_suspend() const noexcept { return {}; }
      void return_void() const noexcept {}
      void unhandled_exception() const noexcept { std::terminate(); }
   };
   std::coroutine_handle<promise_type> handle;
};

} // namespace detail

// The result of a coroutine that will produce a T: what a coroutine callback, a coroutine
// cached function or any helper coroutine of the module returns. Lazy: the body starts when
// the task is awaited (co_await), or when the SDK starts a callback's task. Awaiting gives the
// value or rethrows the exception that left the body. Move-only; destroying a task that was
// never awaited destroys its unstarted coroutine.
// Thread rule: one owner; the coroutine resumes on whichever thread resumes what it awaits.
template <class T>
class [[nodiscard]] task {
public:
   using promise_type = detail::TaskPromise<T>;
   using value_type = T;

   task() noexcept = default;
   task(task &&other) noexcept : handle_(std::exchange(other.handle_, {})) {}
   task &operator=(task &&other) noexcept {
      if (this != &other) {
         reset();
         handle_ = std::exchange(other.handle_, {});
      }
      return *this;
   }
   task(const task &) = delete;
   task &operator=(const task &) = delete;
   ~task() { reset(); }

   // False for a default-constructed or moved-from task.
   bool valid() const noexcept { return static_cast<bool>(handle_); }

   // co_await std::move(t): runs the body until it ends, then gives its value.
   auto operator co_await() && noexcept {
      struct Awaiter {
         std::coroutine_handle<promise_type> handle;
         bool await_ready() const noexcept { return !handle || handle.done(); }
         std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            handle.promise().continuation = awaiting;
            return handle;
         }
         T await_resume() const {
            if (!handle) throw Error(MODKIT_E_STATE, "modkit::task: awaited an empty task");
            return handle.promise().take();
         }
      };
      return Awaiter{handle_};
   }

private:
   friend promise_type;
   explicit task(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

   void reset() noexcept {
      if (handle_) std::exchange(handle_, {}).destroy();
   }

   std::coroutine_handle<promise_type> handle_;
};

namespace detail {

template <class T>
task<T> TaskPromise<T>::get_return_object() noexcept {
   return task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline task<void> TaskPromise<void>::get_return_object() noexcept {
   return task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

template <class T, class Done>
Detached detached_body(task<T> t, Done done) {
   Outcome<T> outcome;
   {
      task<T> body = std::move(t);
      try {
         if constexpr (std::is_void_v<T>) co_await std::move(body);
         else outcome.set(co_await std::move(body));
      } catch (...) {
         outcome.fail(std::current_exception());
      }
   }
   done(std::move(outcome));
}

// Runs t to its end and hands done(Outcome<T> &&) the result, on the thread that finishes it
// (this one, when t never suspends). done must not throw. The frame is freed after done
// returns; t's own frame is freed before done runs, so done may release what t referenced.
// Throws only std::bad_alloc, before t starts.
template <class T, class Done>
void start_detached(task<T> t, Done done) {
   detached_body(std::move(t), std::move(done)).handle.resume();
}

// Runs t to its end on whatever threads it resumes on, blocking this thread until it has,
// and gives its value or rethrows its exception. For hosts that cannot suspend a call: a task
// that waits for this very thread (an event loop it runs) never finishes.
template <class T>
T run_blocking(task<T> t) {
   struct Waiter {
      std::mutex mutex;
      std::condition_variable finished;
      bool done = false;
      Outcome<T> outcome;
   } waiter;
   start_detached(std::move(t), [&waiter](Outcome<T> &&outcome) noexcept {
      // Notified under the lock: the waiting thread cannot return, and destroy waiter, before
      // this is done with it.
      std::lock_guard<std::mutex> lock(waiter.mutex);
      waiter.outcome = std::move(outcome);
      waiter.done = true;
      waiter.finished.notify_one();
   });
   std::unique_lock<std::mutex> lock(waiter.mutex);
   waiter.finished.wait(lock, [&] { return waiter.done; });
   return waiter.outcome.take();
}

// The state a Completion's copies share.
template <class T>
struct CompletionState {
   std::mutex mutex;
   bool resolved = false;                    // guarded by mutex
   Outcome<T> outcome;                       // written once, before resolved becomes true
   std::vector<std::coroutine_handle<>> waiting; // guarded by mutex

   // Stores the result and resumes every waiting coroutine on this thread. False when the
   // completion was resolved already (nothing changes then).
   template <class Fill>
   bool resolve(Fill &&fill) {
      std::vector<std::coroutine_handle<>> resume;
      {
         std::lock_guard<std::mutex> lock(mutex);
         if (resolved) return false;
         fill(outcome);
         resolved = true;
         resume.swap(waiting);
      }
      for (std::coroutine_handle<> h : resume) h.resume();
      return true;
   }
};

} // namespace detail

// A one-shot result that any thread resolves once, and that coroutines co_await: the bridge
// from a callback-based API (a worker thread, a timer, a client library's completion
// function) to a coroutine. Copies share one state, so hand a copy to whoever resolves it.
// Awaiting a resolved completion does not suspend; awaiting an unresolved one suspends the
// coroutine until set_value or set_error, which resume it on the resolving thread, inside
// that call. Every awaiter gets a copy of the value (or the error thrown). A completion that
// is never resolved never resumes its awaiters: resolve it on every path, also on
// cancellation (set_error(MODKIT_E_CANCELLED, ...)), or the host's call never completes.
// Thread rule: [thread-safe].
template <class T = void>
class Completion {
public:
   Completion() : state_(std::make_shared<detail::CompletionState<T>>()) {}

   // Resolves with a value; false when already resolved (the first resolution stands).
   template <class U = T, class = std::enable_if_t<!std::is_void_v<U>>>
   bool set_value(U value) {
      return state_->resolve([&](detail::Outcome<T> &o) { o.set(std::move(value)); });
   }
   // The void form: set_value() with no argument.
   template <class U = T, class = std::enable_if_t<std::is_void_v<U>>>
   bool set_value() {
      return state_->resolve([](detail::Outcome<T> &) {});
   }

   // Resolves with a failure: awaiters throw modkit::Error(code, message), which a callback's
   // trampoline turns into status code (MODKIT_E_INTERNAL for MODKIT_OK).
   bool set_error(modkit_status code, std::string message) {
      return set_exception(std::make_exception_ptr(Error(code, std::move(message))));
   }
   // Resolves with any exception, rethrown in every awaiter.
   bool set_exception(std::exception_ptr error) {
      return state_->resolve([&](detail::Outcome<T> &o) { o.fail(std::move(error)); });
   }

   // True once resolved.
   bool ready() const {
      std::lock_guard<std::mutex> lock(state_->mutex);
      return state_->resolved;
   }

   auto operator co_await() const noexcept {
      struct Awaiter {
         std::shared_ptr<detail::CompletionState<T>> state;
         bool await_ready() const {
            std::lock_guard<std::mutex> lock(state->mutex);
            return state->resolved;
         }
         bool await_suspend(std::coroutine_handle<> h) const {
            std::lock_guard<std::mutex> lock(state->mutex);
            if (state->resolved) return false; // resolved since await_ready: go on at once
            state->waiting.push_back(h);
            return true;
         }
         T await_resume() const {
            // resolved is true and outcome no longer changes: read without the lock.
            const detail::Outcome<T> &o = state->outcome;
            if (o.error) std::rethrow_exception(o.error);
            if constexpr (!std::is_void_v<T>) return *o.value;
         }
      };
      return Awaiter{state_};
   }

private:
   std::shared_ptr<detail::CompletionState<T>> state_;
};

} // namespace modkit

#endif // MODKIT_SDK_HAS_COROUTINES
