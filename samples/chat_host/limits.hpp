// limits.hpp - how much of anything a client may send, checked where input enters (the HTTP
// parser, the router, the JSON reader, the event path) before anything is stored or any module
// is called. Every value is a setting under "limits" in the host config (host_config.cpp);
// docs/chat-host.md lists them with their defaults and the reasons for them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chat {

struct Limits {
   // ---- HTTP framing (http_request.cpp, http_server.cpp) ----
   size_t max_request_line = 8 * 1024;   // method, target and version; 414 above
   size_t max_header_bytes = 16 * 1024;  // request line and every header line together; 431 above
   size_t max_header_count = 100;        // header fields; 431 above
   uint64_t max_body_size = 1024 * 1024; // any body but a media upload (chunked or not); 413 above
   // A media upload may be as large as the config's max_upload_size.

   // ---- connections (http_server.cpp) ----
   uint64_t request_timeout_ms = 30'000; // a whole request (head and body) must arrive within this
   uint64_t idle_timeout_ms = 60'000;    // a kept-alive connection may wait this long for its next request
   uint64_t write_timeout_ms = 30'000;   // a response must be taken within this
   size_t max_connections = 1024;        // open client connections; more are closed at once
   size_t worker_threads = 8;            // requests that may wait on modules while the loop goes on (loop_threads.hpp)

   // ---- JSON and Matrix grammar (json_limits.cpp, identifiers.cpp) ----
   size_t max_json_depth = 64;       // nesting of arrays and objects in a request body; M_BAD_JSON
   uint64_t max_json_size = 256 * 1024; // a JSON request body; M_TOO_LARGE (413)
   size_t max_event_size = 65'536;   // an event as a PDU, serialised (the Matrix spec's limit); M_TOO_LARGE
   size_t max_identifier_length = 255; // user, room and event IDs, aliases, event types, state keys,
                                       // account data types, transaction IDs (the spec's 255 bytes)
};

} // namespace chat
