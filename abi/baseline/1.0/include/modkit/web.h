// modkit/web.h - HTTP resources a module serves through the host.
#pragma once

#include "call.h"
#include "status.h"
#include "str.h"

MODKIT_EXTERN_C_BEGIN

// A request routed to a module's web resource. Owned by the host; every field is valid only
// until the handler returns.
typedef struct modkit_http_request {
   uint32_t struct_size;   // sizeof(modkit_http_request) as compiled into the host
   modkit_str method;      // "GET", "POST", ...
   modkit_str path;        // the full request path, e.g. "/_modkit/hello/world"
   modkit_str query;       // the raw query string without '?', possibly empty
   modkit_str headers_json;// JSON object of header name (lower case) -> value
   modkit_str body;        // raw request body bytes
   modkit_str user_id;     // the authenticated user, absent ({NULL, 0}) for anonymous requests
} modkit_http_request;

// The response being built; written only through modkit_host_api's response_* functions.
// Owned by the host; valid until the handler returns.
typedef struct modkit_http_response modkit_http_response;

// Handles one request. Return MODKIT_OK after writing the response; any other status makes the
// host answer 500 with a generic body (the module's message is logged, not sent to the client).
// [thread-safe]: a host may serve several requests at once.
typedef modkit_status(MODKIT_ABI *modkit_web_handler)(void *user_data, modkit_call *call,
                                                      const modkit_http_request *request,
                                                      modkit_http_response *response);

MODKIT_EXTERN_C_END
