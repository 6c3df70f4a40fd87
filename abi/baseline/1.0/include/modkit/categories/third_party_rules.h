// modkit/categories/third_party_rules.h - Synapse's third-party event rules callbacks (12).
//
// Every callback returns a modkit_status (MODKIT_OK unless it failed) and writes its answers to
// the output parameters after its inputs, which the host zero-initialises; for the check_*
// slots that answer a bool ("every module must allow") the host initialises it to true, so a
// module that writes nothing allows. The first output is the answer the combination rule reads.
// How several modules combine and what an error does follow Synapse's code and differ per
// callback; each comment says which, and the slot table at the end declares it.
//
// state_events_json, wherever it appears, is room state as a JSON object keyed by event type,
// then state key: {"m.room.member": {"@alice:example.org": {...}}, ...}, each event a JSON
// object with event_id, room_id, sender, type, state_key, content and origin_server_ts.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"
#include "objects.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_THIRD_PARTY_RULES_ID[] = "modkit.third_party_rules";
#define MODKIT_THIRD_PARTY_RULES_MAJOR 1
#define MODKIT_THIRD_PARTY_RULES_MINOR 0

// check_event_allowed's answer: Synapse's (allowed, replacement) pair as one explicit value.
enum {
   MODKIT_EVENT_ALLOW = 0,   // no objection
   MODKIT_EVENT_DENY = 1,    // reject the event
   MODKIT_EVENT_REPLACE = 2, // allow it, replaced by the event written to the replacement buffer
};
typedef int32_t modkit_event_verdict;
#define MODKIT_EVENT_VERDICT_MAX 2

// on_create_room's answer. Synapse denies by raising; here denying is an answer and an error
// is an error (which denies too: the slot fails closed).
enum {
   MODKIT_CREATE_ROOM_ALLOW = 0,
   MODKIT_CREATE_ROOM_DENY = 1,
};
typedef int32_t modkit_create_room_result;
#define MODKIT_CREATE_ROOM_RESULT_MAX 1

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_third_party_rules_callbacks {
   uint32_t struct_size; // sizeof(modkit_third_party_rules_callbacks) as compiled into the module

   // May this event enter its room? state_events_json is the state before the event. With
   // MODKIT_EVENT_REPLACE the module writes the whole replacement event (a JSON object) to
   // replacement; the host honours it for local events only and takes it as ALLOW for events
   // from other servers. The first non-zero answer wins, so dispatch stops at the first deny
   // or the first replacement, which is Synapse's real rule (its docs mention only the deny).
   // An error fails the request without accepting or rejecting the event (Synapse's 500).
   // Denying an event from another server can make this server's view of the room diverge.
   modkit_status(MODKIT_ABI *check_event_allowed)(void *user_data, modkit_call *call,
                                                 const modkit_event *event,
                                                 modkit_str state_events_json,
                                                 modkit_event_verdict *verdict,
                                                 modkit_buffer *replacement);
   // A user asked to create a room; request_content_json is the /createRoom body as earlier
   // modules left it. To change it, write the whole new body (a JSON object) to new_content:
   // the host hands it to the next module and creates the room from it, as Synapse passes one
   // mutable dict down the chain. MODKIT_CREATE_ROOM_DENY refuses the request (403) and skips
   // later modules; so does an error.
   modkit_status(MODKIT_ABI *on_create_room)(void *user_data, modkit_call *call,
                                            const modkit_requester *requester,
                                            modkit_str request_content_json,
                                            bool is_requester_admin,
                                            modkit_create_room_result *result,
                                            modkit_buffer *new_content);
   // May a third-party identifier (medium "email" or "msisdn") be invited to the room whose
   // current state is given? false refuses. Every module must allow; an error is logged and
   // the module skipped.
   modkit_status(MODKIT_ABI *check_threepid_can_be_invited)(void *user_data, modkit_call *call,
                                                           modkit_str medium, modkit_str address,
                                                           modkit_str state_events_json,
                                                           bool *allowed);
   // May the room's visibility in the public directory change to new_visibility ("public" or
   // "private")? Every module must allow; an error is logged and the module skipped.
   modkit_status(MODKIT_ABI *check_visibility_can_be_modified)(void *user_data,
                                                              modkit_call *call,
                                                              modkit_str room_id,
                                                              modkit_str state_events_json,
                                                              modkit_str new_visibility,
                                                              bool *allowed);
   // An event was accepted and stored; it cannot be refused any more. state_events_json is the
   // state after the event and may be partial (rooms joined over federation still loading
   // their state). Called on every host process that sees the event, never for rejected
   // events. Every module runs; errors are logged.
   modkit_status(MODKIT_ABI *on_new_event)(void *user_data, modkit_call *call,
                                          const modkit_event *event,
                                          modkit_str state_events_json);
   // May the room be shut down? user_id is absent when the server itself, not a user, shuts it
   // down. false refuses with M_FORBIDDEN. Every module must allow; an error is logged and the
   // module skipped.
   modkit_status(MODKIT_ABI *check_can_shutdown_room)(void *user_data, modkit_call *call,
                                                     modkit_str user_id, modkit_str room_id,
                                                     bool *allowed);
   // May the account be deactivated (by the user, or by an admin when by_admin)? false
   // refuses with M_FORBIDDEN. Every module must allow; an error is logged and the module
   // skipped.
   modkit_status(MODKIT_ABI *check_can_deactivate_user)(void *user_data, modkit_call *call,
                                                       modkit_str user_id, bool by_admin,
                                                       bool *allowed);
   // The user's global profile changed (not per-room profiles, not at registration).
   // deactivation: the change is the clearing that comes with deactivating the account.
   // by_admin is also true for changes made by a single sign-on login. Every module runs;
   // errors are logged.
   modkit_status(MODKIT_ABI *on_profile_update)(void *user_data, modkit_call *call,
                                               modkit_str user_id,
                                               const modkit_user_profile *new_profile,
                                               bool by_admin, bool deactivation);
   // The account was deactivated (deactivated true) or reactivated. Every module runs;
   // errors are logged.
   modkit_status(MODKIT_ABI *on_user_deactivation_status_changed)(void *user_data,
                                                                 modkit_call *call,
                                                                 modkit_str user_id,
                                                                 bool deactivated,
                                                                 bool by_admin);
   // Deprecated in Synapse in favour of on_add_user_third_party_identifier; hosts still call
   // it when a user binds a third-party identifier on an identity server. Every module runs;
   // errors are logged.
   modkit_status(MODKIT_ABI *on_threepid_bind)(void *user_data, modkit_call *call,
                                              modkit_str user_id, modkit_str medium,
                                              modkit_str address);
   // A third-party identifier was added to the account (not identity-server binds). Every
   // module runs; errors are logged.
   modkit_status(MODKIT_ABI *on_add_user_third_party_identifier)(void *user_data,
                                                                modkit_call *call,
                                                                modkit_str user_id,
                                                                modkit_str medium,
                                                                modkit_str address);
   // A third-party identifier was removed from the account, after any identity-server unbind.
   // Every module runs; errors are logged.
   modkit_status(MODKIT_ABI *on_remove_user_third_party_identifier)(void *user_data,
                                                                   modkit_call *call,
                                                                   modkit_str user_id,
                                                                   modkit_str medium,
                                                                   modkit_str address);
} modkit_third_party_rules_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_THIRD_PARTY_RULES_CHECK_EVENT_ALLOWED = 0,
   MODKIT_THIRD_PARTY_RULES_ON_CREATE_ROOM,
   MODKIT_THIRD_PARTY_RULES_CHECK_THREEPID_CAN_BE_INVITED,
   MODKIT_THIRD_PARTY_RULES_CHECK_VISIBILITY_CAN_BE_MODIFIED,
   MODKIT_THIRD_PARTY_RULES_ON_NEW_EVENT,
   MODKIT_THIRD_PARTY_RULES_CHECK_CAN_SHUTDOWN_ROOM,
   MODKIT_THIRD_PARTY_RULES_CHECK_CAN_DEACTIVATE_USER,
   MODKIT_THIRD_PARTY_RULES_ON_PROFILE_UPDATE,
   MODKIT_THIRD_PARTY_RULES_ON_USER_DEACTIVATION_STATUS_CHANGED,
   MODKIT_THIRD_PARTY_RULES_ON_THREEPID_BIND,
   MODKIT_THIRD_PARTY_RULES_ON_ADD_USER_THIRD_PARTY_IDENTIFIER,
   MODKIT_THIRD_PARTY_RULES_ON_REMOVE_USER_THIRD_PARTY_IDENTIFIER,
   MODKIT_THIRD_PARTY_RULES_SLOT_COUNT
};

// Registers a module's third-party rules callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_third_party_rules_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_third_party_rules_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_THIRD_PARTY_RULES_ID,
                                  MODKIT_THIRD_PARTY_RULES_MAJOR, MODKIT_THIRD_PARTY_RULES_MINOR,
                                  callbacks, user_data);
}

#define MODKIT_TPR_SLOT_(field, sig, combine, on_error, chain, out_max)                           \
   {#field, (uint32_t)offsetof(modkit_third_party_rules_callbacks, field), 0, 0, sig, combine,    \
    on_error, chain, out_max, 0}
#define MODKIT_TPR_FIELD_(type, field, ftype) {#field, ftype, (uint32_t)offsetof(type, field)}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_third_party_rules_category(void) {
   static const modkit_field_desc event_fields[] = {
      MODKIT_TPR_FIELD_(modkit_event, event_id, "str"),
      MODKIT_TPR_FIELD_(modkit_event, room_id, "str"),
      MODKIT_TPR_FIELD_(modkit_event, sender, "str"),
      MODKIT_TPR_FIELD_(modkit_event, type, "str"),
      MODKIT_TPR_FIELD_(modkit_event, state_key, "str"),
      MODKIT_TPR_FIELD_(modkit_event, content_json, "json"),
      MODKIT_TPR_FIELD_(modkit_event, unsigned_json, "json"),
      MODKIT_TPR_FIELD_(modkit_event, origin_server_ts, "i64"),
   };
   static const modkit_field_desc requester_fields[] = {
      MODKIT_TPR_FIELD_(modkit_requester, user_id, "str"),
      MODKIT_TPR_FIELD_(modkit_requester, device_id, "str"),
      MODKIT_TPR_FIELD_(modkit_requester, authenticated_entity, "str"),
      MODKIT_TPR_FIELD_(modkit_requester, app_service_id, "str"),
      MODKIT_TPR_FIELD_(modkit_requester, is_guest, "bool"),
      MODKIT_TPR_FIELD_(modkit_requester, shadow_banned, "bool"),
   };
   static const modkit_field_desc profile_fields[] = {
      MODKIT_TPR_FIELD_(modkit_user_profile, user_id, "str"),
      MODKIT_TPR_FIELD_(modkit_user_profile, display_name, "str"),
      MODKIT_TPR_FIELD_(modkit_user_profile, avatar_url, "str"),
   };
   static const modkit_type_desc types[] = {
      {"event", sizeof(modkit_event), 8, event_fields},
      {"requester", sizeof(modkit_requester), 6, requester_fields},
      {"user_profile", sizeof(modkit_user_profile), 3, profile_fields},
   };
   static const modkit_slot_desc slots[] = {
      MODKIT_TPR_SLOT_(check_event_allowed,
                       "event: &event, state_events: json, verdict: *i32, replacement: *buf",
                       MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                       MODKIT_EVENT_VERDICT_MAX),
      MODKIT_TPR_SLOT_(on_create_room,
                       "requester: &requester, request_content: json, is_requester_admin: bool, "
                       "result: *i32, new_content: *buf",
                       MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_FAIL_CLOSED, 0,
                       MODKIT_CREATE_ROOM_RESULT_MAX),
      MODKIT_TPR_SLOT_(check_threepid_can_be_invited,
                       "medium: str, address: str, state_events: json, allowed: *bool",
                       MODKIT_COMBINE_ALL_TRUE, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(check_visibility_can_be_modified,
                       "room_id: str, state_events: json, new_visibility: str, allowed: *bool",
                       MODKIT_COMBINE_ALL_TRUE, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(on_new_event, "event: &event, state_events: json", MODKIT_COMBINE_RUN_ALL,
                       MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(check_can_shutdown_room, "user_id: str, room_id: str, allowed: *bool",
                       MODKIT_COMBINE_ALL_TRUE, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(check_can_deactivate_user, "user_id: str, by_admin: bool, allowed: *bool",
                       MODKIT_COMBINE_ALL_TRUE, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(on_profile_update,
                       "user_id: str, new_profile: &user_profile, by_admin: bool, "
                       "deactivation: bool",
                       MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(on_user_deactivation_status_changed,
                       "user_id: str, deactivated: bool, by_admin: bool", MODKIT_COMBINE_RUN_ALL,
                       MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(on_threepid_bind, "user_id: str, medium: str, address: str",
                       MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(on_add_user_third_party_identifier,
                       "user_id: str, medium: str, address: str", MODKIT_COMBINE_RUN_ALL,
                       MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_TPR_SLOT_(on_remove_user_third_party_identifier,
                       "user_id: str, medium: str, address: str", MODKIT_COMBINE_RUN_ALL,
                       MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_THIRD_PARTY_RULES_MAJOR,
      MODKIT_THIRD_PARTY_RULES_MINOR,
      MODKIT_THIRD_PARTY_RULES_ID,
      sizeof(modkit_third_party_rules_callbacks),
      MODKIT_THIRD_PARTY_RULES_SLOT_COUNT,
      slots,
      3,
      0,
      types,
   };
   return &category;
}

#undef MODKIT_TPR_SLOT_
#undef MODKIT_TPR_FIELD_

MODKIT_EXTERN_C_END
