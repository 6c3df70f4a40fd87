// modkit/dispatch.hpp - combination policies: how several modules' answers become one.
//
// Header-only building blocks for hosts. Each walks a slot's registrants in config order and
// applies the slot's exception policy (modkit_slot_desc.on_error) to a callback that returns
// an error status or an answer outside the slot's range (out_max). They allocate nothing and
// take no lock; the caller supplies `invoke(const modkit_loader_entry &, T *answer)`, which
// casts entry.fn to the slot's type and calls it. Thread rule: [thread-safe] as long as the
// slot is not changed concurrently (see modkit/loader.h).
#pragma once

#include <modkit/loader.h>

#include <cstdint>
#include <type_traits>

namespace modkit {

// What a dispatch concluded.
struct Outcome {
   enum class Kind {
      no_opinion,    // every module answered "no opinion" (or there were none)
      decided,       // module_index gave the answer
      failed_closed, // module_index failed and the slot fails closed: the deny answer was used
      error,         // module_index failed and the slot propagates: status is its error
   };
   Kind kind = Kind::no_opinion;
   modkit_status status = MODKIT_OK;
   uint32_t module_index = UINT32_MAX;

   bool decided_by_module() const { return kind == Kind::decided || kind == Kind::failed_closed; }
};

// Told about every failing callback, whatever the policy does with it.
struct NullObserver {
   void failed(const modkit_loader_slot &, const modkit_loader_entry &, modkit_status, bool) const noexcept {}
};

// The policies are called once per dispatch with a lambda that makes one indirect call; left
// out of line (g++ does so for first_non_zero's five parameters) they cost more than a module
// callback that does little. Their failure path is the opposite: rare, so kept out of line.
#if defined(__GNUC__) || defined(__clang__)
#   define MODKIT_DISPATCH_INLINE inline __attribute__((always_inline))
#   define MODKIT_DISPATCH_COLD __attribute__((noinline, cold))
#   define MODKIT_DISPATCH_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#   define MODKIT_DISPATCH_INLINE inline
#   define MODKIT_DISPATCH_COLD
#   define MODKIT_DISPATCH_LIKELY(x) (x)
#endif

namespace detail {

// Integer answers (not bool) are checked against the slot's out_max.
template <class T>
constexpr bool range_checked = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The largest answer the slot accepts, as an unsigned bound, so the check is one comparison
// and its operand is loaded once per dispatch, not once per module. No bound: UINT64_MAX.
template <class T>
MODKIT_DISPATCH_INLINE uint64_t answer_limit(const modkit_slot_desc &desc) {
   if constexpr (range_checked<T>) return desc.out_max < 0 ? UINT64_MAX : static_cast<uint64_t>(desc.out_max);
   else return UINT64_MAX;
}

// 0 <= answer <= limit; a negative answer wraps to above any out_max.
template <class T>
MODKIT_DISPATCH_INLINE bool within(const T &answer, uint64_t limit) {
   if constexpr (!range_checked<T>) {
      (void)answer;
      (void)limit;
      return true;
   } else if constexpr (std::is_signed_v<T>) {
      return static_cast<uint64_t>(static_cast<int64_t>(answer)) <= limit;
   } else {
      return static_cast<uint64_t>(answer) <= limit;
   }
}

// Keeps a parameter out of template deduction, so `deny` may be an enum constant.
template <class T> struct same { using type = T; };
template <class T> using same_t = typename same<T>::type;

// The registrants of a slot as a range. Its bounds are read once: a callback cannot change the
// slot (a published snapshot never changes), so they need not be read again after each call.
struct Entries {
   const modkit_loader_entry *first, *last;
   const modkit_loader_entry *begin() const { return first; }
   const modkit_loader_entry *end() const { return last; }
};
MODKIT_DISPATCH_INLINE Entries entries(const modkit_loader_slot &slot) { return {slot.entries, slot.entries + slot.count}; }

struct AnyEntry {
   bool operator()(const modkit_loader_entry &) const noexcept { return true; }
};

// Applies on_error to a failed callback: the outcome the dispatch stops with, or no_opinion
// (fail-open) to go on. Returned by value, so the policies keep no Outcome in memory on their
// fast path.
template <class Observer>
MODKIT_DISPATCH_COLD Outcome on_failure(const modkit_loader_slot &slot, const modkit_loader_entry &e,
                                        modkit_status status, bool out_of_range, Observer &observer) {
   observer.failed(slot, e, status, out_of_range);
   const modkit_status why = out_of_range ? MODKIT_E_INVALID_ARGUMENT : status;
   switch (slot.desc->on_error) {
   case MODKIT_ON_ERROR_FAIL_OPEN: return {};
   case MODKIT_ON_ERROR_FAIL_CLOSED: return {Outcome::Kind::failed_closed, why, e.module_index};
   default: return {Outcome::Kind::error, why, e.module_index};
   }
}

} // namespace detail

// ---- the policies as folds ----
//
// Each combination policy is a fold over a slot's registrants in config order: for every
// registrant it wants(), the module answers into a fresh value(), and step() decides whether the
// dispatch stops there (with its Outcome) or goes on; end() is the outcome when every module
// ran. The synchronous policies below run a fold in a loop; modkit/async.hpp runs the same folds
// across suspensions, so both paths combine answers and apply exception policies identically.
namespace fold {

struct None {}; // the value of a slot without outputs

// First non-zero answer wins; on fail-closed the answer is deny.
template <class T, class Filter = detail::AnyEntry>
struct FirstNonZero {
   using value_type = T;
   T *answer;
   T deny;
   uint64_t limit;
   Filter filter;
   static constexpr bool only_first = false;

   bool wants(const modkit_loader_entry &e) { return filter(e); }
   static T value() { return T{}; }
   template <class Observer>
   MODKIT_DISPATCH_INLINE bool step(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
                                    const T &value, Outcome &out, Observer &observer) {
      if (MODKIT_DISPATCH_LIKELY(status == MODKIT_OK && detail::within(value, limit))) {
         if (value == T{}) return false;
         *answer = value;
         out = {Outcome::Kind::decided, MODKIT_OK, e.module_index};
         return true;
      }
      return fail(slot, e, status, status == MODKIT_OK, out, observer);
   }
   template <class Observer>
   bool fail(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status, bool out_of_range,
             Outcome &out, Observer &observer) {
      out = detail::on_failure(slot, e, status, out_of_range, observer);
      if (out.kind == Outcome::Kind::no_opinion) return false;
      if (out.kind == Outcome::Kind::failed_closed) *answer = deny;
      return true;
   }
   Outcome end() const { return {}; }
};

// Every module must answer true; the first false wins. Each module's answer starts true, so a
// module that writes nothing does not deny.
struct AllTrue {
   using value_type = bool;
   bool *answer;
   static constexpr bool only_first = false;

   bool wants(const modkit_loader_entry &) { return true; }
   static bool value() { return true; }
   template <class Observer>
   MODKIT_DISPATCH_INLINE bool step(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
                                    const bool &value, Outcome &out, Observer &observer) {
      if (status != MODKIT_OK) return fail(slot, e, status, false, out, observer);
      if (value) return false;
      *answer = false;
      out = {Outcome::Kind::decided, MODKIT_OK, e.module_index};
      return true;
   }
   template <class Observer>
   bool fail(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status, bool out_of_range,
             Outcome &out, Observer &observer) {
      out = detail::on_failure(slot, e, status, out_of_range, observer);
      if (out.kind == Outcome::Kind::no_opinion) return false;
      if (out.kind == Outcome::Kind::failed_closed) *answer = false;
      return true;
   }
   Outcome end() const { return {}; }
};

// Every module runs (notifications); only failures matter.
struct RunAll {
   using value_type = None;
   static constexpr bool only_first = false;

   bool wants(const modkit_loader_entry &) { return true; }
   static None value() { return {}; }
   template <class Observer>
   MODKIT_DISPATCH_INLINE bool step(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
                                    const None &, Outcome &out, Observer &observer) {
      if (MODKIT_DISPATCH_LIKELY(status == MODKIT_OK)) return false;
      return fail(slot, e, status, false, out, observer);
   }
   template <class Observer>
   bool fail(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status, bool out_of_range,
             Outcome &out, Observer &observer) {
      out = detail::on_failure(slot, e, status, out_of_range, observer);
      return out.kind != Outcome::Kind::no_opinion;
   }
   Outcome end() const { return {}; }
};

// Every module answers into a fresh Out; merge(const Out &, entry) folds each successful answer
// into the host's result and returns true to stop early.
template <class Out, class Merge>
struct Merging {
   using value_type = Out;
   Merge merge;
   static constexpr bool only_first = false;

   bool wants(const modkit_loader_entry &) { return true; }
   static Out value() { return Out{}; }
   template <class Observer>
   MODKIT_DISPATCH_INLINE bool step(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
                                    const Out &value, Outcome &out, Observer &observer) {
      if (status != MODKIT_OK) return fail(slot, e, status, false, out, observer);
      if (!merge(value, e)) return false;
      out = {Outcome::Kind::decided, MODKIT_OK, e.module_index};
      return true;
   }
   template <class Observer>
   bool fail(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status, bool out_of_range,
             Outcome &out, Observer &observer) {
      out = detail::on_failure(slot, e, status, out_of_range, observer);
      return out.kind != Outcome::Kind::no_opinion;
   }
   Outcome end() const { return {}; }
};

// Only the first registrant is called; its answer, zero included, is the answer.
template <class T>
struct Single {
   using value_type = T;
   T *answer;
   T deny;
   uint64_t limit;
   static constexpr bool only_first = true;

   bool wants(const modkit_loader_entry &) { return true; }
   static T value() { return T{}; }
   template <class Observer>
   MODKIT_DISPATCH_INLINE bool step(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
                                    const T &value, Outcome &out, Observer &observer) {
      if (MODKIT_DISPATCH_LIKELY(status == MODKIT_OK && detail::within(value, limit))) {
         *answer = value;
         out = {Outcome::Kind::decided, MODKIT_OK, e.module_index};
         return true;
      }
      return fail(slot, e, status, status == MODKIT_OK, out, observer);
   }
   template <class Observer>
   bool fail(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status, bool out_of_range,
             Outcome &out, Observer &observer) {
      out = detail::on_failure(slot, e, status, out_of_range, observer);
      if (out.kind == Outcome::Kind::failed_closed) *answer = deny;
      return true;
   }
   Outcome end() const { return {}; }
};

} // namespace fold

namespace detail {

// Calls invoke with the value's address, or without one for a slot without outputs.
template <class Invoke, class V>
MODKIT_DISPATCH_INLINE modkit_status invoke_into(Invoke &invoke, const modkit_loader_entry &e, V &value) {
   if constexpr (std::is_same_v<V, fold::None>) {
      (void)value;
      return invoke(e);
   } else {
      return invoke(e, &value);
   }
}

// The synchronous loop every policy shares.
template <class Fold, class Invoke, class Observer>
MODKIT_DISPATCH_INLINE Outcome run_fold(const modkit_loader_slot &slot, Fold fold, Invoke &invoke, Observer &observer) {
   for (const modkit_loader_entry &e : entries(slot)) {
      if (!fold.wants(e)) continue;
      typename Fold::value_type value = Fold::value();
      const modkit_status status = invoke_into(invoke, e, value);
      Outcome out;
      if (fold.step(slot, e, status, value, out, observer)) return out;
      if constexpr (Fold::only_first) break;
   }
   return fold.end();
}

} // namespace detail

// First non-zero answer wins; later modules are not called. On fail-closed, answer = deny.
// Filter selects the registrants to consider (keyed dispatch); the default takes all.
template <class T, class Invoke, class Observer = NullObserver, class Filter = detail::AnyEntry>
MODKIT_DISPATCH_INLINE Outcome first_non_zero(const modkit_loader_slot &slot, T &answer, Invoke &&invoke,
                                              detail::same_t<T> deny = T{}, Observer &&observer = {},
                                              Filter &&filter = {}) {
   using F = fold::FirstNonZero<T, std::decay_t<Filter> &>;
   return detail::run_fold(slot, F{&answer, deny, detail::answer_limit<T>(*slot.desc), filter}, invoke, observer);
}

// Keyed dispatch: first non-zero among the registrants matches(entry) accepts (Synapse's
// auth_checkers, selected by login type).
template <class T, class Matches, class Invoke, class Observer = NullObserver>
MODKIT_DISPATCH_INLINE Outcome keyed(const modkit_loader_slot &slot, Matches &&matches, T &answer, Invoke &&invoke, detail::same_t<T> deny = T{},
              Observer &&observer = {}) {
   return first_non_zero(slot, answer, invoke, deny, observer, matches);
}

// Every module must answer true; the first false wins. answer starts true, and each module's
// answer starts true too, so a module that writes nothing does not deny.
template <class Invoke, class Observer = NullObserver>
MODKIT_DISPATCH_INLINE Outcome all_true(const modkit_loader_slot &slot, bool &answer, Invoke &&invoke, Observer &&observer = {}) {
   answer = true;
   return detail::run_fold(slot, fold::AllTrue{&answer}, invoke, observer);
}

// Every module runs; answers are ignored (notifications). invoke(entry) returns the status.
template <class Invoke, class Observer = NullObserver>
MODKIT_DISPATCH_INLINE Outcome run_all(const modkit_loader_slot &slot, Invoke &&invoke, Observer &&observer = {}) {
   return detail::run_fold(slot, fold::RunAll{}, invoke, observer);
}

// Every module runs into its own fresh Out; merge(const Out &, entry) folds each successful
// answer into the host's result and returns true to stop early (e.g. presence's "ALL").
template <class Out, class Invoke, class Merge, class Observer = NullObserver>
MODKIT_DISPATCH_INLINE Outcome merge(const modkit_loader_slot &slot, Invoke &&invoke, Merge &&merge_into, Observer &&observer = {}) {
   return detail::run_fold(slot, fold::Merging<Out, Merge &>{merge_into}, invoke, observer);
}

// Only the first registrant is called (Synapse's background update controller).
template <class T, class Invoke, class Observer = NullObserver>
MODKIT_DISPATCH_INLINE Outcome single(const modkit_loader_slot &slot, T &answer, Invoke &&invoke,
                                      detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   return detail::run_fold(slot, fold::Single<T>{&answer, deny, detail::answer_limit<T>(*slot.desc)}, invoke, observer);
}

// First non-zero on first; if nobody objected, first non-zero on next (Synapse's
// federated_user_may_invite falling through to user_may_invite).
template <class T, class InvokeFirst, class InvokeNext, class Observer = NullObserver>
MODKIT_DISPATCH_INLINE Outcome chained(const modkit_loader_slot &first, InvokeFirst &&invoke_first, const modkit_loader_slot &next,
                InvokeNext &&invoke_next, T &answer, detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   Outcome out = first_non_zero(first, answer, invoke_first, deny, observer);
   if (out.kind != Outcome::Kind::no_opinion) return out;
   return first_non_zero(next, answer, invoke_next, deny, observer);
}

} // namespace modkit

#undef MODKIT_DISPATCH_INLINE
#undef MODKIT_DISPATCH_COLD
#undef MODKIT_DISPATCH_LIKELY
