// modkit/sdk/category.hpp - the generic machinery behind typed callback registration.
//
// A category is supported by one traits header (see categories/spam_checker.hpp):
//   1. a struct of modkit::Callback members, one per slot, named as in the C header;
//   2. a specialisation of CategoryTraits for it:
//        template <> struct CategoryTraits<MyCallbacks> {
//           using callbacks = MyCallbacks;
//           using c_callbacks = modkit_my_callbacks;        // the C struct, struct_size first
//           static const char *id() { return MODKIT_MY_ID; }
//           static constexpr uint16_t major = ..., minor = ...;
//           static constexpr auto slots = std::make_tuple(MODKIT_SDK_SLOT(first_slot), ...);
//           // optional: a rule spanning several slots, checked before registering; returns
//           // what is wrong, or "" when nothing is.
//           static std::string validate(const MyCallbacks &callbacks);
//        };
//   3. a named member of modkit::Api forwarding to Api::register_callbacks (one line).
// The SDK then generates one noexcept thunk per slot: it converts the C arguments (FromC),
// calls the C++ callback inside the exception barrier, writes the result to the slot's
// output parameters and returns a status. A slot's C parameters are
// (void *user_data, modkit_call *call, inputs..., outputs...); the C++ callback takes the
// inputs and returns the single output, a std::tuple of several, or void for none.
//
// In C++20 the C++ callback may instead return modkit::task of that (task.hpp). On a call
// that may suspend (Call::can_suspend), the thunk keeps copies of the inputs (Keep, in
// detail/keep.hpp) and the output pointers in a PendingCall, starts the coroutine, and returns
// MODKIT_PENDING if it suspended; its end writes the outputs and calls call_complete. A
// coroutine that ends before the thunk returns is answered synchronously. On any other call,
// and in the MODKIT_SDK_SLOT_VIA adapters, a coroutine callback is run to its end first.
//
// Two variations cover the slots that do not fit that shape:
//   MODKIT_SDK_SLOT_WRITE(slot, Writer): one C++ result fills several outputs, e.g. an
//      std::optional<std::string> that becomes a found flag plus a *buf. Writer has
//      static void put(const modkit_host_api *api, Result &&result, Out *...outs);
//      it writes every *buf before the answer the host reads first, so an answer never
//      promises data that could not be stored.
//   MODKIT_SDK_SLOT_VIA(slot, member, Adapter): the slot is served by a C++ member that is
//      not a plain Callback (one declaration answering two slots, a callback editing its
//      argument in place). Adapter has
//      static bool is_set(const Member &member);
//      static void invoke(const HostContext &, const Member &, Call &, C arguments...);
#pragma once

#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/convert.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/detail/keep.hpp>
#include <modkit/sdk/task.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace modkit {

// Specialised once per category by its traits header. Thread rule: compile-time data only.
template <class Callbacks>
struct CategoryTraits;

namespace detail {

// One slot: its name (for messages), the C struct's function pointer member, the C++
// struct's member serving it, and how the two meet (Adapter).
template <class CMember, class CppMember, class Adapter>
struct SlotDef {
   using adapter = Adapter;
   const char *name;
   CMember c_member;
   CppMember cpp_member;
};

template <class Adapter, class CMember, class CppMember>
constexpr SlotDef<CMember, CppMember, Adapter> make_slot(const char *name, CMember c, CppMember cpp) {
   return {name, c, cpp};
}

template <class>
struct member_type;
template <class Class, class T>
struct member_type<T Class::*> {
   using type = T;
};

// What registration allocates for one category: the C++ callbacks and how to reach the host.
// Owned by the Api of the instance that registered it, so it lives until deinit.
template <class Callbacks>
struct CallbackBinding {
   HostContext context;
   Callbacks callbacks;
};

template <class Signature>
struct callback_parts;
template <class R, class... Args>
struct callback_parts<Callback<R(Args...)>> {
   using result = R;
   using inputs = std::tuple<std::decay_t<Args>...>;
   static constexpr std::size_t input_count = sizeof...(Args);
};

template <class T>
constexpr bool is_null(T *p) noexcept {
   return p == nullptr;
}

// Outputs are checked before the callback runs, so a bad call has no side effects.
template <class... Outs>
void check_outputs(Outs *...outs) {
   if ((... || is_null(outs)))
      throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed a null output pointer");
}

template <class R, class Outs, std::size_t... I>
void write_each(const modkit_host_api *api, R &&result, Outs outs, std::index_sequence<I...>) {
   static_assert(std::tuple_size_v<std::decay_t<R>> == sizeof...(I),
                 "modkit: a slot with several outputs takes a callback returning a tuple");
   (ToC<std::remove_pointer_t<std::tuple_element_t<I, Outs>>>::put(api, std::get<I>(outs),
                                                                    std::get<I>(std::move(result))),
    ...);
}

// Writes a callback's result to the slot's outputs: through Writer, or with ToC output by
// output (a tuple result for several outputs).
template <class Writer, class R, class... Outs>
void write_outputs(const modkit_host_api *api, R &&result, Outs *...outs) {
   if constexpr (!std::is_void_v<Writer>) {
      Writer::put(api, std::forward<R>(result), outs...);
   } else if constexpr (sizeof...(Outs) == 1) {
      (ToC<Outs>::put(api, outs, std::forward<R>(result)), ...);
   } else {
      write_each(api, std::forward<R>(result), std::tuple<Outs *...>(outs...),
                 std::index_sequence_for<Outs...>{});
   }
}

template <class Writer, class Cb, class Tuple, std::size_t... In, std::size_t... Out>
void invoke_slot(const modkit_host_api *api, const Cb &callback, Call &call, Tuple &c_args,
                 std::index_sequence<In...>, std::index_sequence<Out...>) {
   using parts = callback_parts<Cb>;
   using R = typename parts::result;
   constexpr std::size_t inputs = parts::input_count;
   check_outputs(std::get<inputs + Out>(c_args)...);
   if constexpr (sizeof...(Out) == 0) {
      static_assert(std::is_void_v<R>, "modkit: a slot without outputs takes a void callback");
      callback(call, FromC<std::tuple_element_t<In, typename parts::inputs>>::get(
                        std::get<In>(c_args))...);
   } else {
      write_outputs<Writer>(api,
                            callback(call, FromC<std::tuple_element_t<In, typename parts::inputs>>::get(
                                              std::get<In>(c_args))...),
                            std::get<inputs + Out>(c_args)...);
   }
}

#if MODKIT_SDK_HAS_COROUTINES

// One call of a coroutine callback that may suspend: what must outlive the C call. The
// trampoline owns it until it returns MODKIT_PENDING; the coroutine's end then frees it.
template <class Writer, class R, class Inputs, class Outputs>
struct PendingCall {
   enum : int { starting, suspended, finished };

   template <class... C>
   PendingCall(const HostContext &context_, const char *where_, const Call &call_, Outputs outputs_,
               C... c)
      : context(context_), where(where_), call(call_), outputs(outputs_), inputs(c...) {}
   PendingCall(const PendingCall &) = delete;
   PendingCall &operator=(const PendingCall &) = delete;

   // The coroutine ended, on this thread: write the outputs and answer. Whichever of this
   // and the trampoline's return comes second decides how: before the return, the
   // trampoline answers with status; after it, the call is completed through the host.
   void finish(Outcome<R> &&outcome) noexcept {
      status = barrier(
         [&] {
            if constexpr (std::tuple_size_v<Outputs> == 0) {
               static_assert(std::is_void_v<R>, "modkit: a slot without outputs takes a void callback");
               outcome.take();
            } else {
               std::apply([&](auto *...outs) { write_outputs<Writer>(context.api, outcome.take(), outs...); },
                          outputs);
            }
         },
         LogToHost{&context, where});
      int expected = starting;
      if (phase.compare_exchange_strong(expected, finished, std::memory_order_acq_rel)) return;
      // Suspended: nothing of this call may be touched once the host has the completion.
      const modkit_host_api *api = context.api;
      modkit_call *handle = call.get();
      const modkit_status answer = status;
      delete this;
      api->call_complete(handle, answer);
   }

   HostContext context;
   const char *where;
   Call call;
   Outputs outputs;
   Inputs inputs;
   std::atomic<int> phase{starting};
   modkit_status status = MODKIT_OK; // written by finish before phase becomes finished
};

// Starts a coroutine callback on a call that may suspend: MODKIT_PENDING when it suspended
// (its end completes the call), else the status it ended with, its outputs written.
template <class Writer, class Cb, class Tuple, std::size_t... In, std::size_t... Out>
modkit_status start_coroutine(const HostContext &context, const char *where, const Cb &callback,
                              Call &call, Tuple &c_args, std::index_sequence<In...>,
                              std::index_sequence<Out...>) {
   using parts = callback_parts<Cb>;
   using R = typename parts::result;
   constexpr std::size_t inputs = parts::input_count;
   using Pending = PendingCall<Writer, R, std::tuple<Keep<std::tuple_element_t<In, typename parts::inputs>>...>,
                               std::tuple<std::tuple_element_t<inputs + Out, Tuple>...>>;
   check_outputs(std::get<inputs + Out>(c_args)...);
   auto pending = std::make_unique<Pending>(context, where, call,
                                            std::make_tuple(std::get<inputs + Out>(c_args)...),
                                            std::get<In>(c_args)...);
   Pending *p = pending.get();
   task<R> body = callback.start(p->call, std::get<In>(p->inputs).get()...);
   start_detached(std::move(body), [p](Outcome<R> &&outcome) noexcept { p->finish(std::move(outcome)); });
   int expected = Pending::starting;
   if (p->phase.compare_exchange_strong(expected, Pending::suspended, std::memory_order_acq_rel)) {
      pending.release(); // the coroutine's end frees it
      return MODKIT_PENDING;
   }
   return p->status; // it ended already (here or on another thread), its failure logged
}

#endif // MODKIT_SDK_HAS_COROUTINES

// The usual adapter: the member is a Callback; inputs are converted with FromC and the
// result is written with Writer, or with ToC output by output when Writer is void.
template <class Writer = void>
struct Convert {
   template <class Cb>
   static bool is_set(const Cb &callback) noexcept {
      return static_cast<bool>(callback);
   }

   template <class Cb, class... CArgs>
   static void invoke(const HostContext &context, const Cb &callback, Call &call, CArgs... args) {
      using parts = callback_parts<Cb>;
      static_assert(sizeof...(CArgs) >= parts::input_count,
                    "modkit: the C++ callback has more parameters than the C slot");
      std::tuple<CArgs...> c_args(args...);
      invoke_slot<Writer>(context.api, callback, call, c_args,
                          std::make_index_sequence<parts::input_count>{},
                          std::make_index_sequence<sizeof...(CArgs) - parts::input_count>{});
   }

   // What the slot's thunk calls: a coroutine callback on a call that may suspend is started
   // and may leave the call pending (MODKIT_PENDING); anything else runs through invoke.
   template <class Cb, class... CArgs>
   static modkit_status start(const HostContext &context, const char *where, const Cb &callback,
                              Call &call, CArgs... args) {
#if MODKIT_SDK_HAS_COROUTINES
      if (callback.is_coroutine() && call.can_suspend()) {
         using parts = callback_parts<Cb>;
         static_assert(sizeof...(CArgs) >= parts::input_count,
                       "modkit: the C++ callback has more parameters than the C slot");
         std::tuple<CArgs...> c_args(args...);
         return start_coroutine<Writer>(context, where, callback, call, c_args,
                                        std::make_index_sequence<parts::input_count>{},
                                        std::make_index_sequence<sizeof...(CArgs) - parts::input_count>{});
      }
#else
      (void)where;
#endif
      invoke(context, callback, call, args...);
      return MODKIT_OK;
   }
};

template <class>
struct is_convert : std::false_type {};
template <class Writer>
struct is_convert<Convert<Writer>> : std::true_type {};

// An adapter that dispatches to a Convert itself (AuthCheckersSlot) says so with `starts`, and
// its start() may leave the call pending as Convert's does.
template <class Adapter, class = void>
struct adapter_starts : is_convert<Adapter> {};
template <class Adapter>
struct adapter_starts<Adapter, std::enable_if_t<Adapter::starts>> : std::true_type {};

template <class Callbacks, std::size_t I>
constexpr const auto &slot_def() {
   return std::get<I>(CategoryTraits<Callbacks>::slots);
}

template <class Callbacks, std::size_t I>
using slot_fn_t = typename member_type<std::decay_t<decltype(slot_def<Callbacks, I>().c_member)>>::type;

template <class Callbacks, std::size_t I>
using slot_adapter_t = typename std::decay_t<decltype(slot_def<Callbacks, I>())>::adapter;

template <class Callbacks, std::size_t I, class CFn = slot_fn_t<Callbacks, I>>
struct SlotThunk;

// The C function registered for slot I: every slot of every category goes through here.
template <class Callbacks, std::size_t I, class... CArgs>
struct SlotThunk<Callbacks, I, modkit_status(MODKIT_ABI *)(void *, modkit_call *, CArgs...)> {
   static modkit_status MODKIT_ABI call(void *user_data, modkit_call *call, CArgs... args) noexcept {
      const auto *binding = static_cast<const CallbackBinding<Callbacks> *>(user_data);
      constexpr const auto &def = slot_def<Callbacks, I>();
      const auto &member = binding->callbacks.*(def.cpp_member);
      using Adapter = slot_adapter_t<Callbacks, I>;
      modkit_status answer = MODKIT_OK; // MODKIT_PENDING when a coroutine suspended
      const modkit_status status = barrier(
         [&] {
            Call c(binding->context.api, call);
            if constexpr (adapter_starts<Adapter>::value)
               answer = Adapter::start(binding->context, def.name, member, c, args...);
            else
               Adapter::invoke(binding->context, member, c, args...);
         },
         LogToHost{&binding->context, def.name});
      return status != MODKIT_OK ? status : answer;
   }
};

// Points every set slot of c at its thunk; unset slots stay null.
template <class Callbacks, class CCallbacks, std::size_t... I>
void fill_slots(CCallbacks &c, const Callbacks &callbacks, std::index_sequence<I...>) {
   ((c.*(slot_def<Callbacks, I>().c_member) =
        slot_adapter_t<Callbacks, I>::is_set(callbacks.*(slot_def<Callbacks, I>().cpp_member))
           ? &SlotThunk<Callbacks, I>::call
           : nullptr),
    ...);
}

template <class Traits, class = void>
struct has_validate : std::false_type {};
template <class Traits>
struct has_validate<Traits, std::void_t<decltype(std::string(Traits::validate(
                               std::declval<const typename Traits::callbacks &>())))>>
   : std::true_type {};

// What is wrong with callbacks as a whole ("" when nothing is), for categories with a rule
// spanning several slots.
template <class Traits>
std::string category_problem(const typename Traits::callbacks &callbacks) {
   if constexpr (has_validate<Traits>::value) {
      return Traits::validate(callbacks);
   } else {
      (void)callbacks;
      return {};
   }
}

} // namespace detail
} // namespace modkit

// One entry of CategoryTraits::slots; the traits must define callbacks and c_callbacks.
#define MODKIT_SDK_SLOT(slot)                                                                   \
   ::modkit::detail::make_slot<::modkit::detail::Convert<>>(#slot, &c_callbacks::slot,          \
                                                            &callbacks::slot)
// A slot whose one C++ result fills several outputs through writer (see above).
#define MODKIT_SDK_SLOT_WRITE(slot, writer)                                                     \
   ::modkit::detail::make_slot<::modkit::detail::Convert<writer>>(#slot, &c_callbacks::slot,    \
                                                                  &callbacks::slot)
// A slot served by member through adapter (see above).
#define MODKIT_SDK_SLOT_VIA(slot, member, adapter)                                              \
   ::modkit::detail::make_slot<adapter>(#slot, &c_callbacks::slot, &callbacks::member)
