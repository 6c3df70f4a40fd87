// modkit/categories/objects.h - domain objects shared by the standard categories.
//
// Each is a small struct of borrowed modkit_str views, owned by the host and valid only for
// the duration of the callback that receives it. struct_size comes first so hosts can append
// fields in later minors; read appended fields only after MODKIT_HAS_FIELD says they exist.
#pragma once

#include "../str.h"

MODKIT_EXTERN_C_BEGIN

// A room event, as Synapse's EventBase shows it to modules.
typedef struct modkit_event {
   uint32_t struct_size;
   modkit_str event_id;
   modkit_str room_id;
   modkit_str sender;
   modkit_str type;          // e.g. "m.room.message"
   modkit_str state_key;     // absent ({NULL, 0}) for non-state events
   modkit_str content_json;  // the event's content object, JSON text
   modkit_str unsigned_json; // JSON object; may be absent
   int64_t origin_server_ts; // milliseconds since the epoch
} modkit_event;

// A user's public profile (Synapse's UserProfile).
typedef struct modkit_user_profile {
   uint32_t struct_size;
   modkit_str user_id;
   modkit_str display_name; // may be absent
   modkit_str avatar_url;   // may be absent
} modkit_user_profile;

// Metadata of an uploaded or downloaded media file (Synapse's FileInfo).
typedef struct modkit_media_file_info {
   uint32_t struct_size;
   modkit_str server_name; // absent for local media
   modkit_str media_id;
   modkit_str upload_name; // may be absent
   modkit_str media_type;  // e.g. "image/png"
   uint64_t media_length;  // bytes
   bool is_thumbnail;
} modkit_media_file_info;

// Who made a client request (Synapse's Requester).
typedef struct modkit_requester {
   uint32_t struct_size;
   modkit_str user_id;
   modkit_str device_id;            // absent when the access token has no device
   // Who actually authenticated: user_id itself, or the admin or application service that
   // acts as that user.
   modkit_str authenticated_entity;
   modkit_str app_service_id;       // absent unless an application service made the request
   bool is_guest;
   bool shadow_banned;
} modkit_requester;

// One media upload limit: at most max_bytes uploaded within time_period_ms (Synapse's
// MediaUploadLimit).
typedef struct modkit_media_upload_limit {
   uint32_t struct_size;
   uint64_t max_bytes;
   int64_t time_period_ms;
} modkit_media_upload_limit;

// Events this server handed to another server over federation (Synapse's
// FederationEventDeliveryEvent). A struct rather than three arguments so that later minors
// can add what they learn about a delivery without a new callback.
typedef struct modkit_federation_delivery {
   uint32_t struct_size;
   modkit_str server_name; // the destination server
   // JSON array of the delivered events (signed PDUs). Not necessarily every event of one
   // request: the host may report a request's events in several batches.
   modkit_str events_json;
   // How they were delivered: a MODKIT_FEDERATION_DELIVERY_* constant (federation.h). The list
   // is open-ended; read an unknown value as "some other method".
   int32_t method;
} modkit_federation_delivery;

MODKIT_EXTERN_C_END
