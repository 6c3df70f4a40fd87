// modkit/categories/spam_checker.h - Synapse's spam checker callbacks (14).
//
// Every callback returns a modkit_status (MODKIT_OK unless it failed) and writes its answer to
// the last parameter, which the host zero-initialises. For the result enums, 0 means "no
// objection" (Synapse's NOT_SPAM / ALLOW), so several modules combine by "the first non-zero
// answer wins" and later modules are skipped. An error status, or an answer outside the enum,
// fails the request (Synapse lets a spam checker's exception fail the request).
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"
#include "objects.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_SPAM_CHECKER_ID[] = "modkit.spam_checker";
#define MODKIT_SPAM_CHECKER_MAJOR 1
#define MODKIT_SPAM_CHECKER_MINOR 0

// Synapse's NOT_SPAM | Codes, as an explicit enum. Values are never renumbered.
enum {
   MODKIT_NOT_SPAM = 0,
   MODKIT_SPAM_FORBIDDEN = 1,               // M_FORBIDDEN
   MODKIT_SPAM_LIMIT_EXCEEDED = 2,          // M_LIMIT_EXCEEDED
   MODKIT_SPAM_RESOURCE_LIMIT_EXCEEDED = 3, // M_RESOURCE_LIMIT_EXCEEDED
   MODKIT_SPAM_TOO_LARGE = 4,               // M_TOO_LARGE
};
typedef int32_t modkit_spam_result;
#define MODKIT_SPAM_RESULT_MAX 4

// The Matrix errcode a spam result answers with ("M_FORBIDDEN" for anything unknown).
// [thread-safe]
static inline const char *modkit_spam_result_errcode(modkit_spam_result result) {
   switch (result) {
   case MODKIT_SPAM_LIMIT_EXCEEDED: return "M_LIMIT_EXCEEDED";
   case MODKIT_SPAM_RESOURCE_LIMIT_EXCEEDED: return "M_RESOURCE_LIMIT_EXCEEDED";
   case MODKIT_SPAM_TOO_LARGE: return "M_TOO_LARGE";
   default: return "M_FORBIDDEN";
   }
}

// Synapse's RegistrationBehaviour.
enum {
   MODKIT_REGISTRATION_ALLOW = 0,
   MODKIT_REGISTRATION_SHADOW_BAN = 1,
   MODKIT_REGISTRATION_DENY = 2,
};
typedef int32_t modkit_registration_behaviour;
#define MODKIT_REGISTRATION_BEHAVIOUR_MAX 2

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_spam_checker_callbacks {
   uint32_t struct_size; // sizeof(modkit_spam_checker_callbacks) as compiled into the module

   // A local non-member event is about to be sent. Non-zero refuses it with that errcode.
   modkit_status(MODKIT_ABI *check_event_for_spam)(void *user_data, modkit_call *call,
                                                  const modkit_event *event,
                                                  modkit_spam_result *result);
   // A federated event arrived. true drops it silently (first true wins).
   modkit_status(MODKIT_ABI *should_drop_federated_event)(void *user_data, modkit_call *call,
                                                         const modkit_event *event, bool *drop);
   modkit_status(MODKIT_ABI *user_may_join_room)(void *user_data, modkit_call *call,
                                                modkit_str user_id, modkit_str room_id,
                                                bool is_invited, modkit_spam_result *result);
   modkit_status(MODKIT_ABI *user_may_invite)(void *user_data, modkit_call *call,
                                             modkit_str inviter, modkit_str invitee,
                                             modkit_str room_id, modkit_spam_result *result);
   // A federated invite (the full invite event). If every module answers MODKIT_NOT_SPAM, the
   // host goes on to user_may_invite(sender, state_key, room_id).
   modkit_status(MODKIT_ABI *federated_user_may_invite)(void *user_data, modkit_call *call,
                                                       const modkit_event *event,
                                                       modkit_spam_result *result);
   modkit_status(MODKIT_ABI *user_may_send_3pid_invite)(void *user_data, modkit_call *call,
                                                       modkit_str inviter, modkit_str medium,
                                                       modkit_str address, modkit_str room_id,
                                                       modkit_spam_result *result);
   // room_config_json is the /createRoom request body.
   modkit_status(MODKIT_ABI *user_may_create_room)(void *user_data, modkit_call *call,
                                                  modkit_str user_id, modkit_str room_config_json,
                                                  modkit_spam_result *result);
   modkit_status(MODKIT_ABI *user_may_create_room_alias)(void *user_data, modkit_call *call,
                                                        modkit_str user_id, modkit_str room_alias,
                                                        modkit_spam_result *result);
   modkit_status(MODKIT_ABI *user_may_publish_room)(void *user_data, modkit_call *call,
                                                   modkit_str user_id, modkit_str room_id,
                                                   modkit_spam_result *result);
   modkit_status(MODKIT_ABI *user_may_send_state_event)(void *user_data, modkit_call *call,
                                                       modkit_str user_id, modkit_str room_id,
                                                       modkit_str event_type,
                                                       modkit_str state_key,
                                                       modkit_str content_json,
                                                       modkit_spam_result *result);
   // true hides the user from user directory searches by requester_id (first true wins).
   modkit_status(MODKIT_ABI *check_username_for_spam)(void *user_data, modkit_call *call,
                                                     const modkit_user_profile *user_profile,
                                                     modkit_str requester_id, bool *is_spam);
   // email_threepid_json: JSON object or absent; request_info_json: JSON array of
   // {"user_agent": ..., "ip": ...}. The first answer other than ALLOW wins.
   modkit_status(MODKIT_ABI *check_registration_for_spam)(
      void *user_data, modkit_call *call, modkit_str email_threepid_json, modkit_str username,
      modkit_str request_info_json, modkit_str auth_provider_id,
      modkit_registration_behaviour *behaviour);
   // content: the file's bytes.
   modkit_status(MODKIT_ABI *check_media_file_for_spam)(void *user_data, modkit_call *call,
                                                       modkit_str content,
                                                       const modkit_media_file_info *file_info,
                                                       modkit_spam_result *result);
   modkit_status(MODKIT_ABI *check_login_for_spam)(void *user_data, modkit_call *call,
                                                  modkit_str user_id, modkit_str device_id,
                                                  modkit_str initial_display_name,
                                                  modkit_str request_info_json,
                                                  modkit_str auth_provider_id,
                                                  modkit_spam_result *result);
} modkit_spam_checker_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM = 0,
   MODKIT_SPAM_CHECKER_SHOULD_DROP_FEDERATED_EVENT,
   MODKIT_SPAM_CHECKER_USER_MAY_JOIN_ROOM,
   MODKIT_SPAM_CHECKER_USER_MAY_INVITE,
   MODKIT_SPAM_CHECKER_FEDERATED_USER_MAY_INVITE,
   MODKIT_SPAM_CHECKER_USER_MAY_SEND_3PID_INVITE,
   MODKIT_SPAM_CHECKER_USER_MAY_CREATE_ROOM,
   MODKIT_SPAM_CHECKER_USER_MAY_CREATE_ROOM_ALIAS,
   MODKIT_SPAM_CHECKER_USER_MAY_PUBLISH_ROOM,
   MODKIT_SPAM_CHECKER_USER_MAY_SEND_STATE_EVENT,
   MODKIT_SPAM_CHECKER_CHECK_USERNAME_FOR_SPAM,
   MODKIT_SPAM_CHECKER_CHECK_REGISTRATION_FOR_SPAM,
   MODKIT_SPAM_CHECKER_CHECK_MEDIA_FILE_FOR_SPAM,
   MODKIT_SPAM_CHECKER_CHECK_LOGIN_FOR_SPAM,
   MODKIT_SPAM_CHECKER_SLOT_COUNT
};

// Registers a module's spam checker callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_spam_checker_callbacks(
   const modkit_host_api *api, modkit_host *host, const modkit_spam_checker_callbacks *callbacks,
   void *user_data) {
   return api->register_callbacks(host, MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_MAJOR,
                                  MODKIT_SPAM_CHECKER_MINOR, callbacks, user_data);
}

#define MODKIT_SC_SLOT_(field, sig, combine, on_error, chain, out_max)                            \
   {#field, (uint32_t)offsetof(modkit_spam_checker_callbacks, field), 0, 0, sig, combine, on_error, \
    chain, out_max, 0}
#define MODKIT_SC_FIELD_(type, field, ftype) {#field, ftype, (uint32_t)offsetof(type, field)}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_spam_checker_category(void) {
   static const modkit_field_desc event_fields[] = {
      MODKIT_SC_FIELD_(modkit_event, event_id, "str"),
      MODKIT_SC_FIELD_(modkit_event, room_id, "str"),
      MODKIT_SC_FIELD_(modkit_event, sender, "str"),
      MODKIT_SC_FIELD_(modkit_event, type, "str"),
      MODKIT_SC_FIELD_(modkit_event, state_key, "str"),
      MODKIT_SC_FIELD_(modkit_event, content_json, "json"),
      MODKIT_SC_FIELD_(modkit_event, unsigned_json, "json"),
      MODKIT_SC_FIELD_(modkit_event, origin_server_ts, "i64"),
   };
   static const modkit_field_desc profile_fields[] = {
      MODKIT_SC_FIELD_(modkit_user_profile, user_id, "str"),
      MODKIT_SC_FIELD_(modkit_user_profile, display_name, "str"),
      MODKIT_SC_FIELD_(modkit_user_profile, avatar_url, "str"),
   };
   static const modkit_field_desc file_info_fields[] = {
      MODKIT_SC_FIELD_(modkit_media_file_info, server_name, "str"),
      MODKIT_SC_FIELD_(modkit_media_file_info, media_id, "str"),
      MODKIT_SC_FIELD_(modkit_media_file_info, upload_name, "str"),
      MODKIT_SC_FIELD_(modkit_media_file_info, media_type, "str"),
      MODKIT_SC_FIELD_(modkit_media_file_info, media_length, "u64"),
      MODKIT_SC_FIELD_(modkit_media_file_info, is_thumbnail, "bool"),
   };
   static const modkit_type_desc types[] = {
      {"event", sizeof(modkit_event), 8, event_fields},
      {"user_profile", sizeof(modkit_user_profile), 3, profile_fields},
      {"media_file_info", sizeof(modkit_media_file_info), 6, file_info_fields},
   };
   static const modkit_slot_desc slots[] = {
      MODKIT_SC_SLOT_(check_event_for_spam, "event: &event, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(should_drop_federated_event, "event: &event, drop: *bool",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0, 1),
      MODKIT_SC_SLOT_(user_may_join_room,
                      "user_id: str, room_id: str, is_invited: bool, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(user_may_invite, "inviter: str, invitee: str, room_id: str, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(federated_user_may_invite, "event: &event, result: *i32",
                      MODKIT_COMBINE_CHAINED, MODKIT_ON_ERROR_PROPAGATE, "user_may_invite",
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(user_may_send_3pid_invite,
                      "inviter: str, medium: str, address: str, room_id: str, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(user_may_create_room, "user_id: str, room_config: json, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(user_may_create_room_alias, "user_id: str, room_alias: str, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(user_may_publish_room, "user_id: str, room_id: str, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(user_may_send_state_event,
                      "user_id: str, room_id: str, event_type: str, state_key: str, "
                      "content: json, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(check_username_for_spam,
                      "user_profile: &user_profile, requester_id: str, is_spam: *bool",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0, 1),
      MODKIT_SC_SLOT_(check_registration_for_spam,
                      "email_threepid: json, username: str, request_info: json, "
                      "auth_provider_id: str, behaviour: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_REGISTRATION_BEHAVIOUR_MAX),
      MODKIT_SC_SLOT_(check_media_file_for_spam,
                      "content: bytes, file_info: &media_file_info, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
      MODKIT_SC_SLOT_(check_login_for_spam,
                      "user_id: str, device_id: str, initial_display_name: str, "
                      "request_info: json, auth_provider_id: str, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_SPAM_RESULT_MAX),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_SPAM_CHECKER_MAJOR,
      MODKIT_SPAM_CHECKER_MINOR,
      MODKIT_SPAM_CHECKER_ID,
      sizeof(modkit_spam_checker_callbacks),
      MODKIT_SPAM_CHECKER_SLOT_COUNT,
      slots,
      3,
      0,
      types,
   };
   return &category;
}

#undef MODKIT_SC_SLOT_
#undef MODKIT_SC_FIELD_

MODKIT_EXTERN_C_END
