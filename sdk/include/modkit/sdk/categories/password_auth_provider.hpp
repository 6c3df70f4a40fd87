// modkit/sdk/categories/password_auth_provider.hpp - typed registration for
// "modkit.password_auth_provider".
//
// Synapse's password auth provider callbacks, with the same names. Set the ones the module
// implements and pass the struct to api.register_password_auth_provider_callbacks();
// MODKIT_MODULE's last argument must list "modkit.password_auth_provider".
//
// auth_checkers is declared as data, as Synapse's dict {(login_type, fields): checker} is:
//
//    callbacks.auth_checkers = {{"org.example.token", {"token"}}, {this, &Module::check_token}};
//    callbacks.auth_checkers.add({"m.login.password", {"password"}}, {this, &Module::check_pass});
//
// The SDK answers the C header's get_supported_login_types from that declaration, so the two
// slots the ABI pairs are always registered together, and it hands each login to the checker
// of its type. A login type declared twice, one without a checker, or on_login_response
// without anything that authenticates are refused at registration.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/password_auth_provider.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace modkit {

// A login type and the fields of the /login body its checker receives.
// Thread rule: a plain value.
struct LoginType {
   std::string type;                // e.g. "m.login.password", "org.example.token"
   std::vector<std::string> fields; // e.g. {"password"}
};

// Checks one login: the full Matrix user ID when it authenticates the user, nullopt when the
// login is not this module's to decide (Synapse's None; the next module is asked). username
// is the client's "user" as sent, perhaps a bare localpart; login_dict holds exactly the
// declared fields. Thread rule: a modkit::Callback's; the host may call it concurrently.
using AuthChecker = Callback<std::optional<std::string>(
   std::string_view username, std::string_view login_type, const nlohmann::json &login_dict)>;

// The login types a module checks, each with its checker (Synapse's auth_checkers dict).
// Thread rule: filled in the constructor; read-only once registered.
class AuthCheckers {
public:
   struct Entry {
      LoginType login_type;
      AuthChecker check;
   };

   AuthCheckers() = default;
   AuthCheckers(LoginType login_type, AuthChecker check) {
      add(std::move(login_type), std::move(check));
   }

   // One more entry of the dict; registration refuses a type declared twice.
   AuthCheckers &add(LoginType login_type, AuthChecker check) {
      entries_.push_back({std::move(login_type), std::move(check)});
      return *this;
   }

   bool empty() const noexcept { return entries_.empty(); }
   explicit operator bool() const noexcept { return !empty(); }
   const std::vector<Entry> &entries() const noexcept { return entries_; }

   // The checker declared for login_type, or nullptr.
   const AuthChecker *find(std::string_view login_type) const noexcept {
      const auto it = std::find_if(entries_.begin(), entries_.end(),
                                   [&](const Entry &e) { return e.login_type.type == login_type; });
      return it == entries_.end() ? nullptr : &it->check;
   }

   // get_supported_login_types' answer: {"type": ["field", ...], ...}.
   nlohmann::json login_types_json() const {
      nlohmann::json types = nlohmann::json::object();
      for (const auto &e : entries_) types[e.login_type.type] = e.login_type.fields;
      return types;
   }

   // What is wrong with the declaration, or "".
   std::string problem() const {
      std::set<std::string> seen;
      for (const auto &e : entries_) {
         const std::string &type = e.login_type.type;
         if (type.empty()) return "auth_checkers declares a login type without a name";
         if (!seen.insert(type).second)
            return "auth_checkers declares login type \"" + type + "\" twice";
         if (!e.check) return "auth_checkers declares login type \"" + type + "\" without a checker";
         std::set<std::string_view> fields;
         for (const auto &field : e.login_type.fields) {
            if (field.empty()) return "login type \"" + type + "\" has a field without a name";
            if (!fields.insert(field).second)
               return "login type \"" + type + "\" lists field \"" + field + "\" twice";
         }
      }
      return {};
   }

private:
   std::vector<Entry> entries_;
};

// Thread rule: fill it in the constructor and hand it to
// register_password_auth_provider_callbacks; the host then calls the callbacks from several
// threads at once (get_supported_login_types, which the SDK answers, once at startup).
struct PasswordAuthProviderCallbacks {
   AuthCheckers auth_checkers;
   // A login by third-party identifier (medium "email" or "msisdn") and password: the full
   // Matrix user ID when it authenticates, nullopt otherwise.
   Callback<std::optional<std::string>(std::string_view medium, std::string_view address,
                                       std::string_view password)>
      check_3pid_auth;
   // A login this module authenticated succeeded; login_response is the /login response body.
   // Synapse's "callback returned with the user ID".
   Callback<void(const nlohmann::json &login_response)> on_login_response;
   Callback<void(std::string_view user_id, std::optional<std::string_view> device_id,
                 std::string_view access_token)>
      on_logged_out;
   // The new account's localpart, or nullopt to leave the choice to others. uia_results maps
   // each completed user-interactive auth stage to its result; params is the /register body.
   Callback<std::optional<std::string>(const nlohmann::json &uia_results,
                                       const nlohmann::json &params)>
      get_username_for_registration;
   // The new account's display name, or nullopt; as get_username_for_registration.
   Callback<std::optional<std::string>(const nlohmann::json &uia_results,
                                       const nlohmann::json &params)>
      get_displayname_for_registration;
   // false refuses the third-party identifier.
   Callback<bool(std::string_view medium, std::string_view address, bool registration)>
      is_3pid_allowed;
};

namespace detail {

// A user ID, then AUTHENTICATED; nullopt is no opinion.
struct AuthenticatedWriter {
   static void put(const modkit_host_api *api, std::optional<std::string> &&user_id,
                   modkit_auth_result *result, modkit_buffer *out) {
      if (!user_id) {
         *result = MODKIT_AUTH_NO_OPINION;
         return;
      }
      if (user_id->empty())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "an authenticated login needs the Matrix user ID");
      ToC<modkit_buffer>::put(api, out, *user_id);
      *result = MODKIT_AUTH_AUTHENTICATED;
   }
};

// A name, then found; nullopt leaves found false.
struct FoundTextWriter {
   static void put(const modkit_host_api *api, std::optional<std::string> &&text, bool *found,
                   modkit_buffer *out) {
      if (text) ToC<modkit_buffer>::put(api, out, *text);
      *found = text.has_value();
   }
};

// get_supported_login_types, answered from the declaration.
struct LoginTypesSlot {
   static bool is_set(const AuthCheckers &checkers) noexcept { return !checkers.empty(); }

   static void invoke(const HostContext &context, const AuthCheckers &checkers, Call &,
                      modkit_buffer *login_types) {
      check_outputs(login_types);
      ToC<modkit_buffer>::put(context.api, login_types, checkers.login_types_json());
   }
};

// auth_checkers: the login goes to the checker declared for its type, which then runs as any
// slot does: a coroutine checker on a call that may suspend leaves the call pending.
struct AuthCheckersSlot {
   static constexpr bool starts = true; // the thunk calls start(), not invoke()

   static bool is_set(const AuthCheckers &checkers) noexcept { return !checkers.empty(); }

   static modkit_status start(const HostContext &context, const char *where, const AuthCheckers &checkers,
                              Call &call, modkit_str username, modkit_str login_type, modkit_str login_dict_json,
                              modkit_auth_result *result, modkit_buffer *user_id) {
      return Convert<AuthenticatedWriter>::start(context, where, checker(checkers, login_type), call, username,
                                                 login_type, login_dict_json, result, user_id);
   }

private:
   static const AuthChecker &checker(const AuthCheckers &checkers, modkit_str login_type) {
      const std::string_view type = to_view(login_type);
      const AuthChecker *check = checkers.find(type);
      if (check == nullptr)
         throw Error(MODKIT_E_INVALID_ARGUMENT,
                     "the host asked about login type \"" + std::string(type) +
                        "\", which this module did not declare");
      return *check;
   }
};

} // namespace detail

template <>
struct CategoryTraits<PasswordAuthProviderCallbacks> {
   using callbacks = PasswordAuthProviderCallbacks;
   using c_callbacks = modkit_password_auth_provider_callbacks;
   static const char *id() noexcept { return MODKIT_PASSWORD_AUTH_PROVIDER_ID; }
   static constexpr uint16_t major = MODKIT_PASSWORD_AUTH_PROVIDER_MAJOR;
   static constexpr uint16_t minor = MODKIT_PASSWORD_AUTH_PROVIDER_MINOR;
   // In the C struct's order; one declaration serves the first two slots.
   static constexpr auto slots = std::make_tuple(
      MODKIT_SDK_SLOT_VIA(get_supported_login_types, auth_checkers, detail::LoginTypesSlot),
      MODKIT_SDK_SLOT_VIA(auth_checkers, auth_checkers, detail::AuthCheckersSlot),
      MODKIT_SDK_SLOT_WRITE(check_3pid_auth, detail::AuthenticatedWriter),
      MODKIT_SDK_SLOT(on_login_response), MODKIT_SDK_SLOT(on_logged_out),
      MODKIT_SDK_SLOT_WRITE(get_username_for_registration, detail::FoundTextWriter),
      MODKIT_SDK_SLOT_WRITE(get_displayname_for_registration, detail::FoundTextWriter),
      MODKIT_SDK_SLOT(is_3pid_allowed));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_PASSWORD_AUTH_PROVIDER_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");

   static std::string validate(const PasswordAuthProviderCallbacks &callbacks) {
      std::string problem = callbacks.auth_checkers.problem();
      if (problem.empty() && callbacks.on_login_response && callbacks.auth_checkers.empty() &&
          !callbacks.check_3pid_auth)
         problem = "on_login_response runs only after this module authenticated a login, but it "
                   "sets neither auth_checkers nor check_3pid_auth";
      return problem;
   }
};

// [init-only]
inline void Api::register_password_auth_provider_callbacks(PasswordAuthProviderCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
