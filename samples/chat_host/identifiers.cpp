// identifiers.cpp - Matrix identifier grammar (spec: Appendices, "Identifier Grammar").
#include "identifiers.hpp"

#include "matrix_error.hpp"
#include "request.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <cctype>

namespace chat {

namespace {

bool printable_ascii(std::string_view text) {
   return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// sigil + opaque + ':' + server, the shape room IDs and aliases share.
bool sigil_and_server(std::string_view id, char sigil, size_t max) {
   if (id.size() < 4 || id.size() > max || id[0] != sigil) return false;
   const auto colon = id.find(':');
   return colon != std::string_view::npos && colon > 1 && valid_server_name(id.substr(colon + 1));
}

[[noreturn]] void refuse(const std::string &what) { throw MatrixError(400, "M_INVALID_PARAM", what); }

} // namespace

std::string server_of(const std::string &id) {
   const auto colon = id.find(':');
   return colon == std::string::npos ? std::string() : id.substr(colon + 1);
}

bool valid_localpart(const std::string &localpart) {
   if (localpart.empty() || localpart.size() > 255) return false;
   return std::all_of(localpart.begin(), localpart.end(), [](unsigned char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' || c == '-' ||
             c == '/' || c == '+';
   });
}

bool valid_user_id(const std::string &user_id) {
   if (user_id.size() < 4 || user_id.size() > 255 || user_id[0] != '@') return false;
   const auto colon = user_id.find(':');
   if (colon == std::string::npos || !valid_server_name(std::string_view(user_id).substr(colon + 1))) return false;
   return valid_localpart(user_id.substr(1, colon - 1));
}

bool valid_name(std::string_view text, size_t max, bool allow_empty) {
   if (text.empty()) return allow_empty;
   if (text.size() > max || !valid_utf8(text)) return false;
   return std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool valid_server_name(std::string_view name) {
   if (name.empty() || name.size() > 255) return false;
   std::string_view host = name;
   if (host[0] == '[') { // an IPv6 literal
      const auto close = host.find(']');
      if (close == std::string_view::npos || close < 2) return false;
      const std::string_view inside = host.substr(1, close - 1);
      if (!std::all_of(inside.begin(), inside.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }))
         return false;
      host = host.substr(close + 1);
      if (host.empty()) return true;
      if (host[0] != ':') return false;
      host = host.substr(1);
      return !host.empty() && host.size() <= 5 && host.find_first_not_of("0123456789") == std::string_view::npos;
   }
   const auto colon = host.find(':');
   if (colon != std::string_view::npos) {
      const std::string_view port = host.substr(colon + 1);
      if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
      host = host.substr(0, colon);
   }
   // ASCII classes by hand: std::isalnum asks the locale for every character.
   return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
   });
}

bool valid_room_id(std::string_view id, size_t max) { return printable_ascii(id) && sigil_and_server(id, '!', max); }

bool valid_event_id(std::string_view id, size_t max) {
   return id.size() >= 2 && id.size() <= max && id[0] == '$' && printable_ascii(id);
}

bool valid_room_alias(std::string_view alias, size_t max) {
   return valid_name(alias, max) && sigil_and_server(alias, '#', max);
}

bool valid_event_type(std::string_view type, size_t max) { return valid_name(type, max); }

bool valid_state_key(std::string_view key, size_t max) { return valid_name(key, max, true); }

void check_path_param(const std::string &name, const std::string &value, const Limits &limits) {
   const size_t max = limits.max_identifier_length;
   bool ok = false;
   if (name == "room_id") ok = valid_room_id(value, max);
   else if (name == "room") ok = valid_room_id(value, max) || valid_room_alias(value, max);
   else if (name == "room_alias") ok = valid_room_alias(value, max);
   else if (name == "user_id") ok = value.size() <= max && valid_user_id(value);
   else if (name == "event_type" || name == "type") ok = valid_event_type(value, max);
   else if (name == "state_key") ok = valid_state_key(value, max);
   else if (name == "server_name") ok = valid_server_name(value);
   else ok = valid_name(value, max); // txn_id, media_id, module and cache names
   if (!ok)
      refuse("Invalid " + name + ": it must be valid UTF-8 of at most " + std::to_string(max) +
             " bytes in the Matrix grammar for it");
}

void check_path_params(const std::map<std::string, std::string> &params, const Limits &limits) {
   for (const auto &[name, value] : params) check_path_param(name, value, limits);
}

void check_request_text(const Request &request) {
   if (!valid_utf8(percent_decode(request.path))) refuse("The request path is not valid UTF-8");
   for (const auto &[key, value] : request.query)
      if (!valid_utf8(key) || !valid_utf8(value)) refuse("A query parameter is not valid UTF-8");
   for (const auto &[name, value] : request.headers)
      if (!valid_utf8(name) || !valid_utf8(value)) refuse("A header value is not valid UTF-8");
}

} // namespace chat
