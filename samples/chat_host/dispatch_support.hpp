// dispatch_support.hpp - what every typed dispatch function shares: one Scope per dispatch
// (a read section until the dispatch has started, the deadline, the wait for a module that
// suspended, the trace entry), a Frame owning what suspendable calls read, and helpers for the
// common shapes (first non-zero with one output, all true, run all). Included only by the
// callbacks_*.cpp files and module_host.cpp.
#pragma once

#include "blocking.hpp"
#include "call_frames.hpp"
#include "module_host.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>

namespace chat {

template <class Callbacks>
struct CategoryOf;
#define CHAT_CATEGORY_(type, cid, short_name)           \
   template <>                                          \
   struct CategoryOf<type> {                            \
      static const char *id() { return cid; }           \
      static const char *name() { return short_name; }  \
   }
CHAT_CATEGORY_(modkit_spam_checker_callbacks, MODKIT_SPAM_CHECKER_ID, "spam_checker");
CHAT_CATEGORY_(modkit_third_party_rules_callbacks, MODKIT_THIRD_PARTY_RULES_ID, "third_party_rules");
CHAT_CATEGORY_(modkit_presence_router_callbacks, MODKIT_PRESENCE_ROUTER_ID, "presence_router");
CHAT_CATEGORY_(modkit_account_validity_callbacks, MODKIT_ACCOUNT_VALIDITY_ID, "account_validity");
CHAT_CATEGORY_(modkit_password_auth_provider_callbacks, MODKIT_PASSWORD_AUTH_PROVIDER_ID, "password_auth_provider");
CHAT_CATEGORY_(modkit_background_update_controller_callbacks, MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID,
               "background_update_controller");
CHAT_CATEGORY_(modkit_account_data_callbacks, MODKIT_ACCOUNT_DATA_ID, "account_data");
CHAT_CATEGORY_(modkit_extra_unsigned_fields_callbacks, MODKIT_EXTRA_UNSIGNED_FIELDS_ID, "extra_unsigned_fields");
CHAT_CATEGORY_(modkit_media_repository_callbacks, MODKIT_MEDIA_REPOSITORY_ID, "media_repository");
CHAT_CATEGORY_(modkit_ratelimit_callbacks, MODKIT_RATELIMIT_ID, "ratelimit");
CHAT_CATEGORY_(modkit_federation_callbacks, MODKIT_FEDERATION_ID, "federation");
#undef CHAT_CATEGORY_

// Where Member's slot lives in snapshots. The loader is always created with the same category
// list, so the position is the same for every ModuleHost and is found once.
template <auto Member>
modkit::SlotRef ModuleHost::ref() const {
   using Callbacks = typename modkit::Slot<Member>::callbacks_type;
   static const modkit::SlotRef r = loader_->template slot_ref<Member>(CategoryOf<Callbacks>::id());
   return r;
}

using Namer = std::string (*)(int64_t);

// What a suspendable dispatch hands its modules, owned by the dispatch. A module that suspends
// may read its inputs until it completes, which can be after the request that made them has
// been answered (its deadline passed), so they are copied here and the dispatch keeps the
// copies alive (its invoke holds the Frame) until the last module lets go of its call.
class Frame {
public:
   modkit_str own(modkit_str s) {
      if (!s.data) return s;
      const std::string &copy = keep(std::string(s.data, s.size));
      return {copy.data(), copy.size()};
   }
   const modkit_event *own(const modkit_event *e) {
      modkit_event c = *e;
      c.event_id = own(e->event_id);
      c.room_id = own(e->room_id);
      c.sender = own(e->sender);
      c.type = own(e->type);
      c.state_key = own(e->state_key);
      c.content_json = own(e->content_json);
      c.unsigned_json = own(e->unsigned_json);
      return &keep(c);
   }
   const modkit_user_profile *own(const modkit_user_profile *p) {
      modkit_user_profile c = *p;
      c.user_id = own(p->user_id);
      c.display_name = own(p->display_name);
      c.avatar_url = own(p->avatar_url);
      return &keep(c);
   }
   const modkit_media_file_info *own(const modkit_media_file_info *i) {
      modkit_media_file_info c = *i;
      c.server_name = own(i->server_name);
      c.media_id = own(i->media_id);
      c.upload_name = own(i->upload_name);
      c.media_type = own(i->media_type);
      return &keep(c);
   }
   const modkit_media_upload_limit *own(const modkit_media_upload_limit *l) { return &keep(*l); }
   const modkit_federation_delivery *own(const modkit_federation_delivery *d) {
      modkit_federation_delivery c = *d;
      c.server_name = own(d->server_name);
      c.events_json = own(d->events_json);
      return &keep(c);
   }
   template <class T, std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>, int> = 0>
   T own(T value) {
      return value;
   }
   // Anything else the dispatch must keep (a slot it built, say).
   template <class T>
   T &keep(T value) {
      auto p = std::make_shared<T>(std::move(value));
      T &ref = *p;
      kept_.push_back(std::move(p));
      return ref;
   }

private:
   std::vector<std::shared_ptr<void>> kept_;
};

// One dispatch of one callback. Every dispatch goes through the asynchronous policies
// (modkit/async.hpp) with a call handle that can suspend: a module may answer MODKIT_PENDING,
// the read section ends as soon as the policy returns, and the calling thread waits, holding no
// lock, until done runs (at the latest at the call's deadline, when the slot's exception policy
// is applied to the module that did not answer). Where the host checks what a module wrote (JSON
// in a buffer, several outputs), the check runs when the module answered, also after a
// suspension (the observer's answered(), below). The one exception is the host's own loop over
// get_supported_login_types at startup, which asks each module in turn with a 1.0-style call.
class Scope {
public:
   Scope(ModuleHost &host, CallContext &ctx, std::string callback, Namer namer = nullptr)
      : host_(host), ctx_(ctx), namer_(namer), deadline_ns_(host.call_deadline_ns()) {
      guard_.emplace(host.reader());
      run_.callback = std::move(callback);
      call_ = modkit_call_make({ctx.request_id.data(), ctx.request_id.size()});
      call_.deadline_ns = deadline_ns_;
      call_.on_error = &Signal::take_error;
      call_.error_user_data = signal_.get();
   }

   template <auto Member>
   modkit::Slot<Member> slot() const {
      return guard_->slot<Member>(host_.ref<Member>());
   }
   const modkit_loader_snapshot &snapshot() const { return guard_->snapshot(); }
   modkit_call *call() { return &call_; }

   // invoke(entry, outputs...), traced with the module's first output and counted in the
   // loader's per-callback metrics: for loops of the host's own (the policies count their
   // calls themselves).
   template <class F>
   auto wrap_counted(F invoke) {
      return [this, invoke](const modkit_loader_entry &e, auto *...out) -> modkit_status {
         const uint64_t started = modkit_loader_metrics_begin(guard_->reader());
         const size_t at = begin(e);
         const modkit_status status = end(at, e, invoke_in_frame(e, [&] { return invoke(e, out...); }), out...);
         modkit_loader_metrics_end(guard_->reader(), &e, status, started);
         return status;
      };
   }
   // invoke(entry, call, outputs...) for a suspendable policy: MODKIT_PENDING is traced as
   // "suspended" and settled when the module completes.
   template <class F>
   auto wrap_async(F invoke) {
      return [this, invoke](const modkit_loader_entry &e, modkit_call *call, auto *...out) -> modkit_status {
         const size_t at = begin(e);
         return end(at, e, invoke_in_frame(e, [&] { return invoke(e, call, out...); }), out...);
      };
   }

   struct Observer {
      Scope *scope;
      void failed(const modkit_loader_slot &, const modkit_loader_entry &e, modkit_status status,
                  bool out_of_range) const noexcept {
         scope->failed(e, status, out_of_range);
      }
   };
   Observer observer() { return Observer{this}; }

   // ---- suspendable dispatch ----

   // Where an asynchronous dispatch runs: this scope's snapshot, counted in the loader's
   // metrics, with the host's deadline; its modules may suspend.
   modkit::AsyncContext context() {
      suspendable_ = true;
      modkit::AsyncContext c = host_.loader().async_context(*guard_, ctx_.request_id, deadline_ns_);
      // The Signal lives as long as the dispatch (its done holds it), so a module that sets its
      // error after the deadline let this scope go still writes into live memory.
      c.on_error = &Signal::take_error;
      c.error_user_data = signal_.get();
      return c;
   }
   // No module registered the callback: the policies' answer is known without dispatching
   // (no opinion, the initial answer), so nothing is set up, waited for or traced.
   static bool nobody(const modkit_loader_slot &slot) { return slot.count == 0; }
   // How a module that completed without deciding is shown ("not_spam", "allow").
   void on_continue(std::string text) { continued_ = std::move(text); }

   // done for a policy without an answer: records the outcome and wakes wait().
   auto done(modkit::Outcome &into) {
      return [this, signal = signal_, &into](const modkit::Outcome &o) {
         into = o;
         settle(continued_);
         signal->set();
      };
   }
   // done for a policy with an answer; shown(answer) describes a suspended module's decision.
   template <class T, class Shown>
   auto done(modkit::Outcome &into, T &answer, Shown shown) {
      return [this, signal = signal_, &into, &answer, shown](const modkit::Outcome &o, const T &a) {
         into = o;
         answer = a;
         if (pending_ != none && o.kind == modkit::Outcome::Kind::decided && o.module_index == pending_module_)
            settle(shown(a));
         else settle(continued_);
         signal->set();
      };
   }

   // Ends the read section and waits until done has run. The loader's timer runs done at the
   // deadline at the latest; past it (a module blocking the thread that drives the dispatch),
   // the dispatch is cancelled and waited for.
   void wait(modkit::AsyncHandle &handle) {
      guard_.reset();
      std::unique_lock<std::mutex> lock(signal_->mutex);
      if (!signal_->done) { // a module suspended: the HTTP loop goes on elsewhere meanwhile
         lock.unlock();
         will_block();
         lock.lock();
      }
      if (deadline_ns_ != 0) {
         const auto until = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns_)) +
                            std::chrono::seconds(1);
         if (!signal_->cv.wait_until(lock, until, [&] { return signal_->done; })) {
            lock.unlock();
            handle.cancel();
            lock.lock();
         }
      }
      signal_->cv.wait(lock, [&] { return signal_->done; });
   }

   // ---- the policies for callbacks whose outputs the host checks ----
   // invoke(entry, call, out) makes the call with the given handle; check(entry, status, out)
   // runs once the module answered (at once, or when its suspended call completed, on that
   // thread) and returns the status to apply: an error for an output the host cannot use. What
   // a module writes besides out (a buffer, extra outputs) must live until it completes, even
   // past the deadline: invoke holds it (a shared_ptr it captures), so the dispatch keeps it.
   // Inputs may be this function's locals: a module reads them only during its call.

   template <class T, class Invoke, class Check>
   modkit::Outcome first_non_zero(const modkit_loader_slot &slot, T &answer, Invoke invoke, Check check,
                                  modkit::detail::same_t<T> deny) {
      modkit::Outcome out;
      if (nobody(slot)) return answer = T{}, out;
      on_continue(describe(T{}));
      modkit::AsyncHandle handle = modkit::async::first_non_zero<T>(
         context(), slot, wrap_async(std::move(invoke)), done(out, answer, shown<T>()), deny, checked(check));
      wait(handle);
      return out;
   }
   template <class T, class Matches, class Invoke, class Check>
   modkit::Outcome keyed(const modkit_loader_slot &slot, Matches matches, T &answer, Invoke invoke, Check check,
                         modkit::detail::same_t<T> deny) {
      modkit::Outcome out;
      on_continue(describe(T{}));
      modkit::AsyncHandle handle =
         modkit::async::keyed<T>(context(), slot, std::move(matches), wrap_async(std::move(invoke)),
                                 done(out, answer, shown<T>()), deny, checked(check));
      wait(handle);
      return out;
   }
   template <class T, class Invoke, class Check>
   modkit::Outcome single(const modkit_loader_slot &slot, T &answer, Invoke invoke, Check check,
                          modkit::detail::same_t<T> deny) {
      modkit::Outcome out;
      if (nobody(slot)) return answer = T{}, out;
      on_continue(describe(T{}));
      modkit::AsyncHandle handle = modkit::async::single<T>(context(), slot, wrap_async(std::move(invoke)),
                                                            done(out, answer, shown<T>()), deny, checked(check));
      wait(handle);
      return out;
   }
   template <class Out, class Invoke, class Check, class Merge>
   modkit::Outcome merge(const modkit_loader_slot &slot, Invoke invoke, Check check, Merge merge_into) {
      modkit::Outcome out;
      if (nobody(slot)) return out;
      on_continue("ok");
      modkit::AsyncHandle handle = modkit::async::merge<Out>(context(), slot, wrap_async(std::move(invoke)),
                                                             std::move(merge_into), done(out), checked(check));
      wait(handle);
      return out;
   }
   // A check for callbacks whose outputs need none.
   static constexpr auto unchecked = [](const modkit_loader_entry &, modkit_status s, auto *) { return s; };

   // Marks an answer the host found unusable (malformed JSON, say) as the module's error.
   // Called from a check, so the last answer is this module's.
   void reject(const modkit_loader_entry &e, const std::string &why) {
      host_.log(MODKIT_LOG_WARNING, host_.module_name(e.module_index), run_.callback + ": " + why);
      annotate("invalid answer: " + why);
   }
   // For merged answers: a module whose answer went into the result.
   void contribute(const modkit_loader_entry &e) {
      const std::string &module = host_.module_name(e.module_index);
      if (std::find(contributors_.begin(), contributors_.end(), module) == contributors_.end())
         contributors_.push_back(module);
   }
   // Describes the current module's answer when its outputs are not a plain value; for a
   // module that suspended, what it completed with.
   void annotate(std::string text) {
      if (pending_ != none) {
         run_.answers[pending_].answer = "suspended, then " + text;
         pending_ = none;
      } else if (!run_.answers.empty()) {
         run_.answers.back().answer = std::move(text);
      }
   }

   Done finish(const modkit::Outcome &outcome, const std::string &answer = {}) {
      Done done;
      done.outcome = outcome;
      if (outcome.module_index != UINT32_MAX) {
         done.module = host_.module_name(outcome.module_index);
         done.module_error = signal_->error_of(outcome.module_index);
      }
      switch (outcome.kind) {
      case modkit::Outcome::Kind::no_opinion:
         run_.outcome = "no objection";
         for (const auto &m : contributors_) run_.decided_by += (run_.decided_by.empty() ? "" : ", ") + m;
         if (!contributors_.empty()) run_.outcome = "merged" + (answer.empty() ? std::string() : ": " + answer);
         // A fail-open slot cut short by the deadline ends with what it has.
         if (outcome.status != MODKIT_OK) run_.outcome += std::string(" (cut short: ") + modkit_status_name(outcome.status) + ")";
         break;
      case modkit::Outcome::Kind::decided:
         run_.decided_by = done.module;
         run_.outcome = "decided" + (answer.empty() ? std::string() : ": " + answer);
         break;
      case modkit::Outcome::Kind::failed_closed:
         run_.decided_by = done.module;
         run_.outcome = std::string("failed closed (") + modkit_status_name(outcome.status) + ")";
         break;
      case modkit::Outcome::Kind::error:
         run_.decided_by = done.module;
         run_.outcome = std::string("error: ") + modkit_status_name(outcome.status);
         break;
      }
      if (done.module_error) run_.outcome += " [" + done.module_error->errcode + "]";
      if (ctx_.trace && !run_.answers.empty()) ctx_.trace->runs.push_back(std::move(run_));
      return done;
   }

   template <class T>
   Decision<T> finish(const modkit::Outcome &outcome, T answer, const std::string &shown = {}) {
      Decision<T> d;
      static_cast<Done &>(d) = finish(outcome, shown);
      d.answer = std::move(answer);
      return d;
   }

   std::string describe_value(int64_t v) const { return namer_ ? namer_(v) : std::to_string(v); }
   template <class T>
   std::string describe(const T &v) const {
      if constexpr (std::is_same_v<T, bool>) return namer_ ? namer_(v ? 1 : 0) : (v ? "true" : "false");
      else if constexpr (std::is_integral_v<T>) return describe_value(static_cast<int64_t>(v));
      else return "";
   }

private:
   static constexpr size_t none = SIZE_MAX;

   // What the waiting thread shares with the threads that drive the dispatch: the end, and the
   // errors modules set. Owned jointly by the scope and the dispatch's done; mutex guards all but
   // calling, which the dispatching thread stores before each module's call (relaxed: a module
   // sets its error on that thread during the call, or on a thread the call was handed to).
   struct Signal {
      std::mutex mutex;
      std::condition_variable cv;
      bool done = false;
      std::atomic<uint32_t> calling{UINT32_MAX}; // the module whose call is under way
      std::vector<std::pair<uint32_t, ModuleError>> errors; // by module index, the last one kept
      void set() {
         {
            std::lock_guard<std::mutex> lock(mutex);
            done = true;
         }
         cv.notify_all();
      }
      // A module's call begins: its call_set_error is recorded under its index.
      void calling_module(uint32_t index) { calling.store(index, std::memory_order_relaxed); }
      // modkit_call.on_error: checked by the loader already; on the module's thread.
      static void MODKIT_ABI take_error(void *self, modkit_call *, modkit_str errcode, modkit_str message,
                                        modkit_str extra) {
         auto &s = *static_cast<Signal *>(self);
         try {
            ModuleError e{std::string(errcode.data, errcode.size), std::string(message.data, message.size),
                          extra.data ? std::string(extra.data, extra.size) : std::string()};
            const uint32_t calling = s.calling.load(std::memory_order_relaxed);
            std::lock_guard<std::mutex> lock(s.mutex);
            for (auto &[index, kept] : s.errors)
               if (index == calling) {
                  kept = std::move(e);
                  return;
               }
            s.errors.emplace_back(calling, std::move(e));
         } catch (...) {
            // Out of memory: the refusal goes out with the host's own errcode.
         }
      }
      std::optional<ModuleError> error_of(uint32_t index) {
         std::lock_guard<std::mutex> lock(mutex);
         for (const auto &[i, e] : errors)
            if (i == index) return e;
         return std::nullopt;
      }
   };

   // The observer of a checked policy: this scope's, plus the host's check of each answer.
   template <class Check>
   struct Checked {
      Scope *scope;
      Check check;
      void failed(const modkit_loader_slot &, const modkit_loader_entry &e, modkit_status status,
                  bool out_of_range) const noexcept {
         scope->failed(e, status, out_of_range);
      }
      template <class V>
      modkit_status answered(const modkit_loader_slot &, const modkit_loader_entry &e, modkit_status status,
                             V *value) noexcept {
         try {
            return check(e, status, value);
         } catch (...) {
            return MODKIT_E_INTERNAL; // a check that cannot run rejects the answer
         }
      }
   };
   template <class Check>
   Checked<Check> checked(Check check) {
      return Checked<Check>{this, std::move(check)};
   }
   template <class T>
   auto shown() {
      return [this](const T &a) { return describe(a); };
   }

   // A module's call begins: the module waited for before it completed without deciding.
   // The module's synchronous call, with its frame on this thread (call_frames.hpp). Both
   // strings outlive the frame: the host's name table and this scope.
   template <class F>
   modkit_status invoke_in_frame(const modkit_loader_entry &e, F call) {
      const ModuleFrame frame(host_.module_name(e.module_index), run_.callback);
      return call();
   }
   // Returns where the call's answer goes in the trace: none when nobody reads a trace (the
   // HTTP server), so a module's call then records nothing.
   size_t begin(const modkit_loader_entry &e) {
      settle(continued_);
      signal_->calling_module(e.module_index);
      if (!ctx_.trace) return none;
      // Pushed first, so annotate() and reject() inside invoke describe this module's call.
      if (run_.answers.empty()) run_.answers.reserve(8);
      run_.answers.push_back({host_.module_name(e.module_index), ""});
      return run_.answers.size() - 1;
   }
   template <class... Out>
   modkit_status end(size_t at, const modkit_loader_entry &e, modkit_status status, Out *...out) {
      if (at == none) return status;
      std::string &answer = run_.answers[at].answer;
      if (status == MODKIT_PENDING && suspendable_) {
         pending_ = at;
         pending_module_ = e.module_index;
         if (answer.empty()) answer = "suspended";
      } else if (answer.empty() && status != MODKIT_OK) {
         answer = std::string("error ") + modkit_status_name(status);
      } else if constexpr (sizeof...(out) > 0) {
         if (answer.empty()) answer = describe(*first(out...));
      }
      return status;
   }
   // The suspended module's final answer, once known.
   void settle(const std::string &text) {
      if (pending_ == none) return;
      run_.answers[pending_].answer = "suspended, then " + (text.empty() ? std::string("ok") : text);
      pending_ = none;
   }

   template <class A, class... Rest>
   static A *first(A *a, Rest *...) {
      return a;
   }
   void failed(const modkit_loader_entry &e, modkit_status status, bool out_of_range) noexcept {
      try {
         const std::string &module = host_.module_name(e.module_index);
         // Error statuses are counted by the loader; an answer out of range is the host's verdict.
         if (out_of_range) host_.metrics().count_rejected(module, run_.callback);
         const std::string why = out_of_range ? "answered a value outside its range"
                                              : std::string("failed with status ") + modkit_status_name(status);
         host_.log(MODKIT_LOG_WARNING, module, run_.callback + " " + why);
         if (pending_ != none)
            settle(out_of_range ? "a value outside its range" : std::string("error ") + modkit_status_name(status));
         else if (out_of_range && !run_.answers.empty()) run_.answers.back().answer += " (out of range)";
      } catch (...) {
         // Observers must not throw into the dispatch; the failure is still applied.
      }
   }

   ModuleHost &host_;
   CallContext &ctx_;
   std::optional<modkit::ReadGuard> guard_; // the read section; ended by wait()
   Namer namer_;
   int64_t deadline_ns_;
   modkit_call call_{};
   CallbackRun run_;
   std::vector<std::string> contributors_;
   std::shared_ptr<Signal> signal_ = std::make_shared<Signal>();
   bool suspendable_ = false;
   size_t pending_ = none;            // the answer of the module waited for, if any
   uint32_t pending_module_ = UINT32_MAX;
   std::string continued_;            // how a module that completed without deciding is shown
};

inline modkit_str view(const std::string &s) { return {s.data(), s.size()}; }
inline modkit_str view(const std::optional<std::string> &s) {
   return s ? modkit_str{s->data(), s->size()} : modkit_str{nullptr, 0};
}

// The callback's name for traces and metrics: "spam_checker.check_event_for_spam".
template <auto Member>
std::string callback_name(const char *slot) {
   using Callbacks = typename modkit::Slot<Member>::callbacks_type;
   return std::string(CategoryOf<Callbacks>::name()) + "." + slot;
}

// A suspendable dispatch's invoke: calls the slot's function with the given call handle, the
// arguments as the Frame owns them, then the outputs. Holds the Frame, so the dispatch keeps it.
template <auto Member, class... Args>
auto owned_invoke(Scope &scope, std::shared_ptr<Frame> frame, const Args &...args) {
   auto owned = std::make_tuple(frame->own(args)...);
   return scope.wrap_async([frame, owned](const modkit_loader_entry &e, modkit_call *call, auto *...out) {
      return std::apply(
         [&](const auto &...a) { return modkit::Slot<Member>::fn(e)(e.user_data, call, a..., out...); }, owned);
   });
}

// First non-zero answer over slot, suspendable; the scope's trace and metrics.
template <auto Member, class T, class... Args>
modkit::Outcome first_suspendable(Scope &scope, const modkit_loader_slot &slot, T &answer, T deny,
                                  std::shared_ptr<Frame> frame, const Args &...args) {
   modkit::Outcome out;
   if (Scope::nobody(slot)) return answer = T{}, out;
   scope.on_continue(scope.describe(T{}));
   modkit::AsyncHandle handle = modkit::async::first_non_zero<T>(
      scope.context(), slot, owned_invoke<Member>(scope, frame, args...),
      scope.done(out, answer, [&scope](const T &a) { return scope.describe(a); }), deny, scope.observer());
   scope.wait(handle);
   return out;
}

// First non-zero answer, for callbacks whose only output is the answer.
template <auto Member, class T, class... Args>
Decision<T> ask_first(ModuleHost &host, CallContext &ctx, const char *slot_name, Namer namer, T deny,
                      const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(slot_name), namer);
   auto slot = scope.slot<Member>();
   T answer{};
   const modkit::Outcome out =
      first_suspendable<Member>(scope, slot.raw(), answer, deny, std::make_shared<Frame>(), args...);
   return scope.finish(out, answer, scope.describe(answer));
}

// Every module must allow; the first false decides.
template <auto Member, class... Args>
Decision<bool> ask_all(ModuleHost &host, CallContext &ctx, const char *slot_name, const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(slot_name), allowed_name);
   auto slot = scope.slot<Member>();
   bool allowed = true;
   modkit::Outcome out;
   if (Scope::nobody(slot.raw())) return scope.finish(out, allowed, "allowed");
   scope.on_continue("allow");
   modkit::AsyncHandle handle = modkit::async::all_true(
      scope.context(), slot.raw(), owned_invoke<Member>(scope, std::make_shared<Frame>(), args...),
      scope.done(out, allowed, [](bool a) { return std::string(a ? "allow" : "deny"); }), scope.observer());
   scope.wait(handle);
   return scope.finish(out, allowed, allowed ? "allowed" : "denied");
}

// Notifications: every module runs.
template <auto Member, class... Args>
Done notify_all(ModuleHost &host, CallContext &ctx, const char *slot_name, const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(slot_name));
   auto slot = scope.slot<Member>();
   modkit::Outcome out;
   if (Scope::nobody(slot.raw())) return scope.finish(out);
   scope.on_continue("ok");
   modkit::AsyncHandle handle = modkit::async::run_all(
      scope.context(), slot.raw(), owned_invoke<Member>(scope, std::make_shared<Frame>(), args...),
      scope.done(out), scope.observer());
   scope.wait(handle);
   return scope.finish(out);
}

// A host-owned output buffer for *buf outputs, emptied before each module's call.
class Buffer {
public:
   Buffer() : buffer_(modkit_loader_buffer_create()) {
      if (!buffer_) throw std::bad_alloc();
   }
   ~Buffer() { modkit_loader_buffer_destroy(buffer_); }
   Buffer(const Buffer &) = delete;
   Buffer &operator=(const Buffer &) = delete;
   modkit_buffer *get() { return buffer_; }
   modkit_buffer *fresh() {
      modkit_loader_buffer_clear(buffer_);
      return buffer_;
   }
   std::string text() const {
      const modkit_str s = modkit_loader_buffer_data(buffer_);
      return std::string(s.data ? s.data : "", s.size);
   }

private:
   modkit_buffer *buffer_;
};

} // namespace chat
