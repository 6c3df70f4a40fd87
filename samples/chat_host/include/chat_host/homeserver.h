// chat_host/homeserver.h - the chat host's homeserver API for modules: Synapse's ModuleApi
// (users, profiles, rooms, membership, events, the public room directory, account data,
// presence, mail), published as a host extension.
//
//   const chat_homeserver_api *hs =
//      (const chat_homeserver_api *)api->get_extension(host, CHAT_HOMESERVER_ID);
//   if (hs) hs->update_room_membership(hs, host, sender, target, room, MODKIT_STR_LIT("join"),
//                                      (modkit_str){NULL, 0}, on_joined, state);
//
// Hosts other than the chat host answer NULL. docs/chat-host.md maps every function to its
// ModuleApi counterpart.
//
// Rules for every function:
// - self is the table the function was found in; host is the module's own handle (the one
//   init received): it names the caller.
// - Strings are borrowed for the call only (the host copies what it keeps). {NULL, 0} is
//   "absent" where a parameter says it may be; elsewhere it is MODKIT_E_INVALID_ARGUMENT.
// - An action runs through the same pipeline as a client's request: the same checks, the same
//   module callbacks (an event a module sends is checked by the spam checkers and the
//   third-party rules, and seen by on_new_event), the same errors. A module acts only as a
//   user of this server (MODKIT_E_DENIED otherwise).
// - Functions taking a done callback are asynchronous. They return MODKIT_PENDING when the
//   action was accepted: done is then called exactly once, on a host thread, never inside the
//   call that started it, and user_data must stay valid until then. Any other return means
//   done is never called: MODKIT_E_INVALID_ARGUMENT (a null or malformed argument),
//   MODKIT_E_DENIED (acting as a user of another server), MODKIT_E_STATE (the module is being
//   unloaded, the host is shutting down, or the call would re-enter the module's own callback:
//   see below).
// - Re-entry: an action asked for from inside module M's callback X, on the thread running X, is
//   refused with MODKIT_E_STATE when that callback call was itself made by an action M asked for
//   from X (M -> action -> M.X -> the same action again would never end). The host logs which.
// - Unloading: actions a module asked for and that have not started when it is unloaded get
//   done(MODKIT_E_CANCELLED) before its deinit; those under way are waited for (bounded by the
//   host's module_call_timeout_ms), and past that bound finish without calling done.
#pragma once

#include <modkit/modkit.h>

MODKIT_EXTERN_C_BEGIN

#define CHAT_HOMESERVER_ID "chat.homeserver/1"

// The answer to an asynchronous function. On MODKIT_OK, result_json is a JSON object (each
// function says which) and message is "". Otherwise result_json is absent and message (never
// NULL) says what failed, starting with the Matrix errcode when there is one
// ("M_FORBIDDEN: User @a:example.org not in room !r:example.org"). status is then:
// MODKIT_E_NOT_FOUND (unknown user, room or alias), MODKIT_E_DENIED (not permitted: not joined,
// power levels, a module refused), MODKIT_E_INVALID_ARGUMENT (bad JSON, a malformed
// identifier), MODKIT_E_CONFLICT (already exists), MODKIT_E_UNSUPPORTED (a membership the
// host does not implement), MODKIT_E_CANCELLED (the module is being unloaded),
// MODKIT_E_INTERNAL (a module failed, the mail server refused). Both strings are owned by the
// host and valid during the call only.
typedef void(MODKIT_ABI *chat_homeserver_done_fn)(void *user_data, modkit_status status, modkit_str result_json,
                                                 const char *message);

typedef struct chat_homeserver_api chat_homeserver_api;
struct chat_homeserver_api {
   uint32_t struct_size; // sizeof(chat_homeserver_api) as compiled into the host

   // ---- identity (synchronous) ----

   // This server's name ("example.org"). NUL-terminated, owned by the host, valid until deinit.
   // [thread-safe]
   const char *(MODKIT_ABI *server_name)(const chat_homeserver_api *self, modkit_host *host);

   // True when id (a user ID, room alias or room ID: sigil, localpart, ':', server) belongs to
   // this server.
   // [thread-safe]
   bool(MODKIT_ABI *is_mine)(const chat_homeserver_api *self, modkit_host *host, modkit_str id);

   // "@localpart:server" for a localpart; a string starting with '@' is returned unchanged.
   // Writes up to capacity bytes (no NUL) and the full length to *out_size (may be NULL):
   // MODKIT_E_NO_MEMORY, with *out_size set, when capacity is too small;
   // MODKIT_E_INVALID_ARGUMENT for an empty or absent localpart.
   // [thread-safe]
   modkit_status(MODKIT_ABI *get_qualified_user_id)(const chat_homeserver_api *self, modkit_host *host, modkit_str localpart, char *out,
                                                    size_t capacity, size_t *out_size);

   // ---- users (asynchronous) ----

   // {"user_id": "@a:server"} when the user exists (deactivated too), {"user_id": null} if not.
   // [thread-safe]
   modkit_status(MODKIT_ABI *check_user_exists)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, chat_homeserver_done_fn done,
                                                void *user_data);
   // {"admin": true|false}; MODKIT_E_NOT_FOUND for an unknown user.
   // [thread-safe]
   modkit_status(MODKIT_ABI *is_user_admin)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, chat_homeserver_done_fn done,
                                            void *user_data);
   // Registers a local user without a password, through check_registration_for_spam and
   // on_user_registration: {"user_id": "@localpart:server"}. display_name may be absent (the
   // localpart). MODKIT_E_CONFLICT when taken, MODKIT_E_INVALID_ARGUMENT for a bad localpart.
   // [thread-safe]
   modkit_status(MODKIT_ABI *register_user)(const chat_homeserver_api *self, modkit_host *host, modkit_str localpart, modkit_str display_name,
                                            chat_homeserver_done_fn done, void *user_data);
   // {"displayname": "...", "avatar_url": "..." | null}; MODKIT_E_NOT_FOUND for an unknown user.
   // [thread-safe]
   modkit_status(MODKIT_ABI *get_profile_for_user)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                                   chat_homeserver_done_fn done, void *user_data);
   // Sets a local user's display name as the user would (check_username_for_spam,
   // on_profile_update): {}.
   // [thread-safe]
   modkit_status(MODKIT_ABI *set_displayname)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, modkit_str display_name,
                                              chat_homeserver_done_fn done, void *user_data);
   // {"threepids": [{"medium": "email", "address": "...", "added_at": ms}, ...]};
   // MODKIT_E_NOT_FOUND for an unknown user.
   // [thread-safe]
   modkit_status(MODKIT_ABI *get_threepids_for_user)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                                     chat_homeserver_done_fn done, void *user_data);
   // Where a local user's clients connected from since since_ts (ms since the epoch; 0: all):
   // {"entries": [{"ip": "...", "user_agent": "...", "last_seen": ms}, ...]}, newest first.
   // MODKIT_E_NOT_FOUND for an unknown user.
   // [thread-safe]
   modkit_status(MODKIT_ABI *get_user_ip_and_agents)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, int64_t since_ts,
                                                     chat_homeserver_done_fn done, void *user_data);

   // ---- rooms (asynchronous) ----

   // The room's current state: {"events": [client-format state events]}. filter_json may be
   // absent (everything) or a JSON array of [type, state_key] pairs, state_key null for any:
   // [["m.room.member", null], ["m.room.name", ""]]. MODKIT_E_NOT_FOUND for an unknown room.
   // [thread-safe]
   modkit_status(MODKIT_ABI *get_room_state)(const chat_homeserver_api *self, modkit_host *host, modkit_str room_id, modkit_str filter_json,
                                             chat_homeserver_done_fn done, void *user_data);
   // sender changes target's membership of room_id: "join" and "leave" (sender == target),
   // "invite" (sender != target); other memberships are MODKIT_E_UNSUPPORTED. content_json
   // (absent, or a JSON object) is the request body ("reason"). No rate limits apply.
   // {"event_id": "$..."}.
   // [thread-safe]
   modkit_status(MODKIT_ABI *update_room_membership)(const chat_homeserver_api *self, modkit_host *host, modkit_str sender, modkit_str target,
                                                     modkit_str room_id, modkit_str membership,
                                                     modkit_str content_json, chat_homeserver_done_fn done,
                                                     void *user_data);
   // Sends {"type", "room_id", "sender", "content", "state_key"?} as its sender would (a state
   // event when state_key is present). Membership events go through update_room_membership
   // (MODKIT_E_INVALID_ARGUMENT here). {"event_id": "$..."}.
   // [thread-safe]
   modkit_status(MODKIT_ABI *create_and_send_event_into_room)(const chat_homeserver_api *self, modkit_host *host, modkit_str event_json,
                                                              chat_homeserver_done_fn done, void *user_data);
   // Creates a room as user_id with config_json (the createRoom body; absent: {}):
   // {"room_id": "!...", "room_alias": "#..." | null}.
   // [thread-safe]
   modkit_status(MODKIT_ABI *create_room)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, modkit_str config_json,
                                          chat_homeserver_done_fn done, void *user_data);
   // {"room_id": "!...", "servers": [...]}; MODKIT_E_NOT_FOUND for an unknown alias.
   // [thread-safe]
   modkit_status(MODKIT_ABI *lookup_room_alias)(const chat_homeserver_api *self, modkit_host *host, modkit_str alias, chat_homeserver_done_fn done,
                                                void *user_data);

   // ---- public room directory (asynchronous; public_room_list_manager) ----
   // As Synapse's manager, these change the directory directly (no user, no callback).

   // {"public": true|false}; MODKIT_E_NOT_FOUND for an unknown room.
   // [thread-safe]
   modkit_status(MODKIT_ABI *room_is_in_public_room_list)(const chat_homeserver_api *self, modkit_host *host, modkit_str room_id,
                                                          chat_homeserver_done_fn done, void *user_data);
   // {}; MODKIT_E_NOT_FOUND for an unknown room.
   // [thread-safe]
   modkit_status(MODKIT_ABI *add_room_to_public_room_list)(const chat_homeserver_api *self, modkit_host *host, modkit_str room_id,
                                                           chat_homeserver_done_fn done, void *user_data);
   // {}; MODKIT_E_NOT_FOUND for an unknown room.
   // [thread-safe]
   modkit_status(MODKIT_ABI *remove_room_from_public_room_list)(const chat_homeserver_api *self, modkit_host *host, modkit_str room_id,
                                                                chat_homeserver_done_fn done, void *user_data);

   // ---- account data (asynchronous; account_data_manager) ----

   // A local user's account data of type, global when room_id is absent, else for that room:
   // {"content": {...} | null}. MODKIT_E_NOT_FOUND for an unknown user.
   // [thread-safe]
   modkit_status(MODKIT_ABI *get_account_data)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, modkit_str room_id,
                                               modkit_str type, chat_homeserver_done_fn done, void *user_data);
   // Writes it as the user would (on_account_data_updated runs): content_json is a JSON object.
   // {}.
   // [thread-safe]
   modkit_status(MODKIT_ABI *put_account_data)(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id, modkit_str room_id,
                                               modkit_str type, modkit_str content_json,
                                               chat_homeserver_done_fn done, void *user_data);

   // ---- presence (asynchronous) ----

   // Sends the current presence of every local user who is online to users_json (a JSON array
   // of user IDs), whatever the presence router says: {"sent": number of updates delivered}.
   // [thread-safe]
   modkit_status(MODKIT_ABI *send_local_online_presence_to)(const chat_homeserver_api *self, modkit_host *host, modkit_str users_json,
                                                            chat_homeserver_done_fn done, void *user_data);

   // ---- mail (asynchronous) ----

   // Sends a mail over SMTP to the server the host config names ("email": {"smtp_url", "from"}),
   // on a host thread (never a request's): {} once the server accepted it. text and html may be
   // absent, not both. MODKIT_E_UNSUPPORTED (through done) when the host has no mail server,
   // MODKIT_E_INTERNAL when the server refused or could not be reached.
   // [thread-safe]
   modkit_status(MODKIT_ABI *send_mail)(const chat_homeserver_api *self, modkit_host *host, modkit_str recipient, modkit_str subject,
                                        modkit_str html, modkit_str text, chat_homeserver_done_fn done,
                                        void *user_data);

   // ---- added after send_mail: check struct_size before calling ----

   // The name of this host process among the homeserver's workers (Synapse's
   // ModuleApi.worker_name), or NULL on the main process. A module meant to run on one process
   // only compares it with its config. The chat host is one process: always NULL. Owned by the
   // host, valid until deinit. A table too short to hold it is the main process's.
   // [thread-safe]
   const char *(MODKIT_ABI *worker_name)(const chat_homeserver_api *self, modkit_host *host);

   // The URL clients reach this server at, ending in '/' (Synapse's public_baseurl), for links
   // in mails; NULL when the host config has none. Owned by the host, valid until deinit.
   // [thread-safe]
   const char *(MODKIT_ABI *public_baseurl)(const chat_homeserver_api *self, modkit_host *host);

   // How mails name the service (Synapse's email.app_name; "Matrix" unless configured). Owned
   // by the host, valid until deinit.
   // [thread-safe]
   const char *(MODKIT_ABI *email_app_name)(const chat_homeserver_api *self, modkit_host *host);
};

MODKIT_EXTERN_C_END
