// modkit/services/storage.h - SQL storage (ABI 1.1), Synapse's run_db_interaction for native
// modules.
//
// Reached with get_extension(host, MODKIT_STORAGE_ID) and announced by has_capability. The
// loader's default keeps one SQLite database per host (the host config's
// "services": {"storage": {"path": ...}}); a host may replace it, e.g. with PostgreSQL
// (docs/services.md). So that a module's SQL runs on either:
// - parameters are positional ("?" in the text, numbered in order), given as a JSON array of
//   null, booleans, numbers and strings;
// - rows come back as JSON objects, column name -> value (null, number or string);
// - a module uses only tables whose names start with its prefix (table_prefix); anything else,
//   and ATTACH, PRAGMA and transaction statements (use batch), is MODKIT_E_DENIED.
#pragma once

#include "../host.h"
#include "../status.h"
#include "../str.h"

MODKIT_EXTERN_C_BEGIN

#define MODKIT_STORAGE_ID "modkit.storage/1"

// Called exactly once per accepted execute or batch, on a service thread (for work cancelled by
// unloading the module: on the thread that unloads it, before its deinit), never inside the call
// that started it. On MODKIT_OK, result_json is the answer (see execute and batch); otherwise
// result_json is absent and message says what failed and where: MODKIT_E_DENIED (a table
// outside the module's prefix, a statement kind the service refuses), MODKIT_E_INVALID_ARGUMENT
// (SQL that does not parse, parameters that do not match), MODKIT_E_CONFLICT (a constraint
// failed), MODKIT_E_CANCELLED (the module is being unloaded), MODKIT_E_INTERNAL (the database).
// Both strings are owned by the host and valid during the call only.
typedef void(MODKIT_ABI *modkit_storage_done_fn)(void *user_data, modkit_status status,
                                                 modkit_str result_json, const char *message);

typedef struct modkit_storage_api {
   uint32_t struct_size; // sizeof(modkit_storage_api) as compiled into the host

   // ---- since 1.1 ----

   // The prefix every table (and index) of this module must start with: the module's name in
   // lower case with each run of characters other than [a-z0-9] replaced by one '_', then "__"
   // ("spam_filter" -> "spam_filter__"); no module's prefix starts another's. NUL-terminated,
   // owned by the host, valid until deinit.
   // [thread-safe]
   const char *(MODKIT_ABI *table_prefix)(modkit_host *host);

   // Runs one statement with params_json (a JSON array; absent or "[]" for none).
   // result_json is {"rows": [{column: value, ...}, ...], "changes": N}. Returns MODKIT_PENDING
   // when queued (done will be called; user_data must stay valid until then), or, with done
   // never called: MODKIT_E_INVALID_ARGUMENT (null sql or done, params not a JSON array;
   // a malformed array is answered through done),
   // MODKIT_E_STATE (before init or after deinit began).
   // [thread-safe]; statements of one module run in the order they were accepted
   modkit_status(MODKIT_ABI *execute)(modkit_host *host, modkit_str sql, modkit_str params_json,
                                      modkit_storage_done_fn done, void *user_data);

   // Runs several statements as one transaction: all apply, or none does. statements_json is
   // [{"sql": "...", "params": [...]}, ...]; result_json is an array of the execute results in
   // order. The first failing statement rolls everything back; message names its index.
   // Returns as execute does.
   // [thread-safe]
   modkit_status(MODKIT_ABI *batch)(modkit_host *host, modkit_str statements_json,
                                    modkit_storage_done_fn done, void *user_data);
} modkit_storage_api;

MODKIT_EXTERN_C_END
