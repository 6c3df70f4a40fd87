// http_client.hpp - the engine of the HTTP client service (modkit/services/http.h): one thread
// per client driving a libcurl multi handle, with each module's URL grants checked before a
// socket opens and again at every redirect.
//
// Ownership: libcurl handles must not be shared between threads (libcurl-thread.md), so the
// multi handle, every easy handle and every running transfer belong to the client's thread
// alone. Other threads reach it only through mutex_, which guards the inbox of new requests and
// cancels, the table of requests not yet answered and the thread's start and stop; they then
// wake the thread with curl_multi_wakeup. A done callback runs on the thread, outside the lock,
// so it may submit or cancel requests itself.
#pragma once

#include <modkit/status.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace modkit::loader::services {

struct HttpTransfer; // one request on the client's thread, known to http_client.cpp only

struct HttpRequest {
   std::string method = "GET", url;
   std::vector<std::pair<std::string, std::string>> headers;
   std::optional<std::string> body;
   uint32_t timeout_ms = 30000;        // whole exchange; 0: 30,000 as in http.h
   uint32_t max_response_bytes = 8u << 20; // 0: 8 MiB as in http.h
   // At most 5, each target checked against the grants. A redirect is a 3xx with a Location,
   // 304 excepted; one not followed (this is false, or it would be the 6th) is answered
   // MODKIT_E_UNSUPPORTED with its code, headers and body.
   bool follow_redirects = false;
};

struct HttpAnswer {
   modkit_status status = MODKIT_OK;   // as modkit_http_done_fn documents in http.h
   int32_t code = 0;                   // HTTP status when a response arrived
   std::vector<std::pair<std::string, std::string>> headers; // of the final response, in order
   std::string body;
   std::string message;                // "" on success; else what failed, naming the URL
};

// True when url is granted by one of grants (URL prefixes, e.g. "https://int.example.com/").
// Both are parsed by libcurl's own URL parser, so what is checked is what curl will connect
// to: scheme and host compare in lower case, the port with its default filled in, userinfo is
// ignored, dot segments are removed. The prefix must end at a path boundary or the grant must
// end with '/', so "https://a.com" does not grant "https://a.com.evil.net/" nor
// "https://a.com/apix" for a grant "https://a.com/api". A path with a dot segment hidden by
// percent-encoding or a backslash ("/api/%2e%2e/admin", "/api/x%2f..%2fadmin") is granted only
// by a grant for the whole origin. Only http and https, for url and grants alike.
// [thread-safe]
bool url_granted(std::string_view url, const std::vector<std::string> &grants);

class HttpClient {
public:
   HttpClient();   // cheap: the thread and the curl multi handle start on the first request
   ~HttpClient();  // cancels everything (done with MODKIT_E_CANCELLED), joins; not from a done
   HttpClient(const HttpClient &) = delete;
   HttpClient &operator=(const HttpClient &) = delete;

   // Called exactly once per accepted request, on the client's thread. Must not throw: an
   // exception is dropped, so that one module cannot stop every other module's requests.
   using Done = std::function<void(HttpAnswer &)>;

   // Checks then starts. MODKIT_E_INVALID_ARGUMENT for a malformed URL, a method that is not
   // a token, a header name that is not a token or a value with CR, LF or NUL;
   // MODKIT_E_DENIED when url is not http/https or not granted; MODKIT_E_STATE while the
   // client is being destroyed. Else MODKIT_PENDING: done runs exactly once on the client's
   // thread, never inside submit. *id (may be null) gets an ID for cancel, before done can run.
   // At connect time an address that is loopback, private, link-local, unique-local or
   // IPv4-mapped is refused (done gets MODKIT_E_DENIED) unless the grant names that address
   // literally, as "http://127.0.0.1:8080/" does.
   // [thread-safe]
   modkit_status submit(const void *owner, const std::vector<std::string> &grants, HttpRequest request,
                        Done done, uint64_t *id);

   // MODKIT_OK when found and cancelled (done gets MODKIT_E_CANCELLED soon after),
   // MODKIT_E_NOT_FOUND when owner has no such request running, or its done is already due.
   // Never waits.
   // [thread-safe]
   modkit_status cancel(const void *owner, uint64_t id);

   // Before a module's deinit: cancels all of owner's requests, and those it submits meanwhile,
   // and returns only after every one of their done callbacks has returned. Called from a done
   // callback, it cancels but cannot wait (it would wait for itself).
   // [any thread but the client's]
   void drain(const void *owner);

private:
   enum class State { running, cancelled, answering };
   struct Entry {
      const void *owner;
      State state;
   };

   void run();
   void start_transfer(std::unique_ptr<HttpTransfer> transfer);
   void start_hop(HttpTransfer &t);
   void on_done(HttpTransfer &t, int result);
   void finish(HttpTransfer &t, modkit_status status, std::string message);
   void cancel_locked(uint64_t id, Entry &entry);
   void wake_locked();

   // Guarded by mutex_.
   std::mutex mutex_;
   std::condition_variable answered_;  // an owner's count reached zero while someone drains
   std::vector<std::unique_ptr<HttpTransfer>> inbox_;
   std::vector<uint64_t> cancels_;
   std::unordered_map<uint64_t, Entry> entries_;     // every request whose done has not returned
   std::unordered_map<const void *, size_t> counts_; // entries per owner
   size_t draining_ = 0;
   bool woken_ = false; // a wakeup is on its way that the thread has not consumed: no second one
   uint64_t next_id_ = 1;
   bool stopping_ = false;
   std::thread thread_;
   void *multi_ = nullptr; // CURLM *, set once before the thread starts; curl_multi_wakeup is thread-safe

   // The thread's own.
   std::unordered_map<uint64_t, std::unique_ptr<HttpTransfer>> running_;
   std::vector<void *> idle_; // CURL * kept for reuse
};

} // namespace modkit::loader::services
