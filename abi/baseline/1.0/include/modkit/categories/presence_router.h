// modkit/categories/presence_router.h - Synapse's presence router callbacks (2, paired).
//
// A presence router sends presence updates to users beyond those who share a room with the
// user whose presence changed. The two callbacks are a pair, one for each direction of the
// same routing: a host must refuse (MODKIT_E_INVALID_ARGUMENT) a registration that sets only
// one of them, as Synapse does, because routing updates that get_interested_users does not
// also report (or the reverse) leaves clients with an inconsistent view.
//
// Every module runs and the host merges their answers; a module that fails is logged and left
// out of the merge (Synapse skips it with a warning). Outputs are zero-initialised by the host.
//
// A presence state crosses as a JSON object: {"user_id": ..., "state": "online" |
// "unavailable" | "offline" | ..., "last_active_ts": ms, "last_federation_update_ts": ms,
// "last_user_sync_ts": ms, "status_msg": string or null, "currently_active": bool}.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_PRESENCE_ROUTER_ID[] = "modkit.presence_router";
#define MODKIT_PRESENCE_ROUTER_MAJOR 1
#define MODKIT_PRESENCE_ROUTER_MINOR 0

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_presence_router_callbacks {
   uint32_t struct_size; // sizeof(modkit_presence_router_callbacks) as compiled into the module

   // Who, beyond the usual recipients, should receive these presence updates?
   // state_updates_json is a JSON array of presence states. The module writes a JSON object
   // mapping a user ID (local or remote) to the indices of the updates that user must receive:
   // {"@alice:example.org": [0, 2]}. Indices rather than copies of the states, so every state
   // delivered is one the host sent; an index out of range counts as an error. The host
   // unions the indices per user across modules.
   modkit_status(MODKIT_ABI *get_users_for_states)(void *user_data, modkit_call *call,
                                                  modkit_str state_updates_json,
                                                  modkit_buffer *users);
   // Whose presence should the local user user_id receive, beyond the users sharing a room
   // with them? true in all_users means everyone's (Synapse's PRESENCE_ALL_USERS, "ALL"): the
   // host stops there and later modules are not called. Otherwise the module writes a JSON
   // array of user IDs to user_ids, and the host unions the arrays across modules.
   modkit_status(MODKIT_ABI *get_interested_users)(void *user_data, modkit_call *call,
                                                  modkit_str user_id, bool *all_users,
                                                  modkit_buffer *user_ids);
} modkit_presence_router_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_PRESENCE_ROUTER_GET_USERS_FOR_STATES = 0,
   MODKIT_PRESENCE_ROUTER_GET_INTERESTED_USERS,
   MODKIT_PRESENCE_ROUTER_SLOT_COUNT
};

// Registers a module's presence router callbacks; see modkit_host_api.register_callbacks.
// Both callbacks must be set (see above).
// [init-only]
static inline modkit_status modkit_register_presence_router_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_presence_router_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_PRESENCE_ROUTER_ID, MODKIT_PRESENCE_ROUTER_MAJOR,
                                  MODKIT_PRESENCE_ROUTER_MINOR, callbacks, user_data);
}

#define MODKIT_PR_SLOT_(field, sig, combine, on_error, chain, out_max)                            \
   {#field, (uint32_t)offsetof(modkit_presence_router_callbacks, field), 0, 0, sig, combine,      \
    on_error, chain, out_max, 0}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_presence_router_category(void) {
   static const modkit_slot_desc slots[] = {
      MODKIT_PR_SLOT_(get_users_for_states, "state_updates: json, users: *buf",
                      MODKIT_COMBINE_MERGE, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_PR_SLOT_(get_interested_users, "user_id: str, all_users: *bool, user_ids: *buf",
                      MODKIT_COMBINE_MERGE, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_PRESENCE_ROUTER_MAJOR,
      MODKIT_PRESENCE_ROUTER_MINOR,
      MODKIT_PRESENCE_ROUTER_ID,
      sizeof(modkit_presence_router_callbacks),
      MODKIT_PRESENCE_ROUTER_SLOT_COUNT,
      slots,
      0,
      0,
      NULL,
   };
   return &category;
}

#undef MODKIT_PR_SLOT_

MODKIT_EXTERN_C_END
