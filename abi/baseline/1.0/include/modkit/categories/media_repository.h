// modkit/categories/media_repository.h - Synapse's media repository callbacks (4).
//
// Synapse marks all four experimental. Every callback returns a modkit_status (MODKIT_OK unless
// it failed) and writes its answers to the output parameters after its inputs, which the host
// zero-initialises (is_user_allowed_to_upload_media_of_size's bool starts true, so a module
// that writes nothing allows). The first output is the answer the combination rule reads; a
// *buf that goes with it is read only when it says so. Synapse lets every exception from these
// callbacks propagate, so an error status fails the request that caused the call.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"
#include "objects.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_MEDIA_REPOSITORY_ID[] = "modkit.media_repository";
#define MODKIT_MEDIA_REPOSITORY_MAJOR 1
#define MODKIT_MEDIA_REPOSITORY_MINOR 0

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_media_repository_callbacks {
   uint32_t struct_size; // sizeof(modkit_media_repository_callbacks) as compiled into the module

   // The media configuration user_id sees (the body of GET /media/config, a JSON object). true
   // in found, with the object written to config: the first such answer wins; with none, the
   // host's configuration is used. Synapse passes over an empty object, so an answer of {}
   // should leave found false.
   modkit_status(MODKIT_ABI *get_media_config_for_user)(void *user_data, modkit_call *call,
                                                       modkit_str user_id, bool *found,
                                                       modkit_buffer *config);
   // May user_id upload a file of size bytes? false refuses with 413 M_TOO_LARGE. Every
   // module must allow.
   modkit_status(MODKIT_ABI *is_user_allowed_to_upload_media_of_size)(void *user_data,
                                                                     modkit_call *call,
                                                                     modkit_str user_id,
                                                                     uint64_t size,
                                                                     bool *allowed);
   // The upload limits that apply to user_id instead of the host's configured ones: true in
   // found, with a JSON array written to limits, each item {"max_bytes": n, "time_period_ms":
   // n}; an empty array means no limits. The first such answer wins. (Synapse's docs add a
   // size argument; its code has none, and neither has this.)
   modkit_status(MODKIT_ABI *get_media_upload_limits_for_user)(void *user_data,
                                                              modkit_call *call,
                                                              modkit_str user_id, bool *found,
                                                              modkit_buffer *limits);
   // An upload by user_id was refused because it would exceed limit: sent_bytes were already
   // uploaded within the limit's period and the upload would have added attempted_bytes.
   // Only host processes that accept uploads make the call. Every module runs.
   modkit_status(MODKIT_ABI *on_media_upload_limit_exceeded)(
      void *user_data, modkit_call *call, modkit_str user_id,
      const modkit_media_upload_limit *limit, uint64_t sent_bytes, uint64_t attempted_bytes);
} modkit_media_repository_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_MEDIA_REPOSITORY_GET_MEDIA_CONFIG_FOR_USER = 0,
   MODKIT_MEDIA_REPOSITORY_IS_USER_ALLOWED_TO_UPLOAD_MEDIA_OF_SIZE,
   MODKIT_MEDIA_REPOSITORY_GET_MEDIA_UPLOAD_LIMITS_FOR_USER,
   MODKIT_MEDIA_REPOSITORY_ON_MEDIA_UPLOAD_LIMIT_EXCEEDED,
   MODKIT_MEDIA_REPOSITORY_SLOT_COUNT
};

// Registers a module's media repository callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_media_repository_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_media_repository_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_MEDIA_REPOSITORY_ID, MODKIT_MEDIA_REPOSITORY_MAJOR,
                                  MODKIT_MEDIA_REPOSITORY_MINOR, callbacks, user_data);
}

#define MODKIT_MR_SLOT_(field, sig, combine, on_error, chain, out_max)                            \
   {#field, (uint32_t)offsetof(modkit_media_repository_callbacks, field), 0, 0, sig, combine,    \
    on_error, chain, out_max, 0}
#define MODKIT_MR_FIELD_(type, field, ftype) {#field, ftype, (uint32_t)offsetof(type, field)}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_media_repository_category(void) {
   static const modkit_field_desc limit_fields[] = {
      MODKIT_MR_FIELD_(modkit_media_upload_limit, max_bytes, "u64"),
      MODKIT_MR_FIELD_(modkit_media_upload_limit, time_period_ms, "i64"),
   };
   static const modkit_type_desc types[] = {
      {"media_upload_limit", sizeof(modkit_media_upload_limit), 2, limit_fields},
   };
   static const modkit_slot_desc slots[] = {
      MODKIT_MR_SLOT_(get_media_config_for_user, "user_id: str, found: *bool, config: *buf",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_MR_SLOT_(is_user_allowed_to_upload_media_of_size,
                      "user_id: str, size: u64, allowed: *bool", MODKIT_COMBINE_ALL_TRUE,
                      MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_MR_SLOT_(get_media_upload_limits_for_user, "user_id: str, found: *bool, limits: *buf",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_MR_SLOT_(on_media_upload_limit_exceeded,
                      "user_id: str, limit: &media_upload_limit, sent_bytes: u64, "
                      "attempted_bytes: u64",
                      MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_MEDIA_REPOSITORY_MAJOR,
      MODKIT_MEDIA_REPOSITORY_MINOR,
      MODKIT_MEDIA_REPOSITORY_ID,
      sizeof(modkit_media_repository_callbacks),
      MODKIT_MEDIA_REPOSITORY_SLOT_COUNT,
      slots,
      1,
      0,
      types,
   };
   return &category;
}

#undef MODKIT_MR_SLOT_
#undef MODKIT_MR_FIELD_

MODKIT_EXTERN_C_END
