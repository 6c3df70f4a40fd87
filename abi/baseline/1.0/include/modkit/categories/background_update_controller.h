// modkit/categories/background_update_controller.h - Synapse's background update controller
// callbacks (3).
//
// Background updates are long database migrations the host runs in batches. A controller paces
// them: how long each iteration should run, and how large the batches start and may shrink to.
//
// There is one controller. The first module to register this category owns all three slots;
// a host ignores a later module's registration with a warning naming both modules, as Synapse
// does. A slot the owner leaves null means the host's default for that slot, never another
// module's callback, which is why hosts apply SINGLE to the category as a whole. on_update is
// required (as in Synapse): a host refuses (MODKIT_E_INVALID_ARGUMENT) a registration without
// it.
//
// Every callback returns a modkit_status (MODKIT_OK unless it failed) and writes its answer to
// its last parameter, which the host zero-initialises: 0 (or an output left untouched) means
// "use the host's default"; a negative answer is an error. Synapse lets exceptions from these
// callbacks propagate, so an error fails the iteration that asked.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID[] = "modkit.background_update_controller";
#define MODKIT_BACKGROUND_UPDATE_CONTROLLER_MAJOR 1
#define MODKIT_BACKGROUND_UPDATE_CONTROLLER_MINOR 0

// Every callback: [thread-safe] (updates of different databases may run at once); user_data is
// the pointer given at registration; call is valid until the callback returns; every other
// argument is owned by the host and valid only during the call.
typedef struct modkit_background_update_controller_callbacks {
   uint32_t struct_size; // sizeof(modkit_background_update_controller_callbacks) as compiled in

   // An iteration of update_name on database_name is about to run. duration_ms: how long it
   // should run, in milliseconds; ignored for one_shot updates, which run in one go. Synapse's
   // controller returns an asynchronous context manager; here returning is entering it: a
   // controller that wants to hold updates back waits inside this call (polling
   // call_is_cancelled) and the host waits with it. Synapse's own controller does nothing on
   // leaving the context, so it has no callback here; a controller learns that an iteration
   // ended from the next on_update.
   modkit_status(MODKIT_ABI *on_update)(void *user_data, modkit_call *call,
                                       modkit_str update_name, modkit_str database_name,
                                       bool one_shot, int32_t *duration_ms);
   // The batch size of update_name's first iteration (the host's default is 100).
   modkit_status(MODKIT_ABI *default_batch_size)(void *user_data, modkit_call *call,
                                                modkit_str update_name,
                                                modkit_str database_name, int32_t *batch_size);
   // The smallest batch size the host may shrink update_name's batches to. The host's default
   // is 1 (Synapse's docs say 100, but its code uses 1).
   modkit_status(MODKIT_ABI *min_batch_size)(void *user_data, modkit_call *call,
                                            modkit_str update_name, modkit_str database_name,
                                            int32_t *batch_size);
} modkit_background_update_controller_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_BACKGROUND_UPDATE_CONTROLLER_ON_UPDATE = 0,
   MODKIT_BACKGROUND_UPDATE_CONTROLLER_DEFAULT_BATCH_SIZE,
   MODKIT_BACKGROUND_UPDATE_CONTROLLER_MIN_BATCH_SIZE,
   MODKIT_BACKGROUND_UPDATE_CONTROLLER_SLOT_COUNT
};

// Registers a module's background update controller callbacks; see
// modkit_host_api.register_callbacks. on_update must be set.
// [init-only]
static inline modkit_status modkit_register_background_update_controller_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_background_update_controller_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID,
                                  MODKIT_BACKGROUND_UPDATE_CONTROLLER_MAJOR,
                                  MODKIT_BACKGROUND_UPDATE_CONTROLLER_MINOR, callbacks,
                                  user_data);
}

#define MODKIT_BUC_SLOT_(field, sig, combine, on_error, chain, out_max)                           \
   {#field, (uint32_t)offsetof(modkit_background_update_controller_callbacks, field), 0, 0, sig, \
    combine, on_error, chain, out_max, 0}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_background_update_controller_category(void) {
   // out_max INT32_MAX: any non-negative answer is valid, a negative one is an error.
   static const modkit_slot_desc slots[] = {
      MODKIT_BUC_SLOT_(on_update,
                       "update_name: str, database_name: str, one_shot: bool, "
                       "duration_ms: *i32",
                       MODKIT_COMBINE_SINGLE, MODKIT_ON_ERROR_PROPAGATE, 0, INT32_MAX),
      MODKIT_BUC_SLOT_(default_batch_size,
                       "update_name: str, database_name: str, batch_size: *i32",
                       MODKIT_COMBINE_SINGLE, MODKIT_ON_ERROR_PROPAGATE, 0, INT32_MAX),
      MODKIT_BUC_SLOT_(min_batch_size, "update_name: str, database_name: str, batch_size: *i32",
                       MODKIT_COMBINE_SINGLE, MODKIT_ON_ERROR_PROPAGATE, 0, INT32_MAX),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_BACKGROUND_UPDATE_CONTROLLER_MAJOR,
      MODKIT_BACKGROUND_UPDATE_CONTROLLER_MINOR,
      MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID,
      sizeof(modkit_background_update_controller_callbacks),
      MODKIT_BACKGROUND_UPDATE_CONTROLLER_SLOT_COUNT,
      slots,
      0,
      0,
      NULL,
   };
   return &category;
}

#undef MODKIT_BUC_SLOT_

MODKIT_EXTERN_C_END
