// modkit/sdk/services/http.hpp - the host's HTTP client (modkit.http/1): Synapse's
// ModuleApi.http_client for a module. Only URL prefixes the host config grants the module are
// reachable; anything else fails with MODKIT_E_DENIED.
//
//    modkit::HttpRequest req;
//    req.url = "https://int.example.com/v1/score";
//    req.method = "POST";
//    req.headers = {{"Content-Type", "application/json"}};
//    req.body = R"({"user":"@ada:example.org"})";
//    call_ = modkit::HttpClient(api).request(req, [this](modkit_status status, modkit::HttpResponse *response,
//                                                        std::string message) { ... });
//
// In C++20 a coroutine awaits the response, and a failure is thrown:
//    const modkit::HttpResponse r = co_await modkit::HttpClient(api).fetch(req);
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/callback_gate.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/detail/service_table.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>
#include <modkit/sdk/task.hpp>

#include <modkit/services/http.h>

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modkit {

// What to send. The host copies it when the request starts.
// Thread rule: a plain value.
struct HttpRequest {
   std::string method = "GET";
   std::string url; // absolute http:// or https:// URL
   std::vector<std::pair<std::string, std::string>> headers;
   std::optional<std::string> body;      // nullopt: no body
   std::chrono::milliseconds timeout{0}; // the whole exchange; 0: the host's default (30 s)
   uint32_t max_response_bytes = 0;      // a longer body fails the request; 0: the host's default (8 MiB)
   bool follow_redirects = false;        // else a 3xx answers MODKIT_E_UNSUPPORTED
};

// What came back, copied out of the host's response (which is valid only during its callback).
// Thread rule: a plain value.
struct HttpResponse {
   int status = 0; // the HTTP status, e.g. 200; also 4xx and 5xx
   std::vector<std::pair<std::string, std::string>> headers; // in the order received
   std::string body;

   // The first header named name, compared without regard to ASCII case; nullopt if none.
   std::optional<std::string_view> header(std::string_view name) const noexcept {
      for (const auto &[n, v] : headers) {
         if (n.size() != name.size()) continue;
         bool same = true;
         for (std::size_t i = 0; i < n.size() && same; ++i) same = lower(n[i]) == lower(name[i]);
         if (same) return std::string_view(v);
      }
      return std::nullopt;
   }

private:
   static char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
};

namespace detail {

inline const modkit_http_api *http_table(const Api &api) {
   return service_table<modkit_http_api>(api, MODKIT_HTTP_ID,
                                         offsetof(modkit_http_api, cancel) + sizeof(modkit_http_api::cancel));
}

using HttpHandler = std::function<void(modkit_status status, HttpResponse *response, std::string message)>;

// What an HttpCall and the host's done share.
struct HttpState {
   HostContext context;
   HttpHandler on_done;
   CallbackGate gate;
};

// The host's user_data: a shared_ptr allocated per request and freed by done, which the host
// calls exactly once per accepted request (also when it is cancelled or the module unloads).
using HttpSlot = std::shared_ptr<HttpState>;

inline HttpResponse copy_response(const modkit_http_client_response &r) {
   HttpResponse copy;
   copy.status = r.status;
   copy.headers.reserve(r.header_count);
   for (std::size_t i = 0; i < r.header_count; ++i)
      copy.headers.emplace_back(std::string(to_view(r.headers[i].name)), std::string(to_view(r.headers[i].value)));
   copy.body.assign(to_view(r.body));
   return copy;
}

inline void MODKIT_ABI http_done(void *user_data, modkit_status status, const modkit_http_client_response *response,
                                 const char *message) noexcept {
   const std::unique_ptr<HttpSlot> slot(static_cast<HttpSlot *>(user_data));
   HttpState &state = **slot;
   if (!state.gate.enter()) return; // the HttpCall is gone: nobody wants the answer
   // The handler is called whatever happens here, or a coroutine awaiting fetch would hang.
   std::optional<HttpResponse> copy;
   std::string text;
   try {
      if (response != nullptr) {
         if (!MODKIT_HAS_FIELD(response, modkit_http_client_response, body))
            throw Error(MODKIT_E_INTERNAL, "the host's HTTP response struct is too short");
         copy = copy_response(*response);
      }
      text = message != nullptr ? message : "";
   } catch (const Error &e) {
      copy.reset();
      status = e.code();
      text = e.what();
   } catch (...) {
      copy.reset();
      status = MODKIT_E_NO_MEMORY;
      text.clear(); // no room for a message
   }
   barrier([&] { state.on_done(status, copy ? &*copy : nullptr, std::move(text)); },
           LogToHost{&state.context, "HTTP request callback"});
   state.gate.leave();
}

} // namespace detail

// A request under way, from HttpClient::request. Move-only.
// Ownership: the callback belongs to the shared state of this handle and the host's request;
// it is freed when both are done with it.
// Lifetime: destroying the handle cancels the request and detaches the callback: once the
// destructor has returned, the callback is not running on another thread and never runs (so it
// may capture `this` of the object holding the HttpCall). A callback that destroys its own
// HttpCall is not waited for. cancel() instead keeps the callback, which then receives
// MODKIT_E_CANCELLED (or the answer, if it was already on its way).
// Thread rule: one owner; cancel() is [thread-safe]. Destroying the handle while holding a lock
// its running callback needs deadlocks.
class HttpCall {
public:
   HttpCall() noexcept = default;
   HttpCall(HttpCall &&other) noexcept : state_(std::move(other.state_)), http_(other.http_), id_(other.id_) {}
   HttpCall &operator=(HttpCall &&other) noexcept {
      if (this != &other) {
         reset();
         state_ = std::move(other.state_);
         http_ = other.http_;
         id_ = other.id_;
      }
      return *this;
   }
   HttpCall(const HttpCall &) = delete;
   HttpCall &operator=(const HttpCall &) = delete;
   ~HttpCall() { reset(); }

   // Asks the host to cancel; the callback receives MODKIT_E_CANCELLED soon after, unless the
   // answer was already on its way. False when the host no longer holds the request (it ended)
   // or the handle is empty. Never waits.
   bool cancel() noexcept {
      return state_ != nullptr && http_->cancel(state_->context.host, id_) == MODKIT_OK;
   }

   // Cancels and detaches the callback (see the class comment); the handle becomes empty.
   void reset() noexcept {
      if (!state_) return;
      const std::shared_ptr<detail::HttpState> state = std::move(state_);
      state->gate.close();
      http_->cancel(state->context.host, id_); // NOT_FOUND: it ended
   }

   // The host's ID of the request; 0 for an empty handle.
   uint64_t id() const noexcept { return state_ ? id_ : 0; }

   explicit operator bool() const noexcept { return state_ != nullptr; }

private:
   friend class HttpClient;
   HttpCall(std::shared_ptr<detail::HttpState> state, const modkit_http_api *http, uint64_t id) noexcept
      : state_(std::move(state)), http_(http), id_(id) {}

   std::shared_ptr<detail::HttpState> state_;
   const modkit_http_api *http_ = nullptr;
   uint64_t id_ = 0;
};

// The host's HTTP client, for this module. A small value: make one where needed, or keep one.
// Throws Error(MODKIT_E_UNSUPPORTED) on construction when the host offers no modkit.http/1.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
class HttpClient {
public:
   // (status, response, message): status is MODKIT_OK when a response arrived, whatever its
   // HTTP status; otherwise response is null and status says why (MODKIT_E_TIMEOUT,
   // MODKIT_E_CANCELLED, MODKIT_E_DENIED, MODKIT_E_NO_MEMORY for a body over the limit,
   // MODKIT_E_INTERNAL for connection, DNS and TLS failures), except MODKIT_E_UNSUPPORTED, a
   // redirect not followed, which comes with the 3xx response. message explains a failure ("" on
   // success). response points at the SDK's copy, valid during the call: move from it to keep it.
   using Handler = detail::HttpHandler;

   explicit HttpClient(const Api &api)
      : context_(detail::ApiAccess::context(api)), http_(detail::http_table(api)) {}

   // Starts req; handler runs once, on a service thread, never inside request() (an exception
   // leaving it is logged). Throws Error(MODKIT_E_INVALID_ARGUMENT) for a timeout out of range
   // or an empty handler, and the host's refusal as Error (MODKIT_E_DENIED: URL not granted;
   // MODKIT_E_INVALID_ARGUMENT: malformed URL, method or header): handler is then never called.
   [[nodiscard]] HttpCall request(const HttpRequest &req, Handler handler) const {
      if (!handler) throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::HttpClient::request: no handler");
      if (req.timeout.count() < 0 || req.timeout.count() > static_cast<std::chrono::milliseconds::rep>(UINT32_MAX))
         throw Error(MODKIT_E_INVALID_ARGUMENT, fmt::format("HTTP {} {}: a timeout of {} ms is out of range",
                                                            req.method, req.url, req.timeout.count()));
      std::vector<modkit_http_header> headers;
      headers.reserve(req.headers.size());
      for (const auto &[name, value] : req.headers) headers.push_back({to_modkit_str(name), to_modkit_str(value)});
      modkit_http_client_request c{};
      c.struct_size = sizeof c;
      c.flags = req.follow_redirects ? static_cast<uint32_t>(MODKIT_HTTP_FOLLOW_REDIRECTS) : 0u;
      c.method = req.method.empty() ? nullptr : req.method.c_str();
      c.url = req.url.c_str();
      c.headers = headers.empty() ? nullptr : headers.data();
      c.header_count = headers.size();
      c.body = req.body ? to_modkit_str(*req.body) : modkit_str{nullptr, 0};
      c.timeout_ms = static_cast<uint32_t>(req.timeout.count());
      c.max_response_bytes = req.max_response_bytes;

      auto state = std::make_shared<detail::HttpState>();
      state->context = context_;
      state->on_done = std::move(handler);
      auto slot = std::make_unique<detail::HttpSlot>(state);
      uint64_t id = 0;
      const modkit_status status = http_->request(context_.host, &c, &detail::http_done, slot.get(), &id);
      // MODKIT_OK is taken as started too, so that done never finds its slot freed.
      if (status != MODKIT_PENDING && status != MODKIT_OK)
         throw Error(status,
                     fmt::format("HTTP {} {} was refused: {}", req.method, req.url, modkit_status_name(status)));
      slot.release(); // done frees it
      return HttpCall(std::move(state), http_, id);
   }

#if MODKIT_SDK_HAS_COROUTINES
   // Sends req and gives the response, whatever its HTTP status. A failure is thrown as
   // Error(status, message): the statuses of Handler, MODKIT_E_UNSUPPORTED for a redirect not
   // followed included. The coroutine resumes on the service thread delivering the answer (or
   // goes on without suspending when the answer came first); destroying it while suspended
   // cancels the request. The task keeps its own copy of the client and the request.
   task<HttpResponse> fetch(HttpRequest req) const { return fetch_with(*this, std::move(req)); }
#endif

private:
#if MODKIT_SDK_HAS_COROUTINES
   // What the handler hands the awaiting coroutine. A value, not an exception: the Error is
   // made and thrown on the coroutine's own thread, so no exception object is shared with the
   // service thread (whose release of it a race detector could not order).
   struct Answer {
      modkit_status status = MODKIT_OK;
      std::optional<HttpResponse> response;
      std::string message;
   };

   static task<HttpResponse> fetch_with(HttpClient client, HttpRequest req) {
      Completion<Answer> answered;
      const HttpCall call =
         client.request(req, [answered](modkit_status status, HttpResponse *response, std::string message) mutable {
            Answer a;
            a.status = status;
            if (response != nullptr) a.response = std::move(*response);
            a.message = std::move(message);
            answered.set_value(std::move(a));
         });
      Answer a = co_await answered;
      if (a.status == MODKIT_OK && a.response) co_return std::move(*a.response);
      if (a.status == MODKIT_E_UNSUPPORTED && a.response) {
         const auto location = a.response->header("Location");
         throw Error(a.status, fmt::format("HTTP {} {}: answered {} (a redirect to {}), not followed: {}", req.method,
                                           req.url, a.response->status, location.value_or("?"), a.message));
      }
      throw Error(a.status == MODKIT_OK ? MODKIT_E_INTERNAL : a.status,
                  fmt::format("HTTP {} {} failed ({}): {}", req.method, req.url, modkit_status_name(a.status),
                              a.message));
   }
#endif

   detail::HostContext context_;
   const modkit_http_api *http_;
};

} // namespace modkit
