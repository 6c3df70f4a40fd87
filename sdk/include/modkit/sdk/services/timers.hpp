// modkit/sdk/services/timers.hpp - timers (modkit.timers/1): Synapse's clock.call_later and
// looping_call for a module, as RAII handles.
//
//    prune_ = modkit::Timer::every(api, std::chrono::minutes(5), [this] { cache_.prune(); });
//    modkit::Timer reminder = modkit::Timer::after(api, std::chrono::seconds(30), [] { ... });
//    if (modkit::is_background_instance(api)) ...;   // only one instance runs background work
//
// In C++20 a run may be a coroutine: it suspends through its call, and the next run of a
// repeating timer waits until it has ended. A coroutine may also sleep:
//    poll_ = modkit::Timer::every(api, std::chrono::seconds(30), [this]() -> modkit::task<void> {
//       co_await refresh();
//    });
//    co_await modkit::sleep_for(api, std::chrono::milliseconds(250));
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/call.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/callback_gate.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/detail/service_table.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/task.hpp>

#include <modkit/services/timers.h>

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace modkit {

namespace detail {

// What a timer's handle and its runs share.
struct TimerState {
   HostContext context;
   const modkit_timers_api *timers = nullptr;
   Callback<void()> fn;
   bool repeating = false;
   std::uintptr_t token = 0; // the user_data the host passes back
   CallbackGate gate;
};

// Why the host gets a number, not a pointer, as a timer's user_data: timers.h's cancel never
// waits, and nothing tells the module when the host is done with user_data. A run the host had
// already begun when cancel was called still calls the timer function, possibly after cancel
// returned and after the handle is gone, and a cancel that found no run under way looks the
// same to the module. No moment is known after which a pointer given to start() could be
// freed, so the host holds a token, and this registry maps live tokens to their state: a run
// copies the shared_ptr under the lock (that copy keeps the state alive until the run ends), a
// cancelled timer's token is erased, and a late run finds nothing and returns. A one-shot's
// token is erased when its run begins, since the host never calls it again.
// One registry per module binary (its statics are the module's own); it lives until the module
// is unloaded, after the host has drained every timer.
// Thread rule: [thread-safe].
class TimerRegistry {
public:
   // Registers state; its token, never 0 and never one in use.
   std::uintptr_t add(std::shared_ptr<TimerState> state) {
      std::lock_guard<std::mutex> lock(mutex_);
      do ++next_;
      while (next_ == 0 || timers_.count(next_) != 0);
      timers_.emplace(next_, std::move(state));
      return next_;
   }

   // The state of a live token, or null. A one-shot's token is erased as it is found.
   std::shared_ptr<TimerState> claim(std::uintptr_t token) noexcept {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = timers_.find(token);
      if (it == timers_.end()) return nullptr;
      std::shared_ptr<TimerState> state = it->second;
      if (!state->repeating) timers_.erase(it);
      return state;
   }

   void remove(std::uintptr_t token) noexcept {
      std::shared_ptr<TimerState> last; // freed after the lock: the function's captures may
                                        // run code that starts or cancels timers
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = timers_.find(token);
      if (it == timers_.end()) return;
      last = std::move(it->second);
      timers_.erase(it);
   }

private:
   std::mutex mutex_;
   std::unordered_map<std::uintptr_t, std::shared_ptr<TimerState>> timers_; // guarded by mutex_
   std::uintptr_t next_ = 0;                                                // guarded by mutex_
};

inline TimerRegistry &timer_registry() {
   static TimerRegistry registry;
   return registry;
}

inline const modkit_timers_api *timers_table(const Api &api) {
   return service_table<modkit_timers_api>(
      api, MODKIT_TIMERS_ID,
      offsetof(modkit_timers_api, is_background_instance) + sizeof(modkit_timers_api::is_background_instance));
}

inline uint32_t timer_ms(std::chrono::milliseconds d, const char *what) {
   if (d.count() < 0 || d.count() > static_cast<std::chrono::milliseconds::rep>(UINT32_MAX))
      throw Error(MODKIT_E_INVALID_ARGUMENT, fmt::format("modkit::Timer: a {} of {} ms is out of range (0 to {} ms)",
                                                         what, d.count(), UINT32_MAX));
   return static_cast<uint32_t>(d.count());
}

template <class R>
inline constexpr bool is_timer_result = std::is_void_v<R>;
#if MODKIT_SDK_HAS_COROUTINES
template <>
inline constexpr bool is_timer_result<task<void>> = true;
#endif

// True for what a timer runs. Checked, because Callback<void()> would take a function returning
// modkit::task<int> as a plain one (discarding its result), and the coroutine would never run.
template <class F>
constexpr bool is_timer_function() {
   if constexpr (std::is_invocable_v<F &, Call &>) return is_timer_result<std::invoke_result_t<F &, Call &>>;
   else if constexpr (std::is_invocable_v<F &>) return is_timer_result<std::invoke_result_t<F &>>;
   else return false;
}

#if MODKIT_SDK_HAS_COROUTINES
// A coroutine run: its frame holds the state, so the timer's function (whose captures the
// coroutine reads) lives until the run ends, even when the Timer is destroyed meanwhile.
inline task<void> timer_run_owned(std::shared_ptr<TimerState> state, Call &call) {
   co_await state->fn.start(call);
}
#endif

// One run, through the same start as a category callback (category.hpp's Convert): a plain
// function runs to its end; a coroutine on a call that may suspend returns MODKIT_PENDING and
// completes the call when it ends (the run ends then); on a call that cannot, it is run to
// its end here.
inline modkit_status run_timer(const std::shared_ptr<TimerState> &state, Call &call) {
#if MODKIT_SDK_HAS_COROUTINES
   if (state->fn.is_coroutine()) {
      const Callback<void()> run([state](Call &c) -> task<void> { return timer_run_owned(state, c); });
      return Convert<>::start(state->context, "timer", run, call);
   }
#endif
   return Convert<>::start(state->context, "timer", state->fn, call);
}

inline modkit_status MODKIT_ABI timer_thunk(void *user_data, modkit_call *call) noexcept {
   const std::shared_ptr<TimerState> state = timer_registry().claim(reinterpret_cast<std::uintptr_t>(user_data));
   if (!state) return MODKIT_OK; // cancelled while the host was starting this run
   if (!state->gate.enter()) return MODKIT_OK;
   bool inside = true;
   modkit_status answer = MODKIT_OK;
   const modkit_status status = barrier(
      [&] {
         Call c(state->context.api, call);
#if MODKIT_SDK_HAS_COROUTINES
         // A coroutine run to its end here may resume on another thread and cancel its own
         // timer there; a close() waiting for this thread would then wait forever.
         if (state->fn.is_coroutine() && !c.can_suspend()) {
            inside = false;
            state->gate.leave();
         }
#endif
         answer = run_timer(state, c);
      },
      LogToHost{&state->context, "timer"});
   if (inside) state->gate.leave();
   return status != MODKIT_OK ? status : answer;
}

} // namespace detail

// A running timer: one-shot (after) or repeating (every). Move-only; destroying it or calling
// cancel() stops it.
// Ownership: the handle and each run under way share the timer's function; it is destroyed
// when both are done with it. The host holds a token, never a pointer (see TimerRegistry), so a
// run the host begins late finds nothing to call.
// Lifetime: once cancel() (or the destructor) has returned, the function is not running on
// another thread and never starts again, so it may capture `this` of the object holding the
// Timer. A run that cancels its own timer is not waited for (it returns normally), nor is a
// suspended coroutine run: it continues to its end, its Call reporting cancelled(). Destroy
// every Timer before the module's destructor returns (a member of the module class is).
// Thread rule: the handle has one owner; the function runs on a service thread of the host,
// never inside after()/every(), one run at a time. An exception leaving it is logged through
// the host and ends the run with a status (MODKIT_E_INTERNAL, or an Error's code); the timer
// keeps running. cancel() waits for a run under way: calling it while holding a lock that run
// needs deadlocks.
class Timer {
public:
   // No timer.
   Timer() noexcept = default;

   // Runs fn once, delay from now. fn takes () or (modkit::Call &) and returns void, or in
   // C++20 modkit::task<void> (a coroutine run). Throws Error(MODKIT_E_UNSUPPORTED) when the
   // host offers no modkit.timers/1, Error(MODKIT_E_INVALID_ARGUMENT) for a delay outside 0 ms
   // to 2^32-1 ms or an empty fn, or the host's refusal.
   template <class F>
   [[nodiscard]] static Timer after(const Api &api, std::chrono::milliseconds delay, F &&fn) {
      return start(api, detail::timer_ms(delay, "delay"), 0, std::forward<F>(fn));
   }

   // Runs fn every period, the first time period from now. A run that takes longer than the
   // period is followed at once by the next; runs never overlap. Throws as after() does, and
   // Error(MODKIT_E_INVALID_ARGUMENT) for a period of 0.
   template <class F>
   [[nodiscard]] static Timer every(const Api &api, std::chrono::milliseconds period, F &&fn) {
      const uint32_t ms = detail::timer_ms(period, "period");
      if (ms == 0) throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::Timer::every: the period must be at least 1 ms");
      return start(api, ms, ms, std::forward<F>(fn));
   }

   Timer(Timer &&other) noexcept : state_(std::move(other.state_)), id_(std::exchange(other.id_, 0)) {}
   Timer &operator=(Timer &&other) noexcept {
      if (this != &other) {
         cancel();
         state_ = std::move(other.state_);
         id_ = std::exchange(other.id_, 0);
      }
      return *this;
   }
   Timer(const Timer &) = delete;
   Timer &operator=(const Timer &) = delete;
   ~Timer() { cancel(); }

   // Stops the timer (see the class comment); does nothing on an empty handle.
   void cancel() noexcept {
      if (!state_) return;
      const std::shared_ptr<detail::TimerState> state = std::move(state_);
      // MODKIT_E_NOT_FOUND: a one-shot that fired, or a host already draining the module.
      state->timers->cancel(state->context.host, id_);
      state->gate.close();
      detail::timer_registry().remove(state->token);
   }

   // True until cancel(), also for a one-shot that has fired.
   explicit operator bool() const noexcept { return static_cast<bool>(state_); }

   // The host's ID of the timer, for logs; 0 for an empty handle.
   uint64_t id() const noexcept { return state_ ? id_ : 0; }

private:
   template <class F>
   static Timer start(const Api &api, uint32_t delay_ms, uint32_t period_ms, F &&fn) {
      static_assert(detail::is_timer_function<std::decay_t<F>>(),
                    "modkit::Timer: the function takes () or (modkit::Call &) and returns void (or, in C++20, "
                    "modkit::task<void>)");
      if constexpr (std::is_constructible_v<bool, const std::decay_t<F> &>) {
         if (!static_cast<bool>(fn)) throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::Timer: no function");
      }
      const modkit_timers_api *timers = detail::timers_table(api);
      auto state = std::make_shared<detail::TimerState>();
      state->context = detail::ApiAccess::context(api);
      state->timers = timers;
      state->fn = Callback<void()>(std::forward<F>(fn));
      state->repeating = period_ms != 0;
      // Registered first: the host may fire before start() returns.
      detail::TimerRegistry &registry = detail::timer_registry();
      state->token = registry.add(state);
      uint64_t id = 0;
      const modkit_status status = timers->start(state->context.host, delay_ms, period_ms, &detail::timer_thunk,
                                                 reinterpret_cast<void *>(state->token), &id);
      if (status != MODKIT_OK) {
         registry.remove(state->token);
         throw Error(status, fmt::format("could not start a timer: {}", modkit_status_name(status)));
      }
      Timer timer;
      timer.state_ = std::move(state);
      timer.id_ = id;
      return timer;
   }

   std::shared_ptr<detail::TimerState> state_;
   uint64_t id_ = 0;
};

// True on the host instance that runs background work (Synapse's should_run_background_tasks);
// a module starts its periodic jobs only there. Throws Error(MODKIT_E_UNSUPPORTED) when the
// host offers no modkit.timers/1.
// [thread-safe]
inline bool is_background_instance(const Api &api) {
   return detail::timers_table(api)->is_background_instance(detail::ApiAccess::context(api).host);
}

#if MODKIT_SDK_HAS_COROUTINES
// Resumes the awaiting coroutine on a timer's service thread, duration from when it is
// awaited (a negative duration counts as 0). Destroying the suspended coroutine cancels the
// timer. Throws as Timer::after does.
// Thread rule: [thread-safe]; api must outlive the task (the module's Api does).
inline task<void> sleep_for(const Api &api, std::chrono::milliseconds duration) {
   Completion<> woke;
   const Timer timer = Timer::after(api, duration.count() < 0 ? std::chrono::milliseconds(0) : duration,
                                    [woke]() mutable { woke.set_value(); });
   co_await woke;
}
#endif

} // namespace modkit
