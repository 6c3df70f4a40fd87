// modkit/sdk/categories/account_data.hpp - typed registration for "modkit.account_data".
//
// Synapse's account data callback, with the same name. Set it and pass the struct to
// api.register_account_data_callbacks(); MODKIT_MODULE's last argument must list
// "modkit.account_data". It is a notification: every module runs, and an exception is logged
// without stopping the others.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/account_data.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

namespace modkit {

// Thread rule: fill it in the constructor and hand it to register_account_data_callbacks; the
// host then calls the callback from several threads at once.
struct AccountDataCallbacks {
   // A user's global (room_id nullopt) or per-room account data of type account_data_type was
   // written; content is the new content, {} when it was deleted. Room tags are not reported.
   Callback<void(std::string_view user_id, std::optional<std::string_view> room_id,
                 std::string_view account_data_type, const nlohmann::json &content)>
      on_account_data_updated;
};

template <>
struct CategoryTraits<AccountDataCallbacks> {
   using callbacks = AccountDataCallbacks;
   using c_callbacks = modkit_account_data_callbacks;
   static const char *id() noexcept { return MODKIT_ACCOUNT_DATA_ID; }
   static constexpr uint16_t major = MODKIT_ACCOUNT_DATA_MAJOR;
   static constexpr uint16_t minor = MODKIT_ACCOUNT_DATA_MINOR;
   static constexpr auto slots = std::make_tuple(MODKIT_SDK_SLOT(on_account_data_updated));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_ACCOUNT_DATA_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_account_data_callbacks(AccountDataCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
