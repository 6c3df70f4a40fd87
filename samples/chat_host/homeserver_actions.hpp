// homeserver_actions.hpp - what each asynchronous function of chat.homeserver/1 does, run on a
// homeserver worker. Actions a user could take go through the router as that user
// (Router::act), so they meet the same checks and module callbacks as a client's request;
// lookups read the state directly, as Synapse's ModuleApi reads its store. Each returns the
// function's result object or the error, never throws.
#pragma once

#include "homeserver_host.hpp"

#include <optional>
#include <string>
#include <vector>

namespace chat::actions {

// Strings are checked for shape by the caller (homeserver_api.cpp); the state decides the rest.
ActionResult check_user_exists(App &app, const std::string &user_id);
ActionResult is_user_admin(App &app, const std::string &user_id);
ActionResult register_user(App &app, const std::string &module, const std::string &localpart,
                           const std::optional<std::string> &display_name);
ActionResult get_profile(App &app, const std::string &user_id);
ActionResult set_displayname(App &app, const std::string &module, const std::string &user_id,
                             const std::string &display_name);
ActionResult get_threepids(App &app, const std::string &user_id);
ActionResult get_user_ip_and_agents(App &app, const std::string &user_id, int64_t since_ts);

// filter: [[type, state_key or null], ...], or null for everything.
ActionResult get_room_state(App &app, const std::string &room_id, const json &filter);
ActionResult update_membership(App &app, const std::string &module, const std::string &sender,
                               const std::string &target, const std::string &room_id, const std::string &membership,
                               const json &content);
ActionResult send_event(App &app, const std::string &module, const json &event);
ActionResult create_room(App &app, const std::string &module, const std::string &user_id, const json &config);
ActionResult lookup_room_alias(App &app, const std::string &module, const std::string &alias);

enum class Directory { query, add, remove };
ActionResult public_room_list(App &app, const std::string &room_id, Directory what);

// room_id empty: global account data.
ActionResult get_account_data(App &app, const std::string &user_id, const std::string &room_id,
                              const std::string &type);
ActionResult put_account_data(App &app, const std::string &module, const std::string &user_id,
                              const std::string &room_id, const std::string &type, const json &content);

ActionResult send_local_online_presence_to(App &app, const std::vector<std::string> &users);
ActionResult send_mail(App &app, const std::string &recipient, const std::string &subject,
                       const std::optional<std::string> &html, const std::optional<std::string> &text);

} // namespace chat::actions
