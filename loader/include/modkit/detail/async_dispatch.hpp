// modkit/detail/async_dispatch.hpp - the machinery behind modkit/async.hpp: the call a module
// holds (Held), the per-thread pool of blocks it lives in (Pool), the policy loop (run), and the
// dispatch a suspension moves into (AsyncCore, AsyncDispatch). Hosts use modkit/async.hpp.
#pragma once

#include <modkit/async_context.hpp>
#include <modkit/dispatch.hpp>
#include <modkit/loader.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// Dispatch blocks are pooled per thread (detail::Pool) except under AddressSanitizer.
#if !defined(MODKIT_ASYNC_RECYCLE)
#   if defined(__SANITIZE_ADDRESS__)
#      define MODKIT_ASYNC_RECYCLE 0
#   elif defined(__has_feature)
#      if __has_feature(address_sanitizer)
#         define MODKIT_ASYNC_RECYCLE 0
#      endif
#   endif
#   if !defined(MODKIT_ASYNC_RECYCLE)
#      define MODKIT_ASYNC_RECYCLE 1
#   endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#   define MODKIT_ASYNC_LIKELY(x) __builtin_expect(!!(x), 1)
#   define MODKIT_ASYNC_INLINE inline __attribute__((always_inline))
#else
#   define MODKIT_ASYNC_LIKELY(x) (x)
#   define MODKIT_ASYNC_INLINE inline
#endif

namespace modkit {

namespace detail {

// The phase of an asynchronous dispatch before any of its modules suspended runs on the
// starting thread with its policy state on the stack: no other thread can see it, so it needs
// no reference count, no atomic and no allocation. Only what a module holds, the call handle
// and the output it writes, must stay put in case it suspends; that lives in a Block from the
// thread's pool (Pool). When a module returns MODKIT_PENDING, the policy state moves into the
// same block beside the call (AsyncDispatch, below) and the dispatch continues from there.

// What a module may hold until it completes: the call handle, the flag it polls, the output it
// writes, and the request id the handle points to. Fields that never change between dispatches
// (struct_size, cancelled, done) are set once, when the block is made.
template <class V>
struct Held {
   modkit_call call;
   V value{};
   volatile int32_t cancelled = 0;
   char id_inline[48];
   std::string id_long; // a request id longer than id_inline, reused with its capacity

   explicit Held(modkit_loader_call_done_fn done) noexcept : call(modkit_call_make({nullptr, 0})) {
      call.cancelled = &cancelled;
      call.done = done;
   }
   Held(const Held &) = delete;
   Held &operator=(const Held &) = delete;

   // Readies the handle for a dispatch in context: the request id is copied, since the handle
   // must outlive the caller's string when a module suspends. A pooled block comes back with
   // cancelled 0, state idle, and most fields as the last dispatch of its type left them: they
   // are compared rather than stored again, which is what a dispatch that never suspends costs.
   void prepare(const AsyncContext &context) {
      const std::string_view id = context.request_id;
      const char *data = id_inline;
      if (MODKIT_ASYNC_LIKELY(id.size() <= sizeof id_inline)) {
         if (!id.empty()) std::memcpy(id_inline, id.data(), id.size());
      } else {
         data = id_long.assign(id.data(), id.size()).data();
      }
      if (call.request_id.data != data) call.request_id.data = data;
      call.request_id.size = id.size();
      if (call.deadline_ns != context.deadline_ns) call.deadline_ns = context.deadline_ns;
      if (call.loader != context.loader) call.loader = context.loader;
      if (call.on_error != context.on_error) call.on_error = context.on_error;
      if (call.error_user_data != context.error_user_data) call.error_user_data = context.error_user_data;
   }
   // Before the block goes back to a pool: what prepare() relies on.
   void recycle() noexcept { cancelled = 0; }
};

// Blocks of one type, pooled per thread: each thread keeps the block of its last finished
// dispatch of that type for its next one, so a dispatch that never suspends allocates nothing.
// A block that served a suspended dispatch returns to the pool of the thread that let go of it
// last. Bound: one idle block per thread and block type. Under AddressSanitizer every dispatch
// gets a fresh block, so a use after the end is still caught.
template <class B>
class Pool {
public:
#if MODKIT_ASYNC_RECYCLE
   struct Idle {
      B *block = nullptr;
      ~Idle() { delete block; }
   };
   // This thread's idle block of type B. Held across a dispatch that ends on the thread that
   // started it, so the thread-local is looked up once.
   static Idle &here() noexcept {
      static thread_local Idle idle;
      return idle;
   }
#else
   struct Idle {};
   static Idle &here() noexcept {
      static Idle none;
      return none;
   }
#endif

   static B *take(Idle &idle) {
#if MODKIT_ASYNC_RECYCLE
      if (B *b = idle.block) {
         idle.block = nullptr; // in use: a nested dispatch of the same type gets its own
         return b;
      }
#else
      (void)idle;
#endif
      return new B;
   }
   // Gives b back to idle, on the thread idle belongs to; b's held.recycle() has run.
   static void give(Idle &idle, B *b) noexcept {
#if MODKIT_ASYNC_RECYCLE
      if (MODKIT_ASYNC_LIKELY(!idle.block)) {
         idle.block = b;
         return;
      }
#else
      (void)idle;
#endif
      delete b;
   }
};

// Calls one module: invoke(entry, call[, value]) as the fold's value type says.
template <class Fold, class Invoke>
MODKIT_ASYNC_INLINE modkit_status call_one(Invoke &invoke, const modkit_loader_entry &e, modkit_call *c,
                                           typename Fold::value_type *value) {
   if constexpr (std::is_same_v<typename Fold::value_type, fold::None>) return invoke(e, c);
   else return invoke(e, c, value);
}

// Hands the outcome (and the answer, for policies that have one) to done.
template <class Done, class Answer>
void deliver(Done &done, const Outcome &out, const Answer &answer) {
   if constexpr (std::is_same_v<Answer, fold::None>) done(out);
   else done(out, answer);
}

// Points the fold at the dispatch's answer (policies without one have no such field).
template <class Fold, class Answer>
void bind_answer(Fold &fold, Answer &answer) noexcept {
   if constexpr (!std::is_same_v<Answer, fold::None>) fold.answer = &answer;
}

// One policy's state, once a module suspended: its fold over the slot's registrants, the
// host's functions, the answer, and the registrant being waited for.
template <class Fold, class Answer, class Invoke, class Done, class Observer>
struct Policy {
   using fold_type = Fold;
   using value_type = typename Fold::value_type;
   Fold fold;
   const modkit_loader_slot *slot;
   Invoke invoke;
   Done done;
   Observer observer;
   Answer answer;
   size_t next;
};

// An observer may also check each answer before the policy takes it:
//   modkit_status answered(const modkit_loader_slot &, const modkit_loader_entry &,
//                          modkit_status status, V *value)
// runs on the thread that drives the dispatch once a module answered (at once, or when its
// suspended call completed; never for a late completion the dispatch ignores), and returns the
// status the policy applies: a host that rejects what a module wrote (a buffer that does not
// parse, say) returns an error there, and the slot's exception policy follows as for a failing
// callback. value is the module's output for the policy; outputs of the host's own are in
// whatever invoke gave the module.
template <class O, class V, class = void>
struct has_answered : std::false_type {};
template <class O, class V>
struct has_answered<O, V,
                    std::void_t<decltype(std::declval<O &>().answered(
                       std::declval<const modkit_loader_slot &>(), std::declval<const modkit_loader_entry &>(),
                       MODKIT_OK, std::declval<V *>()))>> : std::true_type {};

template <class Observer, class V>
MODKIT_ASYNC_INLINE modkit_status answered(Observer &observer, const modkit_loader_slot &slot,
                                           const modkit_loader_entry &e, modkit_status status, V *value) {
   if constexpr (has_answered<Observer, V>::value) return observer.answered(slot, e, status, value);
   else return status;
}

// Takes module e's answer: the observer's check, the loader's metrics (on reader, if any), then
// the fold's step. True when the policy reached its outcome (out). Shared by the first run on
// the starting thread and by the resumptions after a suspension.
template <class Fold, class Observer>
MODKIT_ASYNC_INLINE bool take_answer(Fold &fold, const modkit_loader_slot &slot, const modkit_loader_entry &e,
                                     modkit_status status, typename Fold::value_type &value, Observer &observer,
                                     modkit_loader_reader *reader, uint64_t started, Outcome &out) {
   status = answered(observer, slot, e, status, &value);
   if (reader) modkit_loader_metrics_end(reader, &e, status, started);
   if (fold.step(slot, e, status, value, out, observer)) return true;
   if constexpr (Fold::only_first) {
      out = fold.end();
      return true;
   }
   return false;
}

// How far run() got.
enum class Ran {
   concluded, // the policy reached its outcome (out)
   pending,   // the module at next returned MODKIT_PENDING (returned, started)
   stopped,   // the dispatch was cancelled before the module at next
};

// Runs a policy from next on, on the calling thread, until it concludes or a module returns
// MODKIT_PENDING. A call that cannot suspend (context.can_suspend false) is not armed, and
// MODKIT_PENDING from it is an error status, as in ABI 1.0.
template <bool Stoppable, class Fold, class Invoke, class Observer>
MODKIT_ASYNC_INLINE Ran run(Fold &fold, const modkit_loader_slot &slot, Invoke &invoke, Observer &observer,
                            size_t &next, Held<typename Fold::value_type> &h, const AsyncContext &context,
                            Outcome &out, modkit_status &returned, uint64_t &started) {
   // Read once: a module's call cannot change the context or the slot (a published snapshot
   // never changes), and the compiler cannot know that across the indirect call.
   const bool can_suspend = context.can_suspend;
   modkit_loader_reader *const reader = context.reader;
   const modkit_loader_entry *const entries = slot.entries;
   const size_t count = slot.count;
   modkit_call *call = can_suspend || !context.call ? &h.call : context.call;
   for (; next < count; ++next) {
      const modkit_loader_entry &e = entries[next];
      if (!fold.wants(e)) continue;
      if constexpr (Stoppable) {
         if (__atomic_load_n(&h.cancelled, __ATOMIC_ACQUIRE)) return Ran::stopped;
      }
      h.value = Fold::value();
      started = reader ? modkit_loader_metrics_begin(reader) : 0;
      modkit_status status;
      if (MODKIT_ASYNC_LIKELY(can_suspend)) {
         // Armed by hand: done and done_user_data stay as the block has them (see AsyncDispatch).
         h.call.status = MODKIT_OK;
         h.call.state = MODKIT_LOADER_CALL_ARMED;
         status = call_one<Fold>(invoke, e, call, &h.value);
         if (!MODKIT_ASYNC_LIKELY(status != MODKIT_PENDING)) {
            returned = status;
            return Ran::pending;
         }
         h.call.state = MODKIT_LOADER_CALL_IDLE;
      } else {
         status = call_one<Fold>(invoke, e, call, &h.value);
      }
      if (take_answer(fold, slot, e, status, h.value, observer, reader, started, out)) return Ran::concluded;
   }
   out = fold.end();
   return Ran::concluded;
}

// What every suspended dispatch shares, whatever its policy: references, phase, pin and
// deadline timer. It exists only once a module has suspended.
//
// Ownership and ordering: refs_ counts the host's handle, a suspended module (from just before
// the callback may complete to its completion) and a queued deadline timer; the last release
// destroys the dispatch and gives its block back. phase_ says who drives: running (one thread
// calls modules), waiting (none: a module is suspended) or done. Leaving waiting takes a
// compare-and-swap, so exactly one of the module's completion and a cancellation resumes or
// finishes the dispatch; acq_rel on it hands everything the previous driver wrote to the next.
class AsyncCore {
public:
   AsyncCore(const AsyncCore &) = delete;
   AsyncCore &operator=(const AsyncCore &) = delete;

   void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
   void release() noexcept {
      if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
   }

   // Stops the dispatch: no further module is called; when it waits for a module, it finishes
   // now with why applied under the slot's exception policy. The first reason given wins.
   void cancel(modkit_status why) noexcept {
      modkit_status none = MODKIT_OK;
      stop_why_.compare_exchange_strong(none, why, std::memory_order_acq_rel);
      __atomic_store_n(cancelled_, 1, __ATOMIC_RELEASE);
      uint32_t waiting = phase_waiting;
      if (phase_.compare_exchange_strong(waiting, phase_done, std::memory_order_acq_rel)) stop_waiting();
   }

   bool finished() const noexcept { return phase_.load(std::memory_order_acquire) == phase_done; }
   const modkit_loader_snapshot *snapshot() const noexcept { return context_.snapshot; }

   // The block's call handle's done function: the suspended module at the driver's position
   // completed with status.
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

protected:
   enum : uint32_t { phase_running, phase_waiting, phase_done };

   AsyncCore(const AsyncContext &context, modkit_call *call, volatile int32_t *cancelled) noexcept
      : context_(context), call_(call), cancelled_(cancelled) {
      context_.request_id = std::string_view(call->request_id.data, call->request_id.size);
      call->done_user_data = this; // read by the completing thread only after settle publishes it
   }
   virtual ~AsyncCore() = default;

   // Destroys the dispatch and gives its block back.
   virtual void destroy() noexcept = 0;
   // The module at the driver's position completed with status: resume the policy.
   virtual void resume(modkit_status status) noexcept = 0;
   // cancel() won while a module was suspended: finish with the stop reason.
   virtual void stop_waiting() noexcept = 0;

   modkit_status stop_reason() const noexcept { return stop_why_.load(std::memory_order_acquire); }

   // The module e returned MODKIT_PENDING on this thread: pins it, arms the deadline, then lets
   // the completion run elsewhere. True when the dispatch now waits (or a cancellation finished
   // it meanwhile); false when the module completed before it returned and this thread goes on
   // with status.
   bool suspend(const modkit_loader_entry &e, modkit_status returned, modkit_status &status) noexcept {
      // Everything the completion needs is in place before settle lets it run elsewhere.
      prepare_suspension(e);
      status = modkit_loader_call_settle(call_, returned);
      if (status == MODKIT_PENDING) {
         // A cancellation that came while this thread was still driving found nobody waiting:
         // it is carried out here.
         uint32_t waiting = phase_waiting;
         if (__atomic_load_n(cancelled_, __ATOMIC_ACQUIRE) &&
             phase_.compare_exchange_strong(waiting, phase_done, std::memory_order_acq_rel))
            stop_waiting();
         return true;
      }
      // The module completed before it returned: carry on here, unless cancel() finished the
      // dispatch meanwhile (then this is a late completion).
      uint32_t waiting = phase_waiting;
      const bool resumed = phase_.compare_exchange_strong(waiting, phase_running, std::memory_order_acq_rel);
      if (!resumed) unpin();
      release(); // the suspension's reference
      return !resumed;
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

private:
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

   modkit_call *call_;
   volatile int32_t *cancelled_;
   std::atomic<uint32_t> refs_{1}; // the host's handle
   std::atomic<uint32_t> phase_{phase_running};
   std::atomic<modkit_status> stop_why_{MODKIT_OK};
   uint32_t pinned_ = UINT32_MAX; // module index of the pin held, or none
   uint64_t timer_ = 0;           // the deadline timer, or 0
};

template <class D, class V>
struct Block;

// A dispatch after one of its modules suspended: the policy state, moved beside the call
// handle in the block, driven by whichever thread completes the module it waits for.
template <class P>
class AsyncDispatch final : public AsyncCore {
public:
   using V = typename P::value_type;
   using block_type = Block<AsyncDispatch, V>;

   AsyncDispatch(const AsyncContext &context, P &&policy, block_type *block) noexcept
      : AsyncCore(context, &block->held.call, &block->held.cancelled), p_(std::move(policy)), block_(block) {
      bind_answer(p_.fold, p_.answer);
   }

   // The module at p_.next returned MODKIT_PENDING while the policy ran on the stack.
   void suspended(modkit_status returned, uint64_t started) noexcept { after_pending(returned, started); }

private:
   // Calls modules from p_.next on until one suspends or the policy concludes.
   void drive() noexcept {
      Outcome out;
      modkit_status returned = MODKIT_OK;
      uint64_t started = 0;
      switch (run<true>(p_.fold, *p_.slot, p_.invoke, p_.observer, p_.next, block_->held, context_, out, returned,
                        started)) {
      case Ran::concluded: return conclude(out);
      case Ran::stopped: return conclude(stopped_at(p_.slot->entries[p_.next]));
      case Ran::pending: return after_pending(returned, started);
      }
   }

   void after_pending(modkit_status returned, uint64_t started) noexcept {
      const modkit_loader_entry &e = p_.slot->entries[p_.next];
      modkit_status status = MODKIT_OK;
      if (suspend(e, returned, status)) return;
      next_after(e, status, started);
   }

   // Takes e's answer (checked by the observer, counted) and goes on with the next registrant.
   void next_after(const modkit_loader_entry &e, modkit_status status, uint64_t started) noexcept {
      Outcome out;
      if (take_answer(p_.fold, *p_.slot, e, status, block_->held.value, p_.observer, context_.reader, started, out))
         return conclude(out);
      ++p_.next;
      drive();
   }

   // The exception policy applied to e as failing with the stop reason. A slot that fails
   // open ends with what it has, its status saying why it ended early.
   Outcome stopped_at(const modkit_loader_entry &e) noexcept {
      Outcome out;
      if (p_.fold.fail(*p_.slot, e, stop_reason(), false, out, p_.observer)) return out;
      out = p_.fold.end();
      if (out.kind == Outcome::Kind::no_opinion) out.status = stop_reason();
      return out;
   }

   void resume(modkit_status status) noexcept override {
      next_after(p_.slot->entries[p_.next], status, 0);
   }

   void stop_waiting() noexcept override {
      // The module at p_.next still holds the call and its outputs: they stay, and so does the
      // pin, until it completes (on_done lets go of both).
      drop_timer();
      const modkit_loader_entry &e = p_.slot->entries[p_.next];
      // Counted as a failure now, on this thread's reader; the late completion is not counted.
      if (context_.reader) modkit_loader_metrics_end(modkit_loader_reader_get(context_.loader), &e, stop_reason(), 0);
      deliver(p_.done, stopped_at(e), p_.answer);
   }

   void conclude(const Outcome &out) noexcept {
      finish_running();
      deliver(p_.done, out, p_.answer);
      unpin();
   }

   void destroy() noexcept override {
      block_type *block = block_;
      this->~AsyncDispatch();
      block->held.recycle();
      Pool<block_type>::give(Pool<block_type>::here(), block);
   }

   P p_;
   block_type *block_;
};

// A pooled block: the call a module holds, and room for its dispatch should the module suspend.
template <class D, class V>
struct Block {
   Held<V> held{&AsyncCore::on_done};
   alignas(D) unsigned char dispatch[sizeof(D)];
};

} // namespace detail

} // namespace modkit
