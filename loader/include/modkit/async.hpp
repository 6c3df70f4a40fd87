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
// Lifetimes: a dispatch runs on the starting thread's stack until a module suspends; then it
// moves next to the call handle that module holds (a block the thread pools per call site:
// detail::Pool) and lives until the host's handle, the suspended module and the deadline timer
// have all let go of it. What invoke and done capture by value lives as long, and must move
// without throwing; what they capture by reference must outlive done, and so must the slot (one
// from the snapshot does: the dispatch pins it; a slot the host assembled itself is the host's
// to keep). invoke's outputs live in the block. The inputs a module received are only valid
// until its callback returns, even when it suspends: a module copies what it needs.
// Thread rules: invoke and done may run on any thread, never two at once for one dispatch.
#pragma once

#include <modkit/async_context.hpp>
#include <modkit/detail/async_dispatch.hpp>
#include <modkit/dispatch.hpp>
#include <modkit/loader.h>

#include <string>
#include <type_traits>
#include <utility>

namespace modkit {

// The host's hold on an asynchronous dispatch: cancel it, or let go (the destructor). Letting go
// does not cancel: done still runs.
class AsyncHandle {
public:
   AsyncHandle() noexcept = default;
   explicit AsyncHandle(detail::AsyncCore *core) noexcept : core_(core) {}
   AsyncHandle(AsyncHandle &&other) noexcept
      : core_(std::exchange(other.core_, nullptr)), concluded_(std::exchange(other.concluded_, false)) {}
   AsyncHandle &operator=(AsyncHandle &&other) noexcept {
      if (this != &other) {
         reset();
         core_ = std::exchange(other.core_, nullptr);
         concluded_ = std::exchange(other.concluded_, false);
      }
      return *this;
   }
   ~AsyncHandle() { reset(); }

   // The handle of a dispatch that concluded before its start function returned.
   static AsyncHandle concluded() noexcept {
      AsyncHandle h;
      h.concluded_ = true;
      return h;
   }

   // See detail::AsyncCore::cancel. [thread-safe]
   void cancel() noexcept {
      if (core_) core_->cancel(MODKIT_E_CANCELLED);
   }
   // True once done has run (or is running). [thread-safe]
   bool finished() const noexcept { return concluded_ || (core_ && core_->finished()); }
   void reset() noexcept {
      if (core_) std::exchange(core_, nullptr)->release();
      concluded_ = false;
   }

private:
   detail::AsyncCore *core_ = nullptr;
   bool concluded_ = false; // done ran inline: nothing to hold
};

namespace async {

namespace detail {
template <class Fold, class Answer, class Invoke, class Done, class Observer>
AsyncHandle start(const AsyncContext &context, const modkit_loader_slot &slot, Fold fold, Invoke &&invoke_arg,
                  Done &&done_arg, Observer &&observer_arg, Answer initial) {
   using P = modkit::detail::Policy<Fold, Answer, std::decay_t<Invoke>, std::decay_t<Done>, std::decay_t<Observer>>;
   using D = modkit::detail::AsyncDispatch<P>;
   using B = typename D::block_type;
   using Pool = modkit::detail::Pool<B>;
   // Moved into the block when a module suspends, after that module already holds the call:
   // that move must not fail.
   static_assert(std::is_nothrow_move_constructible_v<P>,
                 "invoke, done and observer must be nothrow move constructible (capture by value what moves "
                 "without throwing: pointers, shared_ptr, std::string)");
   // The policy's state stays in locals until a module suspends, so a dispatch that never does
   // keeps it in registers.
   std::decay_t<Invoke> invoke(std::forward<Invoke>(invoke_arg));
   std::decay_t<Done> done(std::forward<Done>(done_arg));
   std::decay_t<Observer> observer(std::forward<Observer>(observer_arg));
   Answer answer = initial;
   modkit::detail::bind_answer(fold, answer);
   size_t next = 0;
   typename Pool::Idle &idle = Pool::here();
   B *block = Pool::take(idle);
   try {
      block->held.prepare(context);
   } catch (...) {
      Pool::give(idle, block);
      throw;
   }
   Outcome out;
   modkit_status returned = MODKIT_OK;
   uint64_t started = 0;
   if (MODKIT_ASYNC_LIKELY(modkit::detail::run<false>(fold, slot, invoke, observer, next, block->held, context, out,
                                                      returned, started) != modkit::detail::Ran::pending)) {
      // Nobody suspended: the dispatch ends here, with nothing allocated and nothing shared.
      Pool::give(idle, block);
      modkit::detail::deliver(done, out, answer);
      return AsyncHandle::concluded();
   }
   D *d = new (block->dispatch)
      D(context, P{std::move(fold), &slot, std::move(invoke), std::move(done), std::move(observer), answer, next},
        block);
   AsyncHandle handle(d);
   d->suspended(returned, started);
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
#undef MODKIT_ASYNC_INLINE
