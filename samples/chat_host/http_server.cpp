// http_server.cpp - cpp-httplib requests in, router responses out.
#include "http_server.hpp"

#include "app.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>

namespace chat {

struct HttpServer::Impl {
   App &app;
   httplib::Server server;

   explicit Impl(App &a) : app(a) {
      // Big enough for the largest upload the host accepts; httplib answers 413 above it.
      server.set_payload_max_length(static_cast<size_t>(app.config().max_upload_size) + 64 * 1024);
      server.set_read_timeout(30, 0);
      server.set_write_timeout(30, 0);
      // Without it, Nagle's algorithm holds each kept-alive response back for the client's
      // delayed ACK: 40 ms per request.
      server.set_tcp_nodelay(true);
      auto handler = [this](const httplib::Request &req, httplib::Response &res) { serve(req, res); };
      const char *any = R"(/.*)";
      server.Get(any, handler);
      server.Post(any, handler);
      server.Put(any, handler);
      server.Delete(any, handler);
      server.Options(any, handler);
   }

   void serve(const httplib::Request &req, httplib::Response &res) {
      Request r;
      r.method = req.method;
      // The raw target keeps percent-escapes: the router decodes each path parameter once.
      const std::string target = req.target.empty() ? req.path : req.target;
      const auto q = target.find('?');
      r.path = target.substr(0, q);
      r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
      r.query = parse_query(r.raw_query);
      for (const auto &[name, value] : req.headers) {
         std::string lower = name;
         std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
         r.headers[lower] = value;
      }
      r.body = req.body;
      r.remote_addr = req.remote_addr;
      Response out = app.router().handle(r);
      res.status = out.status;
      for (const auto &[name, value] : out.headers) res.set_header(name.c_str(), value);
      res.set_content(out.body, out.content_type.c_str());
   }
};

HttpServer::HttpServer(App &app) : impl_(std::make_unique<Impl>(app)) {}
HttpServer::~HttpServer() { stop(); }

int HttpServer::bind(const std::string &host, int port) {
   if (port == 0) {
      const int bound = impl_->server.bind_to_any_port(host);
      if (bound <= 0) throw std::runtime_error("cannot listen on " + host + " (any port)");
      return bound;
   }
   if (!impl_->server.bind_to_port(host, port))
      throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
   return port;
}

bool HttpServer::run() { return impl_->server.listen_after_bind(); }

void HttpServer::stop() {
   if (impl_) impl_->server.stop();
}

} // namespace chat
