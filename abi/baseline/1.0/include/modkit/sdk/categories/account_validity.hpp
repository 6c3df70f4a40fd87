// modkit/sdk/categories/account_validity.hpp - typed registration for "modkit.account_validity".
//
// Synapse's account validity callbacks, with the same names, plus its three undocumented
// on_legacy_* hooks, through which one module takes over the host's own renewal emails,
// renewal links and admin API. Set the ones the module implements and pass the struct to
// api.register_account_validity_callbacks(); MODKIT_MODULE's last argument must list
// "modkit.account_validity". is_user_expired: the first module with an opinion decides; the
// notifications all run; each legacy hook has one owner, the first module in the host config
// that sets it (the host refuses a second).
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>
#include <modkit/sdk/web.hpp>

#include <modkit/categories/account_validity.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

namespace modkit {

// on_legacy_renew's answer. Thread rule: a plain value.
struct LegacyRenewal {
   bool token_valid = false;  // the token belongs to an account
   bool token_stale = false;  // it was already used, so nothing changed
   int64_t expiration_ts = 0; // the account's expiration after the renewal, ms since the epoch
};

// Thread rule: fill it in the constructor and hand it to register_account_validity_callbacks;
// the host then calls the callbacks from several threads at once.
struct AccountValidityCallbacks {
   // true: expired (403 ORG_MATRIX_EXPIRED_ACCOUNT); false: not expired, which also decides;
   // nullopt: no opinion, ask the next module. Called on every authenticated request.
   Callback<std::optional<bool>(std::string_view user_id)> is_user_expired;
   Callback<void(std::string_view user_id)> on_user_registration;
   // auth_provider_type is the login type (e.g. "m.login.password"), auth_provider_id the
   // single sign-on provider; either may be absent.
   Callback<void(std::string_view user_id, std::optional<std::string_view> auth_provider_type,
                 std::optional<std::string_view> auth_provider_id)>
      on_user_login;
   // Send the user an account renewal email.
   Callback<void(std::string_view user_id)> on_legacy_send_mail;
   // A renewal link carrying renewal_token was followed.
   Callback<LegacyRenewal(std::string_view renewal_token)> on_legacy_renew;
   // The admin API's request (a JSON body with user_id, and optionally expiration_ts and
   // enable_renewal_emails); returns the account's new expiration, ms since the epoch.
   Callback<int64_t(const Request &request)> on_legacy_admin_request;
};

namespace detail {

// is_user_expired: Synapse's True / False / None as the C tri-state.
struct ExpiryWriter {
   static void put(const modkit_host_api *, std::optional<bool> &&expired,
                   modkit_expiry_result *result) {
      *result = !expired ? MODKIT_EXPIRY_NO_OPINION
                         : (*expired ? MODKIT_EXPIRY_EXPIRED : MODKIT_EXPIRY_NOT_EXPIRED);
   }
};

struct LegacyRenewalWriter {
   static void put(const modkit_host_api *, LegacyRenewal &&renewal, bool *token_valid,
                   bool *token_stale, int64_t *expiration_ts) {
      *token_valid = renewal.token_valid;
      *token_stale = renewal.token_stale;
      *expiration_ts = renewal.expiration_ts;
   }
};

} // namespace detail

template <>
struct CategoryTraits<AccountValidityCallbacks> {
   using callbacks = AccountValidityCallbacks;
   using c_callbacks = modkit_account_validity_callbacks;
   static const char *id() noexcept { return MODKIT_ACCOUNT_VALIDITY_ID; }
   static constexpr uint16_t major = MODKIT_ACCOUNT_VALIDITY_MAJOR;
   static constexpr uint16_t minor = MODKIT_ACCOUNT_VALIDITY_MINOR;
   // In the C struct's order.
   static constexpr auto slots = std::make_tuple(
      MODKIT_SDK_SLOT_WRITE(is_user_expired, detail::ExpiryWriter),
      MODKIT_SDK_SLOT(on_user_registration), MODKIT_SDK_SLOT(on_user_login),
      MODKIT_SDK_SLOT(on_legacy_send_mail),
      MODKIT_SDK_SLOT_WRITE(on_legacy_renew, detail::LegacyRenewalWriter),
      MODKIT_SDK_SLOT(on_legacy_admin_request));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_ACCOUNT_VALIDITY_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");
};

// [init-only]
inline void Api::register_account_validity_callbacks(AccountValidityCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
