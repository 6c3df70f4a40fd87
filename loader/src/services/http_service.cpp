// http_service.cpp - modkit.http/1: the C table over HttpClient, checking the module's grants.
#include "http_client.hpp"
#include "service_parts.hpp"
#include "services.hpp"

#include <modkit/services/http.h>

#include <fmt/format.h>

namespace modkit::loader::services {

namespace {

std::string text(modkit_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }

modkit_status MODKIT_ABI request(modkit_host *host, const modkit_http_client_request *req, modkit_http_done_fn done,
                                 void *user_data, uint64_t *out_id) {
   ModuleServices *m = module_services(host);
   if (!m || !req || !done || !req->url || req->struct_size < sizeof(modkit_http_client_request) ||
       (req->header_count && !req->headers))
      return MODKIT_E_INVALID_ARGUMENT;
   const Submission submission(*m);
   if (submission.status() != MODKIT_OK) return submission.status();
   HttpRequest r;
   r.method = req->method ? req->method : "GET";
   r.url = req->url;
   for (size_t i = 0; i < req->header_count; ++i) r.headers.emplace_back(text(req->headers[i].name), text(req->headers[i].value));
   if (req->body.data) r.body = text(req->body);
   if (req->timeout_ms) r.timeout_ms = req->timeout_ms;
   if (req->max_response_bytes) r.max_response_bytes = req->max_response_bytes;
   r.follow_redirects = (req->flags & MODKIT_HTTP_FOLLOW_REDIRECTS) != 0;
   Services &services = *services_of(host);
   const std::string url = r.url;
   const modkit_status status = services.http().submit(
      m, m->grants.http, std::move(r),
      [done, user_data](HttpAnswer &a) {
         std::vector<modkit_http_header> headers;
         headers.reserve(a.headers.size());
         for (const auto &[name, value] : a.headers)
            headers.push_back({{name.data(), name.size()}, {value.data(), value.size()}});
         modkit_http_client_response response{sizeof(modkit_http_client_response), a.code, headers.data(),
                                              headers.size(), {a.body.data(), a.body.size()}};
         done(user_data, a.status, a.code != 0 ? &response : nullptr, a.message.c_str());
      },
      out_id);
   if (status == MODKIT_E_DENIED)
      services.log(MODKIT_LOG_WARNING, *m,
                   fmt::format("HTTP request to {} refused: not among the URL prefixes its permissions grant", url));
   return status;
}

modkit_status MODKIT_ABI cancel(modkit_host *host, uint64_t id) {
   ModuleServices *m = module_services(host);
   if (!m) return MODKIT_E_INVALID_ARGUMENT;
   return services_of(host)->http().cancel(m, id);
}

} // namespace

const modkit_http_api http_table = {sizeof(modkit_http_api), request, cancel};

} // namespace modkit::loader::services
