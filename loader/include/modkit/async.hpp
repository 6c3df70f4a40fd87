// modkit/async.hpp - asynchronous dispatch for C++ hosts: the policies of modkit/dispatch.hpp,
// resumable across modules that suspend (ABI 1.1).
//
//   modkit::ReadGuard guard(loader.reader());
//   auto slot = guard.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(spam_ref);
//   modkit::AsyncHandle h = modkit::async::first_non_zero<int32_t>(
//      loader.async_context(guard, {request_id, deadline_ns}), slot.raw(),
//      [event](const modkit_loader_entry &e, modkit_call *call, int32_t *r) {  // event: kept alive by copy
//         return decltype(slot)::fn(e)(e.user_data, call, &event->c, r);
//      },
//      [](const modkit::Outcome &out, int32_t answer) { ...respond... });
//
// Modules are called in config order, one after the other; when module i suspends, the
// dispatch pins the snapshot (modkit_loader_pin) and returns, and the thread that completes
// module i's call goes on with module i+1. done runs exactly once: inline before the start
// function returns when nobody suspended, else on the completing thread, or on the loader's
// timer thread at the deadline. On the deadline or AsyncHandle::cancel the dispatch calls no
// further module and applies the slot's exception policy to the module it waits for
// (MODKIT_E_TIMEOUT, MODKIT_E_CANCELLED); that module's late completion is ignored. A slot that
// fails open then ends with the answers so far, Outcome::status saying why it ended early.
//
// Lifetimes: the dispatch object lives until the host's handle, the suspended module and the
// deadline timer have all let go of it, so what invoke and done capture by value lives as
// long; what they capture by reference must outlive done, and so must the slot (one from the
// snapshot does: the dispatch pins it; a slot the host assembled itself is the host's to keep).
// invoke's outputs live in the object. The inputs a module received are only valid until its
// callback returns, even when it suspends: a module copies what it needs.
// Thread rules: invoke and done may run on any thread, never two at once for one dispatch.
#pragma once

#include <modkit/dispatch.hpp>
#include <modkit/loader.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#if defined(__GNUC__) || defined(__clang__)
#   define MODKIT_ASYNC_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#   define MODKIT_ASYNC_LIKELY(x) (x)
#endif

namespace modkit {

// Where an asynchronous dispatch runs: made by modkit::Loader::async_context from a ReadGuard,
// or filled in from the C API (a snapshot obtained in the caller's current read section).
struct AsyncContext {
   modkit_loader *loader = nullptr;
   const modkit_loader_snapshot *snapshot = nullptr;
   std::string_view request_id;
   int64_t deadline_ns = 0;     // CLOCK_MONOTONIC; 0: none
   bool can_suspend = true;     // false: modules answer synchronously, as in ABI 1.0
   modkit_call *call = nullptr; // with can_suspend false: the host's own handle, passed as is
   // Counts every call in the loader's per-callback metrics (modkit/loader.h): on this reader
   // (the starting thread's) while the dispatch runs there, on the completing thread's after.
   modkit_loader_reader *reader = nullptr;
};

namespace detail {

// What every asynchronous dispatch shares, whatever its policy: references, phase, the call
// handle and its protocol, pin and deadline timer.
//
// Ownership and ordering: refs_ counts the host's handle, a suspended module (from just before
// the callback may complete to its completion) and a queued deadline timer; the last release
// deletes. phase_ says who drives: running (one thread calls modules), waiting (none: a module
// is suspended) or done. Leaving waiting takes a compare-and-swap, so exactly one of the
// module's completion and a cancellation resumes or finishes the dispatch; acq_rel on it
// hands everything the previous driver wrote to the next.
class AsyncCore {
public:
   AsyncCore(const AsyncCore &) = delete;
   AsyncCore &operator=(const AsyncCore &) = delete;

   void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
   void release() noexcept {
      if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
   }

   // Stops the dispatch: no further module is called; when it waits for a module, it finishes
   // now with why applied under the slot's exception policy. The first reason given wins.
   void cancel(modkit_status why) noexcept {
      modkit_status none = MODKIT_OK;
      stop_why_.compare_exchange_strong(none, why, std::memory_order_acq_rel);
      __atomic_store_n(&cancelled_, 1, __ATOMIC_RELEASE);
      uint32_t waiting = phase_waiting;
      if (phase_.compare_exchange_strong(waiting, phase_done, std::memory_order_acq_rel)) stop_waiting();
   }

   bool finished() const noexcept { return phase_.load(std::memory_order_acquire) == phase_done; }
   const modkit_loader_snapshot *snapshot() const noexcept { return context_.snapshot; }

protected:
   enum : uint32_t { phase_running, phase_waiting, phase_done };

   explicit AsyncCore(const AsyncContext &context)
      : context_(context), request_id_(context.request_id) {
      context_.request_id = request_id_;
      call_ = modkit_call_make({request_id_.data(), request_id_.size()});
      call_.deadline_ns = context.deadline_ns;
      call_.cancelled = &cancelled_;
   }
   virtual ~AsyncCore() = default;

   // The module at next_ completed with status: resume the policy.
   virtual void resume(modkit_status status) noexcept = 0;
   // cancel() won while a module was suspended: finish with the stop reason.
   virtual void stop_waiting() noexcept = 0;

   modkit_status stop_reason() const noexcept { return stop_why_.load(std::memory_order_acquire); }
   bool stopping() const noexcept { return __atomic_load_n(&cancelled_, __ATOMIC_ACQUIRE) != 0; }

   // Calls a module: arms the call when the context allows suspension and takes what the
   // callback returned into status. True when the module suspended: it holds the call, and
   // this dispatch waits (or, cancelled meanwhile, has finished).
   template <class Invoke>
   bool call_module(const modkit_loader_entry &e, Invoke &&invoke, modkit_status &status) noexcept {
      const uint64_t started = context_.reader ? modkit_loader_metrics_begin(context_.reader) : 0;
      if (!context_.can_suspend) {
         // MODKIT_PENDING here is an error from the callback, as in ABI 1.0.
         status = invoke(context_.call ? context_.call : &call_);
         count(e, status, started);
         return false;
      }
      modkit_loader_call_arm(&call_, &AsyncCore::on_done, this, context_.loader);
      const modkit_status returned = invoke(&call_);
      if (MODKIT_ASYNC_LIKELY(returned != MODKIT_PENDING)) {
         status = modkit_loader_call_returned(&call_, returned);
         count(e, status, started);
         return false;
      }
      // Everything the completion needs is in place before settle lets it run elsewhere.
      prepare_suspension(e);
      status = modkit_loader_call_settle(&call_, returned);
      if (status == MODKIT_PENDING) {
         // A cancellation that came while this thread was still driving found nobody waiting:
         // it is carried out here.
         uint32_t waiting = phase_waiting;
         if (stopping() && phase_.compare_exchange_strong(waiting, phase_done, std::memory_order_acq_rel))
            stop_waiting();
         return true;
      }
      // The module completed before it returned: carry on here, unless cancel() finished the
      // dispatch meanwhile (then this is a late completion).
      uint32_t waiting = phase_waiting;
      const bool resumed = phase_.compare_exchange_strong(waiting, phase_running, std::memory_order_acq_rel);
      if (!resumed) unpin();
      else count(e, status, started);
      release(); // the suspension's reference
      return !resumed;
   }

   // Counts a call in the loader's metrics, on the calling thread's reader.
   void count(const modkit_loader_entry &e, modkit_status status, uint64_t started) noexcept {
      if (context_.reader) modkit_loader_metrics_end(context_.reader, &e, status, started);
   }

   // After the policy's last step on the driving thread: no module holds the call any more.
   void finish_running() noexcept {
      phase_.store(phase_done, std::memory_order_release);
      drop_timer();
   }
   void drop_timer() noexcept {
      if (timer_ != 0 && modkit_loader_timer_cancel(context_.loader, timer_)) release();
      timer_ = 0;
   }
   void unpin() noexcept {
      if (pinned_ == UINT32_MAX) return;
      modkit_loader_unpin(context_.snapshot, pinned_);
      pinned_ = UINT32_MAX;
   }

   AsyncContext context_;
   modkit_call call_;
   size_t next_ = 0; // the registrant being called, or waited for

private:
   static void on_done(void *self, modkit_call *, modkit_status status) {
      auto *core = static_cast<AsyncCore *>(self);
      uint32_t waiting = phase_waiting;
      if (core->phase_.compare_exchange_strong(waiting, phase_running, std::memory_order_acq_rel)) {
         // Resumed on this thread: count on its own reader from now on.
         if (core->context_.reader) core->context_.reader = modkit_loader_reader_get(core->context_.loader);
         core->resume(status);
      } else {
         core->unpin(); // finished early: the late completion only lets go of the snapshot
      }
      core->release(); // the suspension's reference
   }
   static void on_deadline(void *self) {
      auto *core = static_cast<AsyncCore *>(self);
      core->cancel(MODKIT_E_TIMEOUT);
      core->release();
   }

   void prepare_suspension(const modkit_loader_entry &e) noexcept {
      // One pin at a time, on the module waited for; taking the new one before dropping the
      // old keeps the snapshot pinned throughout (a resumed dispatch holds no read section).
      const uint32_t previous = pinned_;
      modkit_loader_pin(context_.snapshot, e.module_index);
      pinned_ = e.module_index;
      if (previous != UINT32_MAX) modkit_loader_unpin(context_.snapshot, previous);
      add_ref(); // the suspended module's
      if (context_.deadline_ns != 0 && timer_ == 0 && context_.loader) {
         add_ref(); // the timer's
         if (modkit_loader_timer_start(context_.loader, context_.deadline_ns, &AsyncCore::on_deadline, this,
                                       &timer_) != MODKIT_OK) {
            timer_ = 0;
            release();
         }
      }
      phase_.store(phase_waiting, std::memory_order_release);
   }
   std::atomic<uint32_t> refs_{1};
   std::atomic<uint32_t> phase_{phase_running};
   std::atomic<modkit_status> stop_why_{MODKIT_OK};
   volatile int32_t cancelled_ = 0;
   uint32_t pinned_ = UINT32_MAX; // module index of the pin held, or none
   uint64_t timer_ = 0;           // the deadline timer, or 0
   std::string request_id_;
};

// One policy's dispatch. Fold is one of modkit::fold; Done receives (Outcome[, answer]).
template <class Fold, class Answer, class Invoke, class Done, class Observer>
class AsyncDispatch final : public AsyncCore {
public:
   using value_type = typename Fold::value_type;

   AsyncDispatch(const AsyncContext &context, const modkit_loader_slot &slot, Fold fold, Invoke invoke, Done done,
                 Observer observer)
      : AsyncCore(context), fold_(std::move(fold)), slot_(slot), invoke_(std::move(invoke)), done_(std::move(done)),
        observer_(std::move(observer)) {}

   Answer answer_{};
   Fold fold_;

   // Calls modules from next_ on until one suspends or the policy concludes.
   void drive() noexcept {
      for (; next_ < slot_.count; ++next_) {
         const modkit_loader_entry &e = slot_.entries[next_];
         if (!fold_.wants(e)) continue;
         if (stopping()) return conclude(stopped_at(e));
         value_ = Fold::value();
         modkit_status status = MODKIT_OK;
         if (call_module(e, [&](modkit_call *call) { return invoke_one(e, call); }, status)) return;
         if (step(e, status)) return;
      }
      conclude(fold_.end());
   }

private:
   modkit_status invoke_one(const modkit_loader_entry &e, modkit_call *call) {
      if constexpr (std::is_same_v<value_type, fold::None>) return invoke_(e, call);
      else return invoke_(e, call, &value_);
   }

   // Applies one module's status; true when the dispatch is over (done was called).
   bool step(const modkit_loader_entry &e, modkit_status status) noexcept {
      Outcome out;
      if (fold_.step(slot_, e, status, value_, out, observer_)) {
         conclude(out);
         return true;
      }
      if constexpr (Fold::only_first) {
         conclude(fold_.end());
         return true;
      }
      return false;
   }

   // The exception policy applied to e as failing with the stop reason. A slot that fails
   // open ends with what it has, its status saying why it ended early.
   Outcome stopped_at(const modkit_loader_entry &e) noexcept {
      Outcome out;
      if (fold_.fail(slot_, e, stop_reason(), false, out, observer_)) return out;
      out = fold_.end();
      if (out.kind == Outcome::Kind::no_opinion) out.status = stop_reason();
      return out;
   }

   void resume(modkit_status status) noexcept override {
      const modkit_loader_entry &e = slot_.entries[next_];
      count(e, status, 0);
      if (step(e, status)) return;
      ++next_;
      drive();
   }

   void stop_waiting() noexcept override {
      // The module at next_ still holds the call and its outputs: they stay, and so does the pin,
      // until it completes (on_done lets go of both).
      drop_timer();
      const modkit_loader_entry &e = slot_.entries[next_];
      // Counted as a failure now, on this thread's reader; the late completion is not counted.
      if (context_.reader) modkit_loader_metrics_end(modkit_loader_reader_get(context_.loader), &e, stop_reason(), 0);
      deliver(stopped_at(e));
   }

   void conclude(const Outcome &out) noexcept {
      finish_running();
      deliver(out);
      unpin();
   }

   void deliver(const Outcome &out) noexcept {
      if constexpr (std::is_same_v<Answer, fold::None>) done_(out);
      else done_(out, static_cast<const Answer &>(answer_));
   }

   const modkit_loader_slot &slot_;
   Invoke invoke_;
   Done done_;
   Observer observer_;
   value_type value_{};
};

} // namespace detail

// The host's hold on an asynchronous dispatch: cancel it, or let go (the destructor). Letting go
// does not cancel: done still runs.
class AsyncHandle {
public:
   AsyncHandle() noexcept = default;
   explicit AsyncHandle(detail::AsyncCore *core) noexcept : core_(core) {}
   AsyncHandle(AsyncHandle &&other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
   AsyncHandle &operator=(AsyncHandle &&other) noexcept {
      if (this != &other) {
         reset();
         core_ = std::exchange(other.core_, nullptr);
      }
      return *this;
   }
   ~AsyncHandle() { reset(); }

   // See detail::AsyncCore::cancel. [thread-safe]
   void cancel() noexcept {
      if (core_) core_->cancel(MODKIT_E_CANCELLED);
   }
   // True once done has run (or is running). [thread-safe]
   bool finished() const noexcept { return core_ && core_->finished(); }
   void reset() noexcept {
      if (core_) std::exchange(core_, nullptr)->release();
   }

private:
   detail::AsyncCore *core_ = nullptr;
};

namespace async {

namespace detail {
template <class Fold, class Answer, class Invoke, class Done, class Observer>
AsyncHandle start(const AsyncContext &context, const modkit_loader_slot &slot, Fold fold, Invoke &&invoke, Done &&done,
                  Observer &&observer, Answer initial) {
   using D = modkit::detail::AsyncDispatch<Fold, Answer, std::decay_t<Invoke>, std::decay_t<Done>,
                                           std::decay_t<Observer>>;
   auto *d = new D(context, slot, std::move(fold), std::forward<Invoke>(invoke), std::forward<Done>(done),
                   std::forward<Observer>(observer));
   d->answer_ = initial;
   if constexpr (!std::is_same_v<Answer, fold::None>) d->fold_.answer = &d->answer_;
   AsyncHandle handle(d);
   d->drive();
   return handle;
}
} // namespace detail

// invoke(entry, call, T *answer) -> status; done(const Outcome &, const T &answer).
template <class T, class Invoke, class Done, class Observer = NullObserver, class Filter = modkit::detail::AnyEntry>
AsyncHandle first_non_zero(const AsyncContext &context, const modkit_loader_slot &slot, Invoke &&invoke, Done &&done,
                           modkit::detail::same_t<T> deny = T{}, Observer &&observer = {}, Filter &&filter = {}) {
   fold::FirstNonZero<T, std::decay_t<Filter>> f{nullptr, deny, modkit::detail::answer_limit<T>(*slot.desc),
                                                std::forward<Filter>(filter)};
   return detail::start(context, slot, std::move(f), std::forward<Invoke>(invoke), std::forward<Done>(done),
                        std::forward<Observer>(observer), T{});
}

// Keyed: first non-zero among the registrants matches(entry) accepts.
template <class T, class Matches, class Invoke, class Done, class Observer = NullObserver>
AsyncHandle keyed(const AsyncContext &context, const modkit_loader_slot &slot, Matches &&matches, Invoke &&invoke,
                  Done &&done, modkit::detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   return first_non_zero<T>(context, slot, std::forward<Invoke>(invoke), std::forward<Done>(done), deny,
                            std::forward<Observer>(observer), std::forward<Matches>(matches));
}

// invoke(entry, call, bool *allowed) -> status; done(const Outcome &, bool allowed).
template <class Invoke, class Done, class Observer = NullObserver>
AsyncHandle all_true(const AsyncContext &context, const modkit_loader_slot &slot, Invoke &&invoke, Done &&done,
                     Observer &&observer = {}) {
   return detail::start(context, slot, fold::AllTrue{nullptr}, std::forward<Invoke>(invoke), std::forward<Done>(done),
                        std::forward<Observer>(observer), true);
}

// invoke(entry, call) -> status; done(const Outcome &).
template <class Invoke, class Done, class Observer = NullObserver>
AsyncHandle run_all(const AsyncContext &context, const modkit_loader_slot &slot, Invoke &&invoke, Done &&done,
                    Observer &&observer = {}) {
   return detail::start(context, slot, fold::RunAll{}, std::forward<Invoke>(invoke), std::forward<Done>(done),
                        std::forward<Observer>(observer), fold::None{});
}

// invoke(entry, call, Out *out) -> status; merge(const Out &, entry) -> stop?; done(const Outcome &).
// merge runs on whichever thread drives the dispatch, one call at a time.
template <class Out, class Invoke, class Merge, class Done, class Observer = NullObserver>
AsyncHandle merge(const AsyncContext &context, const modkit_loader_slot &slot, Invoke &&invoke, Merge &&merge_into,
                  Done &&done, Observer &&observer = {}) {
   return detail::start(context, slot, fold::Merging<Out, std::decay_t<Merge>>{std::forward<Merge>(merge_into)},
                        std::forward<Invoke>(invoke), std::forward<Done>(done), std::forward<Observer>(observer),
                        fold::None{});
}

// invoke(entry, call, T *answer) -> status; done(const Outcome &, const T &answer).
template <class T, class Invoke, class Done, class Observer = NullObserver>
AsyncHandle single(const AsyncContext &context, const modkit_loader_slot &slot, Invoke &&invoke, Done &&done,
                   modkit::detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   fold::Single<T> f{nullptr, deny, modkit::detail::answer_limit<T>(*slot.desc)};
   return detail::start(context, slot, std::move(f), std::forward<Invoke>(invoke), std::forward<Done>(done),
                        std::forward<Observer>(observer), T{});
}

// First non-zero on first; if nobody objected, first non-zero on next. The second dispatch
// starts from within the first's done, while the first still holds the snapshot, so both see
// the same modules. The returned handle cancels the first dispatch only; a cancelled first
// dispatch does not fall through to the second (its outcome is not no_opinion).
template <class T, class InvokeFirst, class InvokeNext, class Done, class Observer = NullObserver>
AsyncHandle chained(const AsyncContext &context, const modkit_loader_slot &first, InvokeFirst &&invoke_first,
                    const modkit_loader_slot &next, InvokeNext &&invoke_next, Done &&done,
                    modkit::detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   // The second dispatch's context must not outlive this call by reference: keep its own copy.
   struct Then {
      AsyncContext context;
      std::string request_id;
      const modkit_loader_slot *next;
      std::decay_t<InvokeNext> invoke_next;
      std::decay_t<Done> done;
      T deny;
      std::decay_t<Observer> observer;
      void operator()(const Outcome &out, const T &answer) {
         // Decided, failed, or cut short by a cancellation or the deadline: no fall-through.
         if (out.kind != Outcome::Kind::no_opinion || out.status != MODKIT_OK) return done(out, answer);
         context.request_id = request_id;
         // This may be another thread than the one that started: count on its own reader.
         if (context.reader) context.reader = modkit_loader_reader_get(context.loader);
         first_non_zero<T>(context, *next, std::move(invoke_next), std::move(done), deny, std::move(observer));
      }
   };
   return first_non_zero<T>(context, first, std::forward<InvokeFirst>(invoke_first),
                            Then{context, std::string(context.request_id), &next, std::forward<InvokeNext>(invoke_next),
                                 std::forward<Done>(done), deny, observer},
                            deny, observer);
}

} // namespace async

} // namespace modkit

#undef MODKIT_ASYNC_LIKELY
