// modkit/sdk/detail/convert.hpp - C callback arguments to C++ parameters, C++ results to C outputs.
//
// A category's traits header names the C++ parameter types; these rules make the conversions,
// so most categories need no conversion code of their own. To support a new parameter type,
// give it a constructor from the C argument (as Event has from const modkit_event *) or
// specialise FromC; for a new output type, specialise ToC. A C++ result that fills several C
// outputs at once (an answer plus the buffer that goes with it) has a writer instead; see
// category.hpp.
#pragma once

#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/host.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace modkit::detail {

// FromC<To>::get(c) makes the C++ argument To from the C argument c.
template <class To>
struct FromC {
   template <class C>
   static To get(C c) {
      if constexpr (std::is_same_v<To, C>) {
         return c;
      } else if constexpr (std::is_pointer_v<C> && std::is_constructible_v<To, C>) {
         // Objects passed by pointer (events, profiles, ...) are never null in a valid call.
         if (c == nullptr) throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed a null object");
         return To(c);
      } else {
         static_assert(std::is_constructible_v<To, C>,
                       "modkit: no conversion from this C argument to the C++ parameter type");
         return To(c);
      }
   }
};

template <>
struct FromC<std::string_view> {
   static std::string_view get(modkit_str s) noexcept { return to_view(s); }
};

template <>
struct FromC<std::optional<std::string_view>> {
   static std::optional<std::string_view> get(modkit_str s) noexcept { return to_optional_view(s); }
};

// JSON text arguments: parsed for the callback; an absent value reads as null.
template <>
struct FromC<nlohmann::json> {
   static nlohmann::json get(modkit_str s) {
      if (s.data == nullptr) return nullptr;
      nlohmann::json value = nlohmann::json::parse(to_view(s), nullptr, false);
      if (value.is_discarded())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed an argument that is not JSON");
      return value;
   }
};

// ToC<Out>::put(api, out, value) writes a C++ result to a C output the host owns.
template <class Out>
struct ToC {
   template <class V>
   static void put(const modkit_host_api *, Out *out, V &&value) {
      static_assert(std::is_arithmetic_v<Out> || std::is_enum_v<Out>,
                    "modkit: no conversion from this C++ result to the C output type");
      *out = static_cast<Out>(std::forward<V>(value));
   }
};

// Appends bytes to a host-owned *buf output; a buffer the host cannot grow fails the call.
inline void append_output(const modkit_host_api *api, modkit_buffer *out, std::string_view bytes) {
   const modkit_status status = api->buffer_append(out, bytes.data(), bytes.size());
   if (status != MODKIT_OK) throw Error(status, "the host could not store the callback's output");
}

// *buf outputs: strings are written as they are; anything else (nlohmann::json, or a type it
// converts from: maps, sets, vectors...) as JSON text.
template <>
struct ToC<modkit_buffer> {
   template <class V>
   static void put(const modkit_host_api *api, modkit_buffer *out, V &&value) {
      if constexpr (std::is_same_v<std::decay_t<V>, nlohmann::json>) {
         append_output(api, out, value.dump());
      } else if constexpr (std::is_convertible_v<V, std::string_view>) {
         append_output(api, out, std::string_view(value));
      } else {
         static_assert(std::is_constructible_v<nlohmann::json, V>,
                       "modkit: a *buf output takes a string or a value nlohmann::json holds");
         append_output(api, out, nlohmann::json(std::forward<V>(value)).dump());
      }
   }
};

} // namespace modkit::detail
