// dispatch_support.hpp - what every typed dispatch function shares: one Scope per dispatch
// (a read section, the per-call handle, timing, metrics and the trace entry), and helpers for
// the common shapes (first non-zero with one output, all true, run all). Included only by the
// callbacks_*.cpp files.
#pragma once

#include "module_host.hpp"

#include <algorithm>
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

// One dispatch of one callback.
class Scope {
public:
   Scope(ModuleHost &host, CallContext &ctx, std::string callback, Namer namer = nullptr)
      : host_(host), ctx_(ctx), guard_(host.reader()), namer_(namer) {
      run_.callback = std::move(callback);
      call_ = modkit_call_make({ctx.request_id.data(), ctx.request_id.size()});
   }

   template <auto Member>
   modkit::Slot<Member> slot() const {
      return guard_.slot<Member>(host_.ref<Member>());
   }
   const modkit_loader_snapshot &snapshot() const { return guard_.snapshot(); }
   modkit_call *call() { return &call_; }
   bool ran() const { return !run_.answers.empty(); }

   // invoke, counted in the loader's per-callback metrics (no lock) and traced with the
   // module's first output.
   template <class F>
   auto wrap(F invoke) {
      return [this, invoke](const modkit_loader_entry &e, auto *...out) -> modkit_status {
         const std::string &module = host_.module_name(e.module_index);
         // Pushed first, so annotate() and reject() inside invoke describe this module's call.
         run_.answers.push_back({module, ""});
         const size_t at = run_.answers.size() - 1;
         const uint64_t started = modkit_loader_metrics_begin(guard_.reader());
         const modkit_status status = invoke(e, out...);
         modkit_loader_metrics_end(guard_.reader(), &e, status, started);
         std::string &answer = run_.answers[at].answer;
         if (answer.empty() && status != MODKIT_OK) answer = std::string("error ") + modkit_status_name(status);
         else if constexpr (sizeof...(out) > 0) {
            if (answer.empty()) answer = describe(*first(out...));
         }
         return status;
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

   // Marks an answer the host found unusable (malformed JSON, say) as the module's error.
   // Called from inside a wrapped invoke, so the last answer is this module's.
   void reject(const modkit_loader_entry &e, const std::string &why) {
      host_.log(MODKIT_LOG_WARNING, host_.module_name(e.module_index), run_.callback + ": " + why);
      if (!run_.answers.empty()) run_.answers.back().answer = "invalid answer: " + why;
   }
   // For merged answers: a module whose answer went into the result.
   void contribute(const modkit_loader_entry &e) {
      const std::string &module = host_.module_name(e.module_index);
      if (std::find(contributors_.begin(), contributors_.end(), module) == contributors_.end())
         contributors_.push_back(module);
   }
   // Describes the current module's answer when its outputs are not a plain value.
   void annotate(std::string text) {
      if (!run_.answers.empty()) run_.answers.back().answer = std::move(text);
   }

   Done finish(const modkit::Outcome &outcome, const std::string &answer = {}) {
      Done done;
      done.outcome = outcome;
      if (outcome.module_index != UINT32_MAX) done.module = host_.module_name(outcome.module_index);
      switch (outcome.kind) {
      case modkit::Outcome::Kind::no_opinion:
         run_.outcome = "no objection";
         for (const auto &m : contributors_) run_.decided_by += (run_.decided_by.empty() ? "" : ", ") + m;
         if (!contributors_.empty()) run_.outcome = "merged" + (answer.empty() ? std::string() : ": " + answer);
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
      if (ctx_.trace && !run_.answers.empty()) ctx_.trace->runs.push_back(run_);
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

private:
   template <class A, class... Rest>
   static A *first(A *a, Rest *...) {
      return a;
   }
   template <class T>
   std::string describe(const T &v) const {
      if constexpr (std::is_same_v<T, bool>) return namer_ ? namer_(v ? 1 : 0) : (v ? "true" : "false");
      else if constexpr (std::is_integral_v<T>) return describe_value(static_cast<int64_t>(v));
      else return "";
   }
   void failed(const modkit_loader_entry &e, modkit_status status, bool out_of_range) noexcept {
      try {
         const std::string &module = host_.module_name(e.module_index);
         // Error statuses are counted by the loader; an answer out of range is the host's verdict.
         if (out_of_range) host_.metrics().count_rejected(module, run_.callback);
         const std::string why = out_of_range ? "answered a value outside its range"
                                              : std::string("failed with status ") + modkit_status_name(status);
         host_.log(MODKIT_LOG_WARNING, module, run_.callback + " " + why);
         if (out_of_range && !run_.answers.empty()) run_.answers.back().answer += " (out of range)";
      } catch (...) {
         // Observers must not throw into the dispatch; the failure is still applied.
      }
   }

   ModuleHost &host_;
   CallContext &ctx_;
   modkit::ReadGuard guard_;
   Namer namer_;
   modkit_call call_{};
   CallbackRun run_;
   std::vector<std::string> contributors_;
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

// First non-zero answer, for callbacks whose only output is the answer.
template <auto Member, class T, class... Args>
Decision<T> ask_first(ModuleHost &host, CallContext &ctx, const char *slot_name, Namer namer, T deny,
                      const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(slot_name), namer);
   auto slot = scope.slot<Member>();
   T answer{};
   const modkit::Outcome out = modkit::first_non_zero(
      slot.raw(), answer,
      scope.wrap([&](const modkit_loader_entry &e, T *r) { return slot.fn(e)(e.user_data, scope.call(), args..., r); }),
      deny, scope.observer());
   std::string shown;
   if constexpr (std::is_same_v<T, bool>) shown = namer ? namer(answer ? 1 : 0) : (answer ? "true" : "false");
   else shown = scope.describe_value(static_cast<int64_t>(answer));
   return scope.finish(out, answer, shown);
}

// Every module must allow; the first false decides.
template <auto Member, class... Args>
Decision<bool> ask_all(ModuleHost &host, CallContext &ctx, const char *slot_name, const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(slot_name), allowed_name);
   auto slot = scope.slot<Member>();
   bool allowed = true;
   const modkit::Outcome out = modkit::all_true(
      slot.raw(), allowed,
      scope.wrap([&](const modkit_loader_entry &e, bool *r) { return slot.fn(e)(e.user_data, scope.call(), args..., r); }),
      scope.observer());
   return scope.finish(out, allowed, allowed ? "allowed" : "denied");
}

// Notifications: every module runs.
template <auto Member, class... Args>
Done notify_all(ModuleHost &host, CallContext &ctx, const char *slot_name, const Args &...args) {
   Scope scope(host, ctx, callback_name<Member>(slot_name));
   auto slot = scope.slot<Member>();
   const modkit::Outcome out = modkit::run_all(
      slot.raw(), scope.wrap([&](const modkit_loader_entry &e) { return slot.fn(e)(e.user_data, scope.call(), args...); }),
      scope.observer());
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
