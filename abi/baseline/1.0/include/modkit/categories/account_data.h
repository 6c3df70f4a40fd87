// modkit/categories/account_data.h - Synapse's account data callbacks (1).
//
// The callback is a notification: it returns a modkit_status and has no outputs. Every module
// runs, in config order; an error is logged and the others still run, as in Synapse.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_ACCOUNT_DATA_ID[] = "modkit.account_data";
#define MODKIT_ACCOUNT_DATA_MAJOR 1
#define MODKIT_ACCOUNT_DATA_MINOR 0

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_account_data_callbacks {
   uint32_t struct_size; // sizeof(modkit_account_data_callbacks) as compiled into the module

   // A user's global (room_id absent) or per-room account data of type account_data_type was
   // written; content_json is the new content, {} when it was deleted. Room tags are not
   // reported. Only the host process that writes account data makes the call.
   modkit_status(MODKIT_ABI *on_account_data_updated)(void *user_data, modkit_call *call,
                                                     modkit_str user_id, modkit_str room_id,
                                                     modkit_str account_data_type,
                                                     modkit_str content_json);
} modkit_account_data_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_ACCOUNT_DATA_ON_ACCOUNT_DATA_UPDATED = 0,
   MODKIT_ACCOUNT_DATA_SLOT_COUNT
};

// Registers a module's account data callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_account_data_callbacks(
   const modkit_host_api *api, modkit_host *host, const modkit_account_data_callbacks *callbacks,
   void *user_data) {
   return api->register_callbacks(host, MODKIT_ACCOUNT_DATA_ID, MODKIT_ACCOUNT_DATA_MAJOR,
                                  MODKIT_ACCOUNT_DATA_MINOR, callbacks, user_data);
}

#define MODKIT_AD_SLOT_(field, sig, combine, on_error, chain, out_max)                            \
   {#field, (uint32_t)offsetof(modkit_account_data_callbacks, field), 0, 0, sig, combine,        \
    on_error, chain, out_max, 0}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_account_data_category(void) {
   static const modkit_slot_desc slots[] = {
      MODKIT_AD_SLOT_(on_account_data_updated,
                      "user_id: str, room_id: str, account_data_type: str, content: json",
                      MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_ACCOUNT_DATA_MAJOR,
      MODKIT_ACCOUNT_DATA_MINOR,
      MODKIT_ACCOUNT_DATA_ID,
      sizeof(modkit_account_data_callbacks),
      MODKIT_ACCOUNT_DATA_SLOT_COUNT,
      slots,
      0,
      0,
      NULL,
   };
   return &category;
}

#undef MODKIT_AD_SLOT_

MODKIT_EXTERN_C_END
