// http_request.cpp - HTTP/1.1 request framing over Boost.Beast's parser (RFC 9112), with the
// checks Beast leaves to its user: header count, target length, per-target body limits and the
// ambiguous framings a proxy in front could read differently (request smuggling).
#include "http_request.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace chat {

namespace http = boost::beast::http;

namespace {

std::string lower(std::string text) {
   std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
   return text;
}

} // namespace

uint64_t body_limit_for(const std::string &target, const Limits &limits, uint64_t upload_limit) {
   const bool upload = target.compare(0, 15, "/_matrix/media/") == 0 && target.find("/upload") != std::string::npos;
   return upload ? upload_limit : limits.max_body_size;
}

struct HttpRequestReader::Impl {
   const Limits &limits;
   uint64_t upload_limit;
   std::optional<http::request_parser<http::string_body>> parser;
   bool started = false, head_checked = false;
   HttpRefusal refusal;

   Impl(const Limits &l, uint64_t upload) : limits(l), upload_limit(upload) { reset(); }

   void reset() {
      parser.emplace();
      parser->header_limit(static_cast<std::uint32_t>(std::min<uint64_t>(limits.max_header_bytes, UINT32_MAX)));
      // The head may name an upload; the limit per target is set once the target is known.
      parser->body_limit(std::max(limits.max_body_size, upload_limit));
      parser->eager(false); // stop after the head, so it is checked before any body byte is taken
      started = head_checked = false;
      refusal = {};
   }

   Progress refuse(int status, std::string errcode, std::string message) {
      refusal = {status, std::move(errcode), std::move(message)};
      return Progress::refused;
   }

   Progress refuse(const boost::system::error_code &ec) {
      if (ec == http::error::header_limit)
         return refuse(431, "M_TOO_LARGE", "Request header fields too large: at most " + std::to_string(limits.max_header_bytes) + " bytes");
      if (ec == http::error::body_limit) return refuse(413, "M_TOO_LARGE", "Request body too large");
      return refuse(400, "M_UNKNOWN", "Malformed HTTP request");
   }

   // The head is in: what Beast does not check.
   Progress check_head() {
      const auto &message = parser->get();
      const std::string target(message.target());
      if (target.size() > limits.max_request_line)
         return refuse(414, "M_TOO_LARGE", "Request target too long: at most " + std::to_string(limits.max_request_line) + " bytes");
      if (target.empty() || target[0] != '/') return refuse(400, "M_UNKNOWN", "The request target must be a path");
      if (message.version() != 11 && message.version() != 10) return refuse(505, "M_UNKNOWN", "HTTP/1.1 only");
      const auto fields = static_cast<size_t>(std::distance(message.begin(), message.end()));
      if (fields > limits.max_header_count)
         return refuse(431, "M_TOO_LARGE", "Too many header fields: at most " + std::to_string(limits.max_header_count));
      const auto lengths = message.count(http::field::content_length);
      const auto codings = message.count(http::field::transfer_encoding);
      // Any of these could frame the body one way here and another way in a proxy.
      if (lengths > 1 || codings > 1 || (lengths && codings))
         return refuse(400, "M_UNKNOWN", "Ambiguous framing: one Content-Length or one Transfer-Encoding, not both");
      if (codings && lower(std::string(message[http::field::transfer_encoding])) != "chunked")
         return refuse(400, "M_UNKNOWN", "Only the chunked transfer coding is accepted");
      const uint64_t limit = body_limit_for(target, limits, upload_limit);
      if (const auto length = parser->content_length(); length && *length > limit)
         return refuse(413, "M_TOO_LARGE", "Request body too large: at most " + std::to_string(limit) + " bytes");
      parser->body_limit(limit);
      parser->eager(true);
      head_checked = true;
      return Progress::head_done;
   }

   Progress feed(std::string &buffer) {
      while (!parser->is_done()) {
         if (buffer.empty()) return Progress::need_more;
         boost::system::error_code ec;
         const size_t used = parser->put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
         if (used) started = true;
         buffer.erase(0, used);
         if (ec && ec != http::error::need_more) return refuse(ec);
         if (parser->is_header_done() && !head_checked) return check_head();
         if (ec == http::error::need_more || used == 0) {
            // Beast wants a whole line (a head, a chunk header) in one piece: what waits for its end
            // is bounded by the head limit, so a line that never ends cannot grow without bound.
            if (buffer.size() > limits.max_header_bytes)
               return parser->is_header_done() ? refuse(400, "M_UNKNOWN", "Malformed chunked body")
                                               : refuse(http::error::header_limit);
            return Progress::need_more;
         }
      }
      return Progress::done;
   }
};

HttpRequestReader::HttpRequestReader(const Limits &limits, uint64_t upload_limit)
   : impl_(std::make_unique<Impl>(limits, upload_limit)) {}
HttpRequestReader::~HttpRequestReader() = default;

HttpRequestReader::Progress HttpRequestReader::feed(std::string &buffer) { return impl_->feed(buffer); }
bool HttpRequestReader::started() const { return impl_->started; }
const HttpRefusal &HttpRequestReader::refusal() const { return impl_->refusal; }
void HttpRequestReader::reset() { impl_->reset(); }

bool HttpRequestReader::expects_continue() const {
   const auto &message = impl_->parser->get();
   return lower(std::string(message[http::field::expect])) == "100-continue" && !impl_->parser->is_done();
}

bool HttpRequestReader::keep_alive() const { return impl_->parser->get().keep_alive(); }

Request HttpRequestReader::request(const std::string &remote_addr) const {
   const auto &message = impl_->parser->get();
   Request r;
   r.method = std::string(message.method_string());
   // The raw target keeps percent-escapes: the router decodes each path parameter once.
   const std::string target(message.target());
   const auto q = target.find('?');
   r.path = target.substr(0, q);
   r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
   r.query = parse_query(r.raw_query);
   for (const auto &field : message) r.headers[lower(std::string(field.name_string()))] = std::string(field.value());
   r.body = message.body();
   r.remote_addr = remote_addr;
   return r;
}

} // namespace chat
