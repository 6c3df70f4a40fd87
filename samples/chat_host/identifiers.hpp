// identifiers.hpp - the Matrix grammar of what names things: user, room and event IDs, room
// aliases, server names, event types, state keys and the other short names a client puts in a
// URL. Each is at most Limits::max_identifier_length bytes (the spec's 255) and valid UTF-8, so it
// can be stored, served back and handed to any module.
#pragma once

#include "limits.hpp"

#include <map>
#include <string>
#include <string_view>

namespace chat {

struct Request;

// Server name of a Matrix ID ("@a:example.org" -> "example.org"); empty when malformed.
std::string server_of(const std::string &id);
// The spec's user ID localpart: a-z, 0-9, "._=-/+", 1 to 255 bytes.
bool valid_localpart(const std::string &localpart);
// "@localpart:server", at most 255 bytes.
bool valid_user_id(const std::string &user_id);
// Valid UTF-8, at most max bytes, no control character (C0, DEL); empty only when allow_empty.
bool valid_name(std::string_view text, size_t max, bool allow_empty = false);
// "example.org", "example.org:8448", "1.2.3.4", "[::1]:8448".
bool valid_server_name(std::string_view name);
bool valid_room_id(std::string_view id, size_t max);    // "!opaque:server", printable ASCII
bool valid_event_id(std::string_view id, size_t max);   // "$opaque" (room v4+) or "$opaque:server"
bool valid_room_alias(std::string_view alias, size_t max); // "#name:server"
bool valid_event_type(std::string_view type, size_t max);  // non-empty name
bool valid_state_key(std::string_view key, size_t max);    // a name, may be empty

// Throws MatrixError(400, M_INVALID_PARAM) unless the decoded path parameter fits its grammar
// (chosen by the route's placeholder name: room_id, user_id, event_type, state_key, ...).
void check_path_param(const std::string &name, const std::string &value, const Limits &limits);
void check_path_params(const std::map<std::string, std::string> &params, const Limits &limits);
// Throws MatrixError(400, M_INVALID_PARAM) unless the path, the query and every header value are
// valid UTF-8: they reach modules and logs, and may be echoed in errors.
void check_request_text(const Request &request);

} // namespace chat
