// modkit/host.h - the table of host functions a module calls.
#pragma once

#include "cache.h"
#include "call.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "version.h"
#include "web.h"

MODKIT_EXTERN_C_BEGIN

// Opaque handles, all owned by the host.
typedef struct modkit_host modkit_host;             // one per loaded module instance
typedef struct modkit_buffer modkit_buffer;         // a growable output buffer
typedef struct modkit_error_sink modkit_error_sink; // collects structured errors

// True when the struct p points at is long enough to contain field. A reader must check this
// before reading any field that was appended after ABI 1.0.
#define MODKIT_HAS_FIELD(p, type, field) \
   ((p)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

// The host API. Passed to parse_config and init; owned by the host and valid until the
// module's deinit returns. Fields are only ever appended: never reorder, never remove.
// Strings passed as const char * are NUL-terminated UTF-8, read during the call only.
typedef struct modkit_host_api {
   uint32_t struct_size; // sizeof(modkit_host_api) as compiled into the host
   uint16_t abi_major;   // the host's MODKIT_ABI_VERSION_MAJOR
   uint16_t abi_minor;   // the host's MODKIT_ABI_VERSION_MINOR

   // ---- errors and output buffers (ABI 1.0) ----

   // Records one error. code is a modkit_status; json_pointer (RFC 6901) locates the offending
   // value relative to the module's own config ("" or NULL for the whole config); message says
   // what was expected and what was found. May be called several times to report several
   // errors. The host copies everything before returning.
   // [thread-safe]
   void(MODKIT_ABI *report_error)(modkit_error_sink *sink, modkit_status code,
                                  const char *json_pointer, const char *message);

   // Appends size bytes to a host-owned buffer. Returns MODKIT_E_NO_MEMORY if it cannot grow.
   // The module never frees or keeps the buffer.
   // [thread-safe] for distinct buffers
   modkit_status(MODKIT_ABI *buffer_append)(modkit_buffer *buffer, const char *data, size_t size);

   // ---- logging (ABI 1.0) ----

   // Writes one log line attributed to this module. message need not be NUL-terminated.
   // [thread-safe]
   void(MODKIT_ABI *log)(modkit_host *host, modkit_log_level level, modkit_str message);

   // ---- the per-call handle (ABI 1.0) ----

   // The request ID the host assigned to this call, for logs and traces; may be empty.
   // Valid until the callback returns.
   // [thread-safe]
   modkit_str(MODKIT_ABI *call_request_id)(const modkit_call *call);

   // The call's deadline as CLOCK_MONOTONIC nanoseconds, or 0 when it has none.
   // [thread-safe]
   int64_t(MODKIT_ABI *call_deadline_ns)(const modkit_call *call);

   // True once the host has cancelled the call; a long callback should poll it and return
   // MODKIT_E_CANCELLED.
   // [thread-safe]
   bool(MODKIT_ABI *call_is_cancelled)(const modkit_call *call);

   // ---- registration: only during init (ABI 1.0) ----
   // Registrations made during a failed init are discarded. After init returns, every
   // register_* function returns MODKIT_E_STATE and changes nothing.

   // Registers callbacks for a category. callbacks points at the category's callbacks struct,
   // whose first field is uint32_t struct_size; a null slot means "not implemented". The host
   // copies the struct, so it need not outlive the call. user_data is passed back to every
   // callback and must stay valid until deinit. Returns MODKIT_E_NOT_FOUND for a category the
   // host lacks or the module's manifest does not declare, MODKIT_E_VERSION_MISMATCH for
   // another major or for a set slot the host's version of the category lacks,
   // MODKIT_E_CONFLICT if this module already registered this category.
   // Category headers wrap this in a typed modkit_register_<category>_callbacks().
   // [init-only]
   modkit_status(MODKIT_ABI *register_callbacks)(modkit_host *host, const char *category_id,
                                                 uint16_t category_major, uint16_t category_minor,
                                                 const void *callbacks, void *user_data);

   // Serves handler at path (absolute, normalised, outside the host's reserved prefixes).
   // If another module registered the same path first, the first keeps it and this call
   // returns MODKIT_E_CONFLICT. user_data must stay valid until deinit.
   // [init-only]
   modkit_status(MODKIT_ABI *register_web_resource)(modkit_host *host, const char *path,
                                                    modkit_web_handler handler, void *user_data);

   // Makes a module cache known to the host under name (unique within the module), so the
   // host or another module can invalidate it. user_data must stay valid until deinit.
   // [init-only]
   modkit_status(MODKIT_ABI *register_cached_function)(modkit_host *host, const char *name,
                                                       modkit_cache_invalidate_fn invalidate,
                                                       void *user_data);

   // ---- services available at any time after init (ABI 1.0) ----

   // Invalidates a cached function registered by module_name (NULL: this module) under name.
   // key_json is the JSON array key, or NULL for every entry. MODKIT_E_NOT_FOUND if unknown.
   // [thread-safe]
   modkit_status(MODKIT_ABI *invalidate_cache)(modkit_host *host, const char *module_name,
                                               const char *name, const modkit_str *key_json);

   // Sets the HTTP status of a response (default 200).
   // [thread-safe] for distinct responses
   void(MODKIT_ABI *response_set_status)(modkit_http_response *response, int32_t status);

   // Adds a response header. MODKIT_E_INVALID_ARGUMENT for a name or value with CR or LF.
   // [thread-safe] for distinct responses
   modkit_status(MODKIT_ABI *response_add_header)(modkit_http_response *response,
                                                  modkit_str name, modkit_str value);

   // Appends bytes to the response body.
   // [thread-safe] for distinct responses
   modkit_status(MODKIT_ABI *response_append)(modkit_http_response *response, const char *data,
                                              size_t size);

   // True when the host offers the capability with this versioned ID, e.g. a category
   // ("modkit.spam_checker/1") or a facility ("modkit.web_resources/1",
   // "modkit.cached_functions/1").
   // [thread-safe]
   bool(MODKIT_ABI *has_capability)(modkit_host *host, const char *capability_id);

   // Returns the host-specific service with this versioned ID ("vendor.name/2"), or NULL.
   // The pointer is owned by the host and valid until deinit returns.
   // [thread-safe]
   const void *(MODKIT_ABI *get_extension)(modkit_host *host, const char *extension_id);

   // ---- asynchronous completion (ABI 1.1; check MODKIT_HAS_FIELD before use) ----
   // The protocol (docs/abi.md): a callback may return MODKIT_PENDING only when
   // call_can_suspend(call) is true. It then owns the duty to call call_complete(call, status)
   // exactly once, from any thread, after writing its outputs; until then the call handle and
   // every output pointer and buffer it received stay valid. Completing before the callback has
   // returned MODKIT_PENDING is allowed. A call the host cancels (call_is_cancelled) or whose
   // deadline passes is still completed, with MODKIT_E_CANCELLED if nothing better is known.

   // True when the host that made this call accepts MODKIT_PENDING from the callback receiving
   // it. False for calls made the 1.0 way: the callback must then answer before returning.
   // [thread-safe]; valid until the callback returns
   bool(MODKIT_ABI *call_can_suspend)(const modkit_call *call);

   // Completes a call its callback suspended, with the callback's final status (never
   // MODKIT_PENDING); outputs must be written before. The host may resume its dispatch on the
   // calling thread before this returns, so call it holding no lock the next callback could
   // need. Returns MODKIT_E_STATE, and changes nothing, for a call that is not suspended (it was
   // completed already, or answered synchronously) and MODKIT_E_INVALID_ARGUMENT for a call
   // that cannot suspend; the host logs both.
   // [thread-safe]; once per suspended call
   modkit_status(MODKIT_ABI *call_complete)(modkit_call *call, modkit_status status);

   // ---- richer answers (ABI 1.1; check MODKIT_HAS_FIELD before use) ----

   // Attaches an error to the answer this call gives, for a callback that denies: errcode is a
   // machine-readable code ("M_FORBIDDEN": [A-Z0-9_]+, at most 64 bytes), message a sentence for
   // the client, extra_json a JSON object of further fields ({"retry_after_ms": 500}) or absent.
   // A host that knows of it sends them to the client with the denial (the chat host: as
   // Synapse does for a module that returns (Codes, dict) or raises SynapseError); a host that
   // does not ignores them, and the answer itself is unchanged. Call it before returning, or
   // before call_complete for a suspended call; a later call replaces an earlier one. Everything
   // is copied. MODKIT_E_INVALID_ARGUMENT for a malformed errcode or extra_json that is not a
   // JSON object; MODKIT_E_UNSUPPORTED when the host keeps no errors for this call.
   // [thread-safe]; while the call is the callback's (before its answer or completion)
   modkit_status(MODKIT_ABI *call_set_error)(modkit_call *call, modkit_str errcode, modkit_str message,
                                             modkit_str extra_json);
} modkit_host_api;

MODKIT_EXTERN_C_END
