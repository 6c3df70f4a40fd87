// modkit/categories/federation.h - Synapse's federation callbacks (1).
//
// The callback is a notification: it returns a modkit_status and has no outputs. Every module
// runs, in config order; an error is logged and the others still run, as in Synapse. Hosts that
// can avoid work when no module listens (Synapse skips a /state response cache) should check
// whether the slot has any registrant first.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"
#include "objects.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_FEDERATION_ID[] = "modkit.federation";
#define MODKIT_FEDERATION_MAJOR 1
#define MODKIT_FEDERATION_MINOR 0

// How events reached another server (modkit_federation_delivery.method; Synapse's
// FederatedEventDeliveryMethod). Deliberately open-ended: later hosts add methods without a new
// category version, so a module must read any value it does not know as "some other method"
// (there is no _MAX for that reason). Only methods that hand over whole signed events count;
// /send_knock (stripped state) and /timestamp_to_event (event IDs only) are never reported.
enum {
   MODKIT_FEDERATION_DELIVERY_OTHER = 0,              // a method without a constant here
   MODKIT_FEDERATION_DELIVERY_SEND = 1,               // pushed with /send; acknowledged
   MODKIT_FEDERATION_DELIVERY_BACKFILL = 2,           // served in answer to /backfill
   MODKIT_FEDERATION_DELIVERY_GET_MISSING_EVENTS = 3, // served in answer to /get_missing_events
   MODKIT_FEDERATION_DELIVERY_EVENT = 4,              // served in answer to /event
   MODKIT_FEDERATION_DELIVERY_EVENT_AUTH = 5,         // served in answer to /event_auth
   MODKIT_FEDERATION_DELIVERY_STATE = 6,              // served in answer to /state
   MODKIT_FEDERATION_DELIVERY_SEND_JOIN = 7,          // served in answer to /send_join
};
typedef int32_t modkit_federation_delivery_method;

// True when the other server acknowledged the delivery: it answered a /send without error.
// Events it pulled may still have been lost on the way.
// [thread-safe]
static inline bool modkit_federation_delivery_acknowledged(
   modkit_federation_delivery_method method) {
   return method == MODKIT_FEDERATION_DELIVERY_SEND;
}

// The federation endpoint of a method, e.g. "/send", for logs; "other" for a value this
// header does not name.
// [thread-safe]
static inline const char *modkit_federation_delivery_method_name(
   modkit_federation_delivery_method method) {
   switch (method) {
   case MODKIT_FEDERATION_DELIVERY_SEND: return "/send";
   case MODKIT_FEDERATION_DELIVERY_BACKFILL: return "/backfill";
   case MODKIT_FEDERATION_DELIVERY_GET_MISSING_EVENTS: return "/get_missing_events";
   case MODKIT_FEDERATION_DELIVERY_EVENT: return "/event";
   case MODKIT_FEDERATION_DELIVERY_EVENT_AUTH: return "/event_auth";
   case MODKIT_FEDERATION_DELIVERY_STATE: return "/state";
   case MODKIT_FEDERATION_DELIVERY_SEND_JOIN: return "/send_join";
   default: return "other";
   }
}

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_federation_callbacks {
   uint32_t struct_size; // sizeof(modkit_federation_callbacks) as compiled into the module

   // Events were delivered to delivery->server_name by delivery->method. A request's events
   // may be reported in several batches; no call is made for an empty batch.
   modkit_status(MODKIT_ABI *on_event_delivered_over_federation)(
      void *user_data, modkit_call *call, const modkit_federation_delivery *delivery);
} modkit_federation_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_FEDERATION_ON_EVENT_DELIVERED_OVER_FEDERATION = 0,
   MODKIT_FEDERATION_SLOT_COUNT
};

// Registers a module's federation callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_federation_callbacks(
   const modkit_host_api *api, modkit_host *host, const modkit_federation_callbacks *callbacks,
   void *user_data) {
   return api->register_callbacks(host, MODKIT_FEDERATION_ID, MODKIT_FEDERATION_MAJOR,
                                  MODKIT_FEDERATION_MINOR, callbacks, user_data);
}

#define MODKIT_FED_SLOT_(field, sig, combine, on_error, chain, out_max)                           \
   {#field, (uint32_t)offsetof(modkit_federation_callbacks, field), 0, 0, sig, combine,          \
    on_error, chain, out_max, 0}
#define MODKIT_FED_FIELD_(type, field, ftype) {#field, ftype, (uint32_t)offsetof(type, field)}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_federation_category(void) {
   static const modkit_field_desc delivery_fields[] = {
      MODKIT_FED_FIELD_(modkit_federation_delivery, server_name, "str"),
      MODKIT_FED_FIELD_(modkit_federation_delivery, events_json, "json"),
      MODKIT_FED_FIELD_(modkit_federation_delivery, method, "i32"),
   };
   static const modkit_type_desc types[] = {
      {"federation_delivery", sizeof(modkit_federation_delivery), 3, delivery_fields},
   };
   static const modkit_slot_desc slots[] = {
      MODKIT_FED_SLOT_(on_event_delivered_over_federation, "delivery: &federation_delivery",
                       MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_FEDERATION_MAJOR,
      MODKIT_FEDERATION_MINOR,
      MODKIT_FEDERATION_ID,
      sizeof(modkit_federation_callbacks),
      MODKIT_FEDERATION_SLOT_COUNT,
      slots,
      1,
      0,
      types,
   };
   return &category;
}

#undef MODKIT_FED_SLOT_
#undef MODKIT_FED_FIELD_

MODKIT_EXTERN_C_END
