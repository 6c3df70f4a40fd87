// modkit/categories/extra_unsigned_fields.h - Synapse's callback that adds fields to the
// "unsigned" section of events sent to clients (1).
//
// Synapse registers it with register_add_extra_fields_to_unsigned_client_event_callbacks.
// The callback returns a modkit_status (MODKIT_OK unless it failed) and writes its answer to
// a host-owned buffer. Every module runs, in config order, and the host merges the JSON objects
// key by key, so for a key several modules set, the last module in config order wins (Synapse's
// dict.update). An error propagates: the request serialising the event fails, as in Synapse.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"
#include "objects.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_EXTRA_UNSIGNED_FIELDS_ID[] = "modkit.extra_unsigned_fields";
#define MODKIT_EXTRA_UNSIGNED_FIELDS_MAJOR 1
#define MODKIT_EXTRA_UNSIGNED_FIELDS_MINOR 0

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_extra_unsigned_fields_callbacks {
   uint32_t struct_size; // sizeof(modkit_extra_unsigned_fields_callbacks) as compiled in

   // Extra keys for event's "unsigned" object, written to fields as one JSON object (nothing,
   // or {}, adds none). Called for every event serialised to a client, so it must be fast.
   // Keys the host sets itself cannot be overridden: the host drops them from the answer.
   modkit_status(MODKIT_ABI *add_field_to_unsigned)(void *user_data, modkit_call *call,
                                                   const modkit_event *event,
                                                   modkit_buffer *fields);
} modkit_extra_unsigned_fields_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_EXTRA_UNSIGNED_FIELDS_ADD_FIELD_TO_UNSIGNED = 0,
   MODKIT_EXTRA_UNSIGNED_FIELDS_SLOT_COUNT
};

// Registers a module's extra unsigned fields callback; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_extra_unsigned_fields_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_extra_unsigned_fields_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_EXTRA_UNSIGNED_FIELDS_ID,
                                  MODKIT_EXTRA_UNSIGNED_FIELDS_MAJOR,
                                  MODKIT_EXTRA_UNSIGNED_FIELDS_MINOR, callbacks, user_data);
}

#define MODKIT_EUF_SLOT_(field, sig, combine, on_error, chain, out_max)                           \
   {#field, (uint32_t)offsetof(modkit_extra_unsigned_fields_callbacks, field), 0, 0, sig,        \
    combine, on_error, chain, out_max, 0}
#define MODKIT_EUF_FIELD_(type, field, ftype) {#field, ftype, (uint32_t)offsetof(type, field)}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_extra_unsigned_fields_category(void) {
   static const modkit_field_desc event_fields[] = {
      MODKIT_EUF_FIELD_(modkit_event, event_id, "str"),
      MODKIT_EUF_FIELD_(modkit_event, room_id, "str"),
      MODKIT_EUF_FIELD_(modkit_event, sender, "str"),
      MODKIT_EUF_FIELD_(modkit_event, type, "str"),
      MODKIT_EUF_FIELD_(modkit_event, state_key, "str"),
      MODKIT_EUF_FIELD_(modkit_event, content_json, "json"),
      MODKIT_EUF_FIELD_(modkit_event, unsigned_json, "json"),
      MODKIT_EUF_FIELD_(modkit_event, origin_server_ts, "i64"),
   };
   static const modkit_type_desc types[] = {
      {"event", sizeof(modkit_event), 8, event_fields},
   };
   static const modkit_slot_desc slots[] = {
      MODKIT_EUF_SLOT_(add_field_to_unsigned, "event: &event, fields: *buf",
                       MODKIT_COMBINE_MERGE, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_EXTRA_UNSIGNED_FIELDS_MAJOR,
      MODKIT_EXTRA_UNSIGNED_FIELDS_MINOR,
      MODKIT_EXTRA_UNSIGNED_FIELDS_ID,
      sizeof(modkit_extra_unsigned_fields_callbacks),
      MODKIT_EXTRA_UNSIGNED_FIELDS_SLOT_COUNT,
      slots,
      1,
      0,
      types,
   };
   return &category;
}

#undef MODKIT_EUF_SLOT_
#undef MODKIT_EUF_FIELD_

MODKIT_EXTERN_C_END
