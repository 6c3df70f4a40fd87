// modkit/sdk/categories/background_update_controller.hpp - typed registration for
// "modkit.background_update_controller".
//
// Synapse's background update controller callbacks, with the same names: they pace the long
// database migrations a host runs in batches. Set them and pass the struct to
// api.register_background_update_controller_callbacks(); MODKIT_MODULE's last argument must
// list "modkit.background_update_controller". on_update is required, as in Synapse: the SDK
// refuses a registration without it. There is one controller per host, the first module in
// the host config that registers; the host ignores later ones with a warning.
//
// Every answer is optional: nullopt means the host's default (a duration it picks, a first
// batch of 100, a smallest batch of 1). A value must be positive and fit in 32 bits.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/background_update_controller.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace modkit {

// Thread rule: fill it in the constructor and hand it to
// register_background_update_controller_callbacks; the host then calls the callbacks from
// several threads at once (updates of different databases may run concurrently).
struct BackgroundUpdateControllerCallbacks {
   // An iteration of update_name on database_name is about to run: how long should it run?
   // Ignored for one_shot updates, which run in one go. Returning is Synapse's entering of the
   // context manager: a controller holding updates back waits in here (polling
   // call.cancelled()), and the host waits with it.
   Callback<std::optional<std::chrono::milliseconds>(std::string_view update_name,
                                                     std::string_view database_name,
                                                     bool one_shot)>
      on_update;
   // The batch size of update_name's first iteration.
   Callback<std::optional<int32_t>(std::string_view update_name, std::string_view database_name)>
      default_batch_size;
   // The smallest batch size the host may shrink update_name's batches to.
   Callback<std::optional<int32_t>(std::string_view update_name, std::string_view database_name)>
      min_batch_size;
};

namespace detail {

// nullopt is the C header's 0 ("the host's default"), so an answer itself must be positive.
struct PositiveAnswerWriter {
   template <class V>
   static void put(const modkit_host_api *, std::optional<V> &&answer, int32_t *out) {
      if (!answer) {
         *out = 0;
         return;
      }
      int64_t value = 0;
      if constexpr (std::is_same_v<V, std::chrono::milliseconds>) {
         value = answer->count();
      } else {
         value = *answer;
      }
      if (value <= 0 || value > std::numeric_limits<int32_t>::max())
         throw Error(MODKIT_E_INVALID_ARGUMENT,
                     "the answer " + std::to_string(value) +
                        " is out of range (1 to 2147483647; nullopt for the host's default)");
      *out = static_cast<int32_t>(value);
   }
};

} // namespace detail

template <>
struct CategoryTraits<BackgroundUpdateControllerCallbacks> {
   using callbacks = BackgroundUpdateControllerCallbacks;
   using c_callbacks = modkit_background_update_controller_callbacks;
   static const char *id() noexcept { return MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID; }
   static constexpr uint16_t major = MODKIT_BACKGROUND_UPDATE_CONTROLLER_MAJOR;
   static constexpr uint16_t minor = MODKIT_BACKGROUND_UPDATE_CONTROLLER_MINOR;
   // In the C struct's order.
   static constexpr auto slots =
      std::make_tuple(MODKIT_SDK_SLOT_WRITE(on_update, detail::PositiveAnswerWriter),
                      MODKIT_SDK_SLOT_WRITE(default_batch_size, detail::PositiveAnswerWriter),
                      MODKIT_SDK_SLOT_WRITE(min_batch_size, detail::PositiveAnswerWriter));
   static_assert(std::tuple_size_v<decltype(slots)> ==
                    MODKIT_BACKGROUND_UPDATE_CONTROLLER_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");

   // Synapse's on_update is a required argument; the host would refuse the registration too,
   // but later and with less to go on.
   static std::string validate(const BackgroundUpdateControllerCallbacks &callbacks) {
      if (callbacks.on_update) return {};
      return "on_update is required (default_batch_size and min_batch_size only refine it)";
   }
};

// [init-only]
inline void Api::register_background_update_controller_callbacks(
   BackgroundUpdateControllerCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
