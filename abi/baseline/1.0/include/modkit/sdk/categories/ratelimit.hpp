// modkit/sdk/categories/ratelimit.hpp - typed registration for "modkit.ratelimit".
//
// Synapse's rate limit callback (experimental there), with the same name. Set it and pass the
// struct to api.register_ratelimit_callbacks(); MODKIT_MODULE's last argument must list
// "modkit.ratelimit". The first module with an override for the user decides it.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/ratelimit.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

namespace modkit {

// A rate limit replacing a limiter's configured one (Synapse's RatelimitOverride).
// Thread rule: a plain value.
struct RatelimitOverride {
   double per_second = 0.0; // actions per second; 0 turns the limit off
   int64_t burst_count = 0; // actions allowed at once before the rate applies
};

// Thread rule: fill it in the constructor and hand it to register_ratelimit_callbacks; the host
// then calls the callback from several threads at once.
struct RatelimitCallbacks {
   // The limit the limiter named limiter_name (e.g. "rc_invites.per_user") applies to user_id,
   // or nullopt for its configured one.
   Callback<std::optional<RatelimitOverride>(std::string_view user_id,
                                             std::string_view limiter_name)>
      get_ratelimit_override_for_user;
};

namespace detail {

struct RatelimitOverrideWriter {
   static void put(const modkit_host_api *, std::optional<RatelimitOverride> &&limit, bool *found,
                   double *per_second, int64_t *burst_count) {
      if (!limit) {
         *found = false;
         return;
      }
      if (!std::isfinite(limit->per_second) || limit->per_second < 0.0 || limit->burst_count < 0)
         throw Error(MODKIT_E_INVALID_ARGUMENT,
                     "a rate limit override needs a finite per_second >= 0 and a burst_count >= 0");
      *per_second = limit->per_second;
      *burst_count = limit->burst_count;
      *found = true;
   }
};

} // namespace detail

template <>
struct CategoryTraits<RatelimitCallbacks> {
   using callbacks = RatelimitCallbacks;
   using c_callbacks = modkit_ratelimit_callbacks;
   static const char *id() noexcept { return MODKIT_RATELIMIT_ID; }
   static constexpr uint16_t major = MODKIT_RATELIMIT_MAJOR;
   static constexpr uint16_t minor = MODKIT_RATELIMIT_MINOR;
   static constexpr auto slots = std::make_tuple(
      MODKIT_SDK_SLOT_WRITE(get_ratelimit_override_for_user, detail::RatelimitOverrideWriter));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_RATELIMIT_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_ratelimit_callbacks(RatelimitCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
