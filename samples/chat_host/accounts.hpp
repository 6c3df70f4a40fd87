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

// Logs out one access token: the device is removed, then on_logged_out. No-op for an unknown token.
void logout_token(Ctx &ctx, const std::string &token);
// Compares a stored secret with a given one in constant time; false when stored is empty.
bool same_secret(const std::string &stored, const std::string &given);
// The body of a 401 asking for user-interactive auth with one of flows.
json uia_required(const json &flows);

// Set the global display name or avatar (nullopt: none), run on_profile_update, then send the
// new profile as a membership event to each room the user has joined, as Synapse does.
void set_display_name(Ctx &ctx, const std::string &user_id, const std::string &name, bool by_admin);
void set_avatar_url(Ctx &ctx, const std::string &user_id, const std::optional<std::string> &url, bool by_admin);

} // namespace chat
