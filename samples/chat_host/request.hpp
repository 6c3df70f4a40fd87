// request.hpp - one client request as the router sees it, whatever carried it (HTTP, a scenario
// step, a test), and the URL decoding every carrier shares.
#pragma once

#include <map>
#include <string>

namespace chat {

struct Request {
   std::string method = "GET";
   std::string path = "/";
   std::string raw_query;                      // without '?'
   std::map<std::string, std::string> query;   // decoded
   std::map<std::string, std::string> headers; // lower-case names
   std::string body;
   std::string remote_addr = "127.0.0.1";
   bool admin_listener = false; // arrived on the loopback admin listener (host_config: admin_listen)
   // The carrier reads Response::trace (the scenario runner, tests). The HTTP server does not:
   // its requests record only the trace's notes, not every module's answer.
   bool traced = true;
   // Long polling (/sync with a timeout). may_hold: the carrier can keep the request waiting
   // without a thread (the HTTP server's event loop); otherwise the handler waits on its own
   // thread. poll_deadline_ms: when the wait ends (wall clock), once a first run has set it.
   bool may_hold = false;
   int64_t poll_deadline_ms = 0;
};

// "%41b" -> "Ab". Malformed escapes stay as they are. The result may be any bytes: callers check
// it (check_path_param, check_request_text) before using it.
std::string percent_decode(const std::string &text);
// "a=1&b=%20" -> {a: 1, b: " "}; '+' is a space; the first of repeated keys wins.
std::map<std::string, std::string> parse_query(const std::string &raw);

} // namespace chat
