// modkit/module.h - the module descriptor and the one symbol every module exports.
#pragma once

#include "host.h"
#include "private/macros.h"
#include "status.h"
#include "str.h"
#include "version.h"

MODKIT_EXTERN_C_BEGIN

// Describes a module. Static data owned by the module; valid while the module is mapped.
// Fields are only ever appended, behind struct_size.
typedef struct modkit_module {
   uint32_t struct_size; // sizeof(modkit_module) as compiled into the module
   uint16_t abi_major;   // MODKIT_ABI_VERSION_MAJOR the module was built against
   uint16_t abi_minor;   // MODKIT_ABI_VERSION_MINOR the module was built against

   const char *name;          // e.g. "spam_filter"; mandatory; equals the manifest's name
   const char *version;       // e.g. "1.2.0"; mandatory
   const char *description;   // one line; may be NULL
   const char *config_schema; // JSON Schema (draft 7) of the raw config; NULL for none

   // Validates and normalises the raw config (JSON text; "{}" when the host config has none)
   // and appends the result, as JSON text, to out. Reports problems through
   // api->report_error(err, ...) with a JSON pointer relative to the module's config, and
   // returns MODKIT_E_CONFIG. Pure: no registration, no side effects, no state kept; tools
   // call it offline. NULL means the raw config is passed to init unchanged.
   // [any-thread], never concurrently with init for the same module
   modkit_status(MODKIT_ABI *parse_config)(const modkit_host_api *api, modkit_str config_json,
                                           modkit_buffer *out, modkit_error_sink *err);

   // Creates the module instance from the parsed config and stores it in *instance. The only
   // place a module may register callbacks, web resources and cached functions. api and host
   // stay valid until deinit returns. On failure returns an error status, reports why through
   // err, leaves nothing registered, and deinit is not called. Mandatory.
   // [main-thread]
   modkit_status(MODKIT_ABI *init)(const modkit_host_api *api, modkit_host *host,
                                   modkit_str config_json, void **instance,
                                   modkit_error_sink *err);

   // Releases what init acquired. Called once, after the host guarantees that no callback of
   // this module is running or will run again. May be NULL.
   //
   // Reload: a host reloading a module first runs the new instance's init (the old instance
   // keeps serving meanwhile), then swaps the new registrations in, waits until no call into
   // the old instance is running, and only then runs the old instance's deinit. When the file
   // did not change, both instances live in the same mapping and share its global and static
   // variables: for a moment two instances exist at once, and the old deinit runs after the new
   // init. Keep per-instance state in the instance; a global that init sets and deinit clears
   // would be cleared under the new instance. If the new init fails, the old instance runs on
   // untouched and the new one's deinit is not called.
   // [main-thread]
   void(MODKIT_ABI *deinit)(void *instance);
} modkit_module;

// The entry point, resolved with dlsym(handle, "modkit_module_entry") after the module's file
// passed every static check. Receives the host's ABI version so a module may decline by
// returning NULL. A function, not data: dlsym is only guaranteed for functions.
// [main-thread]
typedef const modkit_module *(MODKIT_ABI *modkit_module_entry_fn)(uint16_t host_abi_major,
                                                                  uint16_t host_abi_minor);

#define MODKIT_ENTRY_SYMBOL "modkit_module_entry"

MODKIT_EXTERN_C_END
