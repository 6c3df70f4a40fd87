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

namespace detail {

template <class T>
bool in_range(const modkit_slot_desc &desc, const T &answer) {
   if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      return desc.out_max < 0 || (answer >= 0 && static_cast<int64_t>(answer) <= desc.out_max);
   } else {
      (void)desc;
      (void)answer;
      return true;
   }
}

// Keeps a parameter out of template deduction, so `deny` may be an enum constant.
template <class T> struct same { using type = T; };
template <class T> using same_t = typename same<T>::type;

struct AnyEntry {
   bool operator()(const modkit_loader_entry &) const noexcept { return true; }
};

// Applies on_error to a failed callback. Returns true when the dispatch must stop with out.
template <class Observer>
bool on_failure(const modkit_loader_slot &slot, const modkit_loader_entry &e, modkit_status status,
                bool out_of_range, Observer &observer, Outcome &out) {
   observer.failed(slot, e, status, out_of_range);
   const modkit_status why = out_of_range ? MODKIT_E_INVALID_ARGUMENT : status;
   switch (slot.desc->on_error) {
   case MODKIT_ON_ERROR_FAIL_OPEN: return false;
   case MODKIT_ON_ERROR_FAIL_CLOSED: out = {Outcome::Kind::failed_closed, why, e.module_index}; return true;
   default: out = {Outcome::Kind::error, why, e.module_index}; return true;
   }
}

} // namespace detail

// First non-zero answer wins; later modules are not called. On fail-closed, answer = deny.
// Filter selects the registrants to consider (keyed dispatch); the default takes all.
template <class T, class Invoke, class Observer = NullObserver, class Filter = detail::AnyEntry>
Outcome first_non_zero(const modkit_loader_slot &slot, T &answer, Invoke &&invoke, detail::same_t<T> deny = T{},
                       Observer &&observer = {}, Filter &&filter = {}) {
   Outcome out;
   for (size_t i = 0; i < slot.count; ++i) {
      const modkit_loader_entry &e = slot.entries[i];
      if (!filter(e)) continue;
      T value{};
      const modkit_status status = invoke(e, &value);
      const bool bad = status == MODKIT_OK && !detail::in_range(*slot.desc, value);
      if (status != MODKIT_OK || bad) {
         if (detail::on_failure(slot, e, status, bad, observer, out)) {
            if (out.kind == Outcome::Kind::failed_closed) answer = deny;
            return out;
         }
         continue;
      }
      if (value != T{}) {
         answer = value;
         return {Outcome::Kind::decided, MODKIT_OK, e.module_index};
      }
   }
   return out;
}

// Keyed dispatch: first non-zero among the registrants matches(entry) accepts (Synapse's
// auth_checkers, selected by login type).
template <class T, class Matches, class Invoke, class Observer = NullObserver>
Outcome keyed(const modkit_loader_slot &slot, Matches &&matches, T &answer, Invoke &&invoke, detail::same_t<T> deny = T{},
              Observer &&observer = {}) {
   return first_non_zero(slot, answer, invoke, deny, observer, matches);
}

// Every module must answer true; the first false wins. answer starts true, and each module's
// answer starts true too, so a module that writes nothing does not deny.
template <class Invoke, class Observer = NullObserver>
Outcome all_true(const modkit_loader_slot &slot, bool &answer, Invoke &&invoke, Observer &&observer = {}) {
   answer = true;
   Outcome out;
   for (size_t i = 0; i < slot.count; ++i) {
      const modkit_loader_entry &e = slot.entries[i];
      bool value = true;
      const modkit_status status = invoke(e, &value);
      if (status != MODKIT_OK) {
         if (detail::on_failure(slot, e, status, false, observer, out)) {
            if (out.kind == Outcome::Kind::failed_closed) answer = false;
            return out;
         }
         continue;
      }
      if (!value) {
         answer = false;
         return {Outcome::Kind::decided, MODKIT_OK, e.module_index};
      }
   }
   return out;
}

// Every module runs; answers are ignored (notifications). invoke(entry) returns the status.
template <class Invoke, class Observer = NullObserver>
Outcome run_all(const modkit_loader_slot &slot, Invoke &&invoke, Observer &&observer = {}) {
   Outcome out;
   for (size_t i = 0; i < slot.count; ++i) {
      const modkit_loader_entry &e = slot.entries[i];
      const modkit_status status = invoke(e);
      if (status != MODKIT_OK && detail::on_failure(slot, e, status, false, observer, out)) return out;
   }
   return out;
}

// Every module runs into its own fresh Out; merge(const Out &, entry) folds each successful
// answer into the host's result and returns true to stop early (e.g. presence's "ALL").
template <class Out, class Invoke, class Merge, class Observer = NullObserver>
Outcome merge(const modkit_loader_slot &slot, Invoke &&invoke, Merge &&merge_into, Observer &&observer = {}) {
   Outcome out;
   for (size_t i = 0; i < slot.count; ++i) {
      const modkit_loader_entry &e = slot.entries[i];
      Out value{};
      const modkit_status status = invoke(e, &value);
      if (status != MODKIT_OK) {
         if (detail::on_failure(slot, e, status, false, observer, out)) return out;
         continue;
      }
      if (merge_into(static_cast<const Out &>(value), e)) return {Outcome::Kind::decided, MODKIT_OK, e.module_index};
   }
   return out;
}

// Only the first registrant is called (Synapse's background update controller).
template <class T, class Invoke, class Observer = NullObserver>
Outcome single(const modkit_loader_slot &slot, T &answer, Invoke &&invoke, detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   Outcome out;
   if (slot.count == 0) return out;
   const modkit_loader_entry &e = slot.entries[0];
   T value{};
   const modkit_status status = invoke(e, &value);
   const bool bad = status == MODKIT_OK && !detail::in_range(*slot.desc, value);
   if (status != MODKIT_OK || bad) {
      if (detail::on_failure(slot, e, status, bad, observer, out) && out.kind == Outcome::Kind::failed_closed)
         answer = deny;
      return out;
   }
   answer = value;
   return {Outcome::Kind::decided, MODKIT_OK, e.module_index};
}

// First non-zero on first; if nobody objected, first non-zero on next (Synapse's
// federated_user_may_invite falling through to user_may_invite).
template <class T, class InvokeFirst, class InvokeNext, class Observer = NullObserver>
Outcome chained(const modkit_loader_slot &first, InvokeFirst &&invoke_first, const modkit_loader_slot &next,
                InvokeNext &&invoke_next, T &answer, detail::same_t<T> deny = T{}, Observer &&observer = {}) {
   Outcome out = first_non_zero(first, answer, invoke_first, deny, observer);
   if (out.kind != Outcome::Kind::no_opinion) return out;
   return first_non_zero(next, answer, invoke_next, deny, observer);
}

} // namespace modkit
