// accounts.hpp - account operations shared by the client API and the admin API.
#pragma once

#include "app.hpp"

namespace chat {

// Throws MatrixError(400, M_MISSING_PARAM / M_BAD_JSON) unless body[key] is a string.
std::string require_string(const json &body, const char *key);
std::optional<std::string> optional_string(const json &body, const char *key);

// check_can_deactivate_user, then the deactivation: tokens revoked, rooms left, third-party
// identifiers removed (on_remove_user_third_party_identifier), the profile erased when asked
// (on_profile_update), and on_user_deactivation_status_changed.
void deactivate_user(Ctx &ctx, const std::string &user_id, bool by_admin, bool erase);
void reactivate_user(Ctx &ctx, const std::string &user_id, const std::string &password);

// Adds or removes a third-party identifier and tells the modules.
void add_threepid(Ctx &ctx, const std::string &user_id, const std::string &medium, const std::string &address);
bool remove_threepid(Ctx &ctx, const std::string &user_id, const std::string &medium, const std::string &address);

// A new local account, as registration makes it once the auth stages passed:
// check_registration_for_spam (DENY: 403), stored (shadow-banned on SHADOW_BAN; 400
// M_USER_IN_USE when taken, 400 M_INVALID_USERNAME for a bad localpart), on_user_registration.
// An empty password allows no password login. Returns the user ID.
std::string create_account(Ctx &ctx, const std::string &localpart, const std::string &password,
                           const std::string &display_name, const json *email, bool admin);

// Sets the global display name and runs on_profile_update.
void set_display_name(Ctx &ctx, const std::string &user_id, const std::string &name, bool by_admin);

} // namespace chat
