// modkit/services/http.h - an asynchronous HTTP client (ABI 1.1), Synapse's
// ModuleApi.http_client for native modules.
//
// Reached with get_extension(host, MODKIT_HTTP_ID) and announced by has_capability. The
// loader provides it to every module (on libcurl); a host may replace it (docs/services.md).
//
// Default-deny: a module reaches only the URL prefixes its host config grants it
// ("permissions": {"http": ["https://int.example.com/"]} beside its "config"). Anything else
// fails with MODKIT_E_DENIED before a socket opens. Only http and https, TLS peers verified.
#pragma once

#include "../host.h"
#include "../status.h"
#include "../str.h"

MODKIT_EXTERN_C_BEGIN

#define MODKIT_HTTP_ID "modkit.http/1"

// One header line. Borrowed: valid as long as the struct holding it.
typedef struct modkit_http_header {
   modkit_str name;
   modkit_str value;
} modkit_http_header;

// Flags of a request.
enum {
   MODKIT_HTTP_FOLLOW_REDIRECTS = 1u << 0, // follow up to 5 redirects, each target checked
                                           // against the module's grants as the first URL
};

// A request. Everything it points at is read during request() only (the host copies it).
typedef struct modkit_http_client_request {
   uint32_t struct_size;              // sizeof(modkit_http_client_request) as compiled into the module
   uint32_t flags;                    // MODKIT_HTTP_* flags
   const char *method;                // "GET", "POST", ... (NULL: "GET")
   const char *url;                   // absolute http:// or https:// URL
   const modkit_http_header *headers; // may be NULL when header_count is 0
   size_t header_count;
   modkit_str body;                   // sent as is; absent: no body
   uint32_t timeout_ms;               // the whole exchange, connect to last byte; 0: 30,000
   uint32_t max_response_bytes;       // the body beyond this fails the request; 0: 8 MiB
} modkit_http_client_request;

// The answer. Owned by the host; valid only during the done callback that receives it.
typedef struct modkit_http_client_response {
   uint32_t struct_size;              // sizeof(modkit_http_client_response) as compiled into the host
   int32_t status;                    // the HTTP status code, e.g. 200 (also 4xx and 5xx)
   const modkit_http_header *headers; // of the final response, in order received
   size_t header_count;
   modkit_str body;
} modkit_http_client_response;

// Called exactly once per request that request() accepted, on a service thread, never inside
// request(). status is MODKIT_OK when a response arrived (whatever its HTTP status; response
// is then set), else response is NULL and status says why: MODKIT_E_TIMEOUT (timeout_ms
// passed), MODKIT_E_CANCELLED (cancel, or the module is being unloaded), MODKIT_E_DENIED (a
// redirect to a URL not granted), MODKIT_E_NO_MEMORY (the body exceeded max_response_bytes),
// MODKIT_E_UNSUPPORTED (a redirect without MODKIT_HTTP_FOLLOW_REDIRECTS: response is set, with
// the 3xx status), MODKIT_E_INTERNAL (connection refused or reset, DNS, TLS; message says).
// message is a NUL-terminated explanation ("" on success), valid during the call only.
typedef void(MODKIT_ABI *modkit_http_done_fn)(void *user_data, modkit_status status,
                                              const modkit_http_client_response *response,
                                              const char *message);

typedef struct modkit_http_api {
   uint32_t struct_size; // sizeof(modkit_http_api) as compiled into the host

   // ---- since 1.1 ----

   // Starts request. Returns MODKIT_PENDING when started (done will be called, user_data must
   // stay valid until then), or, with done never called: MODKIT_E_DENIED (URL not granted to
   // this module, or not http/https), MODKIT_E_INVALID_ARGUMENT (malformed URL, method or
   // header; null request or done), MODKIT_E_STATE (before init or after deinit began).
   // *out_id receives an ID for cancel (may be NULL). Requests still running when the module
   // is unloaded are cancelled and their done called before its deinit.
   // [thread-safe]
   modkit_status(MODKIT_ABI *request)(modkit_host *host, const modkit_http_client_request *request,
                                      modkit_http_done_fn done, void *user_data, uint64_t *out_id);

   // Cancels a request: its done receives MODKIT_E_CANCELLED soon after, unless it was already
   // under way. MODKIT_E_NOT_FOUND for an ID this module does not hold or that has finished.
   // Never waits.
   // [thread-safe]
   modkit_status(MODKIT_ABI *cancel)(modkit_host *host, uint64_t id);
} modkit_http_api;

MODKIT_EXTERN_C_END
