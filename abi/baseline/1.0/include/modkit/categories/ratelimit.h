// modkit/categories/ratelimit.h - Synapse's rate limit callbacks (1).
//
// Synapse marks it experimental. The callback returns a modkit_status (MODKIT_OK unless it
// failed) and writes its answers to the output parameters after its inputs, which the host
// zero-initialises; the first output, found, is the answer the combination rule reads, and the
// others are read only when it is true. Synapse lets exceptions propagate, so an error status
// fails the request being rate limited.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_RATELIMIT_ID[] = "modkit.ratelimit";
#define MODKIT_RATELIMIT_MAJOR 1
#define MODKIT_RATELIMIT_MINOR 0

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_ratelimit_callbacks {
   uint32_t struct_size; // sizeof(modkit_ratelimit_callbacks) as compiled into the module

   // The rate limit the limiter named limiter_name (e.g. "rc_invites.per_room",
   // "rc_invites.per_user", "rc_invites.per_issuer") applies to user_id instead of its
   // configured one. true in found, with per_second (actions per second; 0.0 turns the limit
   // off) and burst_count: the first such answer wins; with none, the configured limit applies.
   modkit_status(MODKIT_ABI *get_ratelimit_override_for_user)(void *user_data, modkit_call *call,
                                                             modkit_str user_id,
                                                             modkit_str limiter_name,
                                                             bool *found, double *per_second,
                                                             int64_t *burst_count);
} modkit_ratelimit_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_RATELIMIT_GET_RATELIMIT_OVERRIDE_FOR_USER = 0,
   MODKIT_RATELIMIT_SLOT_COUNT
};

// Registers a module's rate limit callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_ratelimit_callbacks(
   const modkit_host_api *api, modkit_host *host, const modkit_ratelimit_callbacks *callbacks,
   void *user_data) {
   return api->register_callbacks(host, MODKIT_RATELIMIT_ID, MODKIT_RATELIMIT_MAJOR,
                                  MODKIT_RATELIMIT_MINOR, callbacks, user_data);
}

#define MODKIT_RL_SLOT_(field, sig, combine, on_error, chain, out_max)                            \
   {#field, (uint32_t)offsetof(modkit_ratelimit_callbacks, field), 0, 0, sig, combine, on_error, \
    chain, out_max, 0}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_ratelimit_category(void) {
   static const modkit_slot_desc slots[] = {
      MODKIT_RL_SLOT_(get_ratelimit_override_for_user,
                      "user_id: str, limiter_name: str, found: *bool, per_second: *f64, "
                      "burst_count: *i64",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_RATELIMIT_MAJOR,
      MODKIT_RATELIMIT_MINOR,
      MODKIT_RATELIMIT_ID,
      sizeof(modkit_ratelimit_callbacks),
      MODKIT_RATELIMIT_SLOT_COUNT,
      slots,
      0,
      0,
      NULL,
   };
   return &category;
}

#undef MODKIT_RL_SLOT_

MODKIT_EXTERN_C_END
