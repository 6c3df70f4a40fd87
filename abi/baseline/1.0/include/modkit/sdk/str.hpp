// modkit/sdk/str.hpp - between modkit_str (the ABI's borrowed byte range) and std::string_view.
//
// Thread rule: pure functions. A view made from a modkit_str is valid only as long as the call
// that received the modkit_str; copy it into a std::string to keep it.
#pragma once

#include <modkit/str.h>

#include <optional>
#include <string_view>

namespace modkit {

// The bytes of s; an absent string ({NULL, 0}) reads as empty.
inline std::string_view to_view(modkit_str s) noexcept {
   return s.data ? std::string_view(s.data, s.size) : std::string_view();
}

// The bytes of s, or nullopt when s is absent ({NULL, 0}); an empty string is not absent.
inline std::optional<std::string_view> to_optional_view(modkit_str s) noexcept {
   if (!s.data) return std::nullopt;
   return std::string_view(s.data, s.size);
}

// A borrowed modkit_str over v; v must outlive every use of the result.
inline modkit_str to_modkit_str(std::string_view v) noexcept {
   // A default-constructed view has a null data pointer; point at "" so it reads as empty,
   // not absent.
   return modkit_str{v.data() ? v.data() : "", v.size()};
}

} // namespace modkit
