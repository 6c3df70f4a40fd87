// modkit/sdk/web.hpp - the request and response a web resource handler receives.
//
//    api.register_web_resource("/_modkit/hello", [](const modkit::Request &request,
//                                                   modkit::Response &response) {
//       response.send_json({{"hello", request.query_param("name").value_or("world")}});
//    });
#pragma once

#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/host.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modkit {

// A request routed to one of the module's web resources: views of host-owned bytes.
// Thread rule: valid only until the handler returns; read it from any thread until then.
class Request {
public:
   explicit Request(const modkit_http_request *request) noexcept : request_(request) {}

   std::string_view method() const noexcept { return to_view(request_->method); }
   std::string_view path() const noexcept { return to_view(request_->path); }
   // The raw query string, without '?'.
   std::string_view query() const noexcept { return to_view(request_->query); }
   std::string_view body() const noexcept { return to_view(request_->body); }
   // The authenticated user, or nullopt for an anonymous request.
   std::optional<std::string_view> user_id() const noexcept {
      return to_optional_view(request_->user_id);
   }
   // Every header, as the host's JSON object of lower-case name -> value.
   std::string_view headers_json() const noexcept { return to_view(request_->headers_json); }

   // One header's value (the name is matched case-insensitively), or nullopt.
   std::optional<std::string> header(std::string_view name) const {
      const nlohmann::json headers = nlohmann::json::parse(headers_json(), nullptr, false);
      if (!headers.is_object()) return std::nullopt;
      std::string key(name);
      for (char &c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto it = headers.find(key);
      if (it == headers.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
   }

   // The first value of a query parameter, percent-decoded ('+' reads as a space), or nullopt.
   std::optional<std::string> query_param(std::string_view name) const {
      std::string_view rest = query();
      while (!rest.empty()) {
         const size_t amp = rest.find('&');
         const std::string_view pair = rest.substr(0, amp);
         rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
         const size_t eq = pair.find('=');
         if (decode(pair.substr(0, eq)) != name) continue;
         return eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
      }
      return std::nullopt;
   }

   const modkit_http_request *get() const noexcept { return request_; }

private:
   static int hex_digit(char c) noexcept {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
   }

   // Malformed escapes are kept as they are rather than refused: lenient, like most servers.
   static std::string decode(std::string_view s) {
      std::string out;
      out.reserve(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
         if (s[i] == '+') {
            out += ' ';
         } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 &&
                    hex_digit(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
         } else {
            out += s[i];
         }
      }
      return out;
   }

   const modkit_http_request *request_;
};

// The response being built; every write goes straight to the host.
// Thread rule: valid only until the handler returns; one thread at a time.
class Response {
public:
   Response(const modkit_host_api *api, modkit_http_response *response) noexcept
      : api_(api), response_(response) {}

   // The HTTP status (the host's default is 200).
   void set_status(int32_t status) { api_->response_set_status(response_, status); }

   // Adds a header; Error(MODKIT_E_INVALID_ARGUMENT) for a name or value containing CR or LF.
   void add_header(std::string_view name, std::string_view value) {
      check(api_->response_add_header(response_, to_modkit_str(name), to_modkit_str(value)),
            "add a response header");
   }

   // Appends bytes to the body.
   void write(std::string_view bytes) {
      check(api_->response_append(response_, bytes.data(), bytes.size()), "write the response body");
   }

   // Sets the status and content type and writes value as the body. Strings that are not
   // valid UTF-8 (a module echoing bytes it was given, say) are sent with U+FFFD in place of
   // each bad sequence rather than throwing: the answer stays valid JSON.
   void send_json(const nlohmann::json &value, int32_t status = 200) {
      set_status(status);
      add_header("content-type", "application/json");
      write(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
   }

   modkit_http_response *get() const noexcept { return response_; }

private:
   static void check(modkit_status status, const char *what) {
      if (status != MODKIT_OK)
         throw Error(status, std::string("could not ") + what + ": " + modkit_status_name(status));
   }

   const modkit_host_api *api_;
   modkit_http_response *response_;
};

// A web resource handler: (const Request &, Response &), optionally preceded by Call &.
// Thread rule: the host may run it on several threads at once.
using WebHandler = Callback<void(const Request &, Response &)>;

} // namespace modkit
