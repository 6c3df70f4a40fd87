// modkit/status.h - status codes returned across the boundary.
#pragma once

#include "private/macros.h"

MODKIT_EXTERN_C_BEGIN

// Constants live in an anonymous enum; the type is int32_t so its width never depends on
// how a compiler sizes an enum. Values are never renumbered; new codes are appended.
enum {
   MODKIT_OK = 0,
   MODKIT_E_INVALID_ARGUMENT = 1, // an argument is null, malformed or out of range
   MODKIT_E_VERSION_MISMATCH = 2, // ABI or category version not supported
   MODKIT_E_NO_MEMORY = 3,        // an allocation failed
   MODKIT_E_INTERNAL = 4,         // a bug or an unexpected exception; the message says more
   MODKIT_E_CONFIG = 5,           // the module's configuration was refused
   MODKIT_E_NOT_FOUND = 6,        // unknown category, slot, extension, cache or module
   MODKIT_E_STATE = 7,            // called at the wrong time (e.g. registration after init)
   MODKIT_E_UNSUPPORTED = 8,      // the host or module does not offer this
   MODKIT_E_CANCELLED = 9,        // the call was cancelled by the host
   MODKIT_E_TIMEOUT = 10,         // the call's deadline passed
   MODKIT_E_CONFLICT = 11,        // something with that name or path is already registered
   MODKIT_E_DENIED = 12,          // refused by policy (trust, hygiene, permission)
   // ABI 1.1: returned by a callback that will complete its call later, through
   // modkit_host_api.call_complete; only allowed when call_can_suspend(call) is true. A host
   // whose call cannot suspend treats it as an error from the callback.
   MODKIT_PENDING = 100,
};
typedef int32_t modkit_status;

// Stable, lower-case name of a status code ("ok", "invalid_argument", ...); "unknown" otherwise.
// [thread-safe]
static inline const char *modkit_status_name(modkit_status status) {
   switch (status) {
   case MODKIT_OK: return "ok";
   case MODKIT_E_INVALID_ARGUMENT: return "invalid_argument";
   case MODKIT_E_VERSION_MISMATCH: return "version_mismatch";
   case MODKIT_E_NO_MEMORY: return "no_memory";
   case MODKIT_E_INTERNAL: return "internal";
   case MODKIT_E_CONFIG: return "config";
   case MODKIT_E_NOT_FOUND: return "not_found";
   case MODKIT_E_STATE: return "state";
   case MODKIT_E_UNSUPPORTED: return "unsupported";
   case MODKIT_E_CANCELLED: return "cancelled";
   case MODKIT_E_TIMEOUT: return "timeout";
   case MODKIT_E_CONFLICT: return "conflict";
   case MODKIT_E_DENIED: return "denied";
   case MODKIT_PENDING: return "pending";
   default: return "unknown";
   }
}

MODKIT_EXTERN_C_END
