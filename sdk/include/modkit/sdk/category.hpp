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
//        };
//   3. a named member of modkit::Api forwarding to Api::register_callbacks (one line).
// The SDK then generates one noexcept thunk per slot: it converts the C arguments (FromC),
// calls the C++ callback inside the exception barrier, writes the result to the slot's
// output parameters (ToC) and returns a status. A slot's C parameters are
// (void *user_data, modkit_call *call, inputs..., outputs...); the C++ callback takes the
// inputs and returns the single output, a std::tuple of several, or void for none.
#pragma once

#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/convert.hpp>
#include <modkit/sdk/detail/host_context.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace modkit {

// Specialised once per category by its traits header. Thread rule: compile-time data only.
template <class Callbacks>
struct CategoryTraits;

namespace detail {

// One slot: its name (for messages), the C struct's function pointer member and the C++
// struct's Callback member.
template <class CMember, class CppMember>
struct SlotDef {
   const char *name;
   CMember c_member;
   CppMember cpp_member;
};

template <class CMember, class CppMember>
constexpr SlotDef<CMember, CppMember> make_slot(const char *name, CMember c, CppMember cpp) {
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

template <class Cb, class Tuple, std::size_t... In, std::size_t... Out>
void invoke_slot(const Cb &callback, Call &call, Tuple &c_args, std::index_sequence<In...>,
                 std::index_sequence<Out...>) {
   using parts = callback_parts<Cb>;
   using R = typename parts::result;
   constexpr std::size_t inputs = parts::input_count;
   // Outputs are checked before the callback runs, so a bad call has no side effects.
   if ((... || is_null(std::get<inputs + Out>(c_args))))
      throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed a null output pointer");
   if constexpr (sizeof...(Out) == 0) {
      static_assert(std::is_void_v<R>, "modkit: a slot without outputs takes a void callback");
      callback(call, FromC<std::tuple_element_t<In, typename parts::inputs>>::get(
                        std::get<In>(c_args))...);
   } else if constexpr (sizeof...(Out) == 1) {
      auto result = callback(call, FromC<std::tuple_element_t<In, typename parts::inputs>>::get(
                                      std::get<In>(c_args))...);
      auto *out = std::get<inputs>(c_args);
      ToC<std::remove_pointer_t<decltype(out)>>::put(out, std::move(result));
   } else {
      auto result = callback(call, FromC<std::tuple_element_t<In, typename parts::inputs>>::get(
                                      std::get<In>(c_args))...);
      static_assert(std::tuple_size_v<decltype(result)> == sizeof...(Out),
                    "modkit: a slot with several outputs takes a callback returning a tuple");
      (ToC<std::remove_pointer_t<std::tuple_element_t<inputs + Out, Tuple>>>::put(
          std::get<inputs + Out>(c_args), std::get<Out>(std::move(result))),
       ...);
   }
}

template <class Callbacks, std::size_t I>
constexpr const auto &slot_def() {
   return std::get<I>(CategoryTraits<Callbacks>::slots);
}

template <class Callbacks, std::size_t I>
using slot_fn_t = typename member_type<std::decay_t<decltype(slot_def<Callbacks, I>().c_member)>>::type;

template <class Callbacks, std::size_t I, class CFn = slot_fn_t<Callbacks, I>>
struct SlotThunk;

// The C function registered for slot I: every slot of every category goes through here.
template <class Callbacks, std::size_t I, class... CArgs>
struct SlotThunk<Callbacks, I, modkit_status(MODKIT_ABI *)(void *, modkit_call *, CArgs...)> {
   static modkit_status MODKIT_ABI call(void *user_data, modkit_call *call, CArgs... args) noexcept {
      const auto *binding = static_cast<const CallbackBinding<Callbacks> *>(user_data);
      constexpr const auto &def = slot_def<Callbacks, I>();
      const auto &callback = binding->callbacks.*(def.cpp_member);
      using parts = callback_parts<std::decay_t<decltype(callback)>>;
      static_assert(sizeof...(CArgs) >= parts::input_count,
                    "modkit: the C++ callback has more parameters than the C slot");
      return barrier(
         [&] {
            Call c(binding->context.api, call);
            std::tuple<CArgs...> c_args(args...);
            invoke_slot(callback, c, c_args, std::make_index_sequence<parts::input_count>{},
                        std::make_index_sequence<sizeof...(CArgs) - parts::input_count>{});
         },
         LogToHost{&binding->context, def.name});
   }
};

// Points every set slot of c at its thunk; unset slots stay null.
template <class Callbacks, class CCallbacks, std::size_t... I>
void fill_slots(CCallbacks &c, const Callbacks &callbacks, std::index_sequence<I...>) {
   ((c.*(slot_def<Callbacks, I>().c_member) =
        callbacks.*(slot_def<Callbacks, I>().cpp_member) ? &SlotThunk<Callbacks, I>::call : nullptr),
    ...);
}

} // namespace detail
} // namespace modkit

// One entry of CategoryTraits::slots; the traits must define callbacks and c_callbacks.
#define MODKIT_SDK_SLOT(slot) ::modkit::detail::make_slot(#slot, &c_callbacks::slot, &callbacks::slot)
