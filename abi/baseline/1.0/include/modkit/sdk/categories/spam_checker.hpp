// modkit/sdk/categories/spam_checker.hpp - typed registration for "modkit.spam_checker".
//
// Synapse's spam checker callbacks, with the same names. Set the ones the module implements
// and pass the struct to api.register_spam_checker_callbacks(); MODKIT_MODULE's last argument
// must list "modkit.spam_checker". Answers combine across modules as the C header describes:
// the first answer other than not_spam / allow / false wins.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/categories/objects.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/spam_checker.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

namespace modkit {

// Synapse's NOT_SPAM | Codes. Thread rule: a plain value.
enum class SpamResult : int32_t {
   not_spam = MODKIT_NOT_SPAM,
   forbidden = MODKIT_SPAM_FORBIDDEN,
   limit_exceeded = MODKIT_SPAM_LIMIT_EXCEEDED,
   resource_limit_exceeded = MODKIT_SPAM_RESOURCE_LIMIT_EXCEEDED,
   too_large = MODKIT_SPAM_TOO_LARGE,
};

// Synapse's RegistrationBehaviour. Thread rule: a plain value.
enum class RegistrationBehaviour : int32_t {
   allow = MODKIT_REGISTRATION_ALLOW,
   shadow_ban = MODKIT_REGISTRATION_SHADOW_BAN,
   deny = MODKIT_REGISTRATION_DENY,
};

// Thread rule: fill it in the constructor and hand it to register_spam_checker_callbacks;
// the host then calls the callbacks from several threads at once. JSON parameters are parsed
// for the callback (null when the host sent none).
struct SpamCheckerCallbacks {
   Callback<SpamResult(const Event &event)> check_event_for_spam;
   // true drops the federated event silently.
   Callback<bool(const Event &event)> should_drop_federated_event;
   Callback<SpamResult(std::string_view user_id, std::string_view room_id, bool is_invited)>
      user_may_join_room;
   Callback<SpamResult(std::string_view inviter, std::string_view invitee, std::string_view room_id)>
      user_may_invite;
   Callback<SpamResult(const Event &invite)> federated_user_may_invite;
   Callback<SpamResult(std::string_view inviter, std::string_view medium, std::string_view address,
                       std::string_view room_id)>
      user_may_send_3pid_invite;
   Callback<SpamResult(std::string_view user_id, const nlohmann::json &room_config)>
      user_may_create_room;
   Callback<SpamResult(std::string_view user_id, std::string_view room_alias)>
      user_may_create_room_alias;
   Callback<SpamResult(std::string_view user_id, std::string_view room_id)> user_may_publish_room;
   Callback<SpamResult(std::string_view user_id, std::string_view room_id,
                       std::string_view event_type, std::string_view state_key,
                       const nlohmann::json &content)>
      user_may_send_state_event;
   // true hides the user from requester_id's user directory searches.
   Callback<bool(const UserProfile &user_profile, std::string_view requester_id)>
      check_username_for_spam;
   // request_info: a JSON array of {"user_agent": ..., "ip": ...}.
   Callback<RegistrationBehaviour(const nlohmann::json &email_threepid,
                                  std::optional<std::string_view> username,
                                  const nlohmann::json &request_info,
                                  std::optional<std::string_view> auth_provider_id)>
      check_registration_for_spam;
   // content: the file's bytes.
   Callback<SpamResult(std::string_view content, const MediaFileInfo &file_info)>
      check_media_file_for_spam;
   Callback<SpamResult(std::string_view user_id, std::optional<std::string_view> device_id,
                       std::optional<std::string_view> initial_display_name,
                       const nlohmann::json &request_info,
                       std::optional<std::string_view> auth_provider_id)>
      check_login_for_spam;
};

template <>
struct CategoryTraits<SpamCheckerCallbacks> {
   using callbacks = SpamCheckerCallbacks;
   using c_callbacks = modkit_spam_checker_callbacks;
   static const char *id() noexcept { return MODKIT_SPAM_CHECKER_ID; }
   static constexpr uint16_t major = MODKIT_SPAM_CHECKER_MAJOR;
   static constexpr uint16_t minor = MODKIT_SPAM_CHECKER_MINOR;
   // In the C struct's order.
   static constexpr auto slots = std::make_tuple(
      MODKIT_SDK_SLOT(check_event_for_spam), MODKIT_SDK_SLOT(should_drop_federated_event),
      MODKIT_SDK_SLOT(user_may_join_room), MODKIT_SDK_SLOT(user_may_invite),
      MODKIT_SDK_SLOT(federated_user_may_invite), MODKIT_SDK_SLOT(user_may_send_3pid_invite),
      MODKIT_SDK_SLOT(user_may_create_room), MODKIT_SDK_SLOT(user_may_create_room_alias),
      MODKIT_SDK_SLOT(user_may_publish_room), MODKIT_SDK_SLOT(user_may_send_state_event),
      MODKIT_SDK_SLOT(check_username_for_spam), MODKIT_SDK_SLOT(check_registration_for_spam),
      MODKIT_SDK_SLOT(check_media_file_for_spam), MODKIT_SDK_SLOT(check_login_for_spam));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_SPAM_CHECKER_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_spam_checker_callbacks(SpamCheckerCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
