#include "http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace modkit::loader::services {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxRedirects = 5;          // http.h: "follow up to 5 redirects"
constexpr uint32_t kDefaultTimeoutMs = 30000;
constexpr uint32_t kDefaultMaxBytes = 8u << 20;
constexpr size_t kIdleHandles = 256;      // easy handles kept for reuse; more are freed

void global_init() {
   static std::once_flag once;
   std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// ---- URLs and grants ----

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
   if (a.size() != b.size()) return false;
   for (size_t i = 0; i < a.size(); ++i)
      if (lower(a[i]) != lower(b[i])) return false;
   return true;
}

// RFC 9110 token: the syntax of a method and of a header name.
bool is_token(std::string_view s) {
   if (s.empty()) return false;
   for (unsigned char c : s) {
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos)
         return false;
   }
   return true;
}

bool has_cr_lf_nul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

// The text before the first ':' when it has the syntax of a scheme (RFC 3986), else "".
std::string_view scheme_of(std::string_view url) {
   const size_t colon = url.find(':');
   if (colon == url.npos || colon == 0) return {};
   for (size_t i = 0; i < colon; ++i) {
      const char c = url[i];
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) return {};
   }
   return url.substr(0, colon);
}

// A dot segment that curl's own removal cannot see: encoded ("/%2e%2e/"), or beside an encoded
// slash or a backslash ("/x%2f..%2fy"). A server that decodes before it normalises would climb
// out of the granted path.
bool has_hidden_dot_segment(std::string_view path) {
   std::string decoded;
   for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '%' && i + 2 < path.size()) {
         const std::string_view code = path.substr(i + 1, 2);
         const char c = iequals(code, "2e") ? '.' : iequals(code, "2f") || iequals(code, "5c") ? '/' : '\0';
         if (c) {
            decoded += c;
            i += 2;
            continue;
         }
      }
      decoded += path[i] == '\\' ? '/' : path[i];
   }
   for (size_t start = 0; start <= decoded.size();) {
      const size_t end = std::min(decoded.find('/', start), decoded.size());
      const std::string_view seg = std::string_view(decoded).substr(start, end - start);
      if (seg == "." || seg == "..") return true; // curl has already removed the plain ones
      start = end + 1;
   }
   return false;
}

struct Literal {
   int family;
   unsigned char bytes[16];
};

// A URL as libcurl parses it. Checking curl's own reading, not a second parser's, leaves no
// room for the two to disagree (libcurl-security.md: octal IPv4, "\\@" in authorities).
struct Target {
   std::string url;       // what curl is given: fragment dropped
   std::string shown;     // for messages: userinfo dropped too
   std::string origin;    // "scheme://host:port", scheme and host in lower case
   std::string canonical; // origin + path [+ "?" query]
   bool root = false;     // the path is "/" and there is no query
   bool hidden_dot = false;
   std::optional<Literal> literal; // the host, when it is an IP address
};

struct UrlHandle {
   CURLU *u = curl_url();
   ~UrlHandle() { curl_url_cleanup(u); }
   std::string get(CURLUPart part, unsigned flags = 0) const {
      char *s = nullptr;
      if (curl_url_get(u, part, &s, flags) != CURLUE_OK || !s) return {};
      std::string out(s);
      curl_free(s);
      return out;
   }
};

enum class Parsed { ok, malformed, not_http };

// Fills out; a grant needs only origin, canonical and root.
Parsed parse(std::string_view text, Target &out, bool grant) {
   global_init();
   // curl reads a C string: a NUL inside would make it check less than we do.
   if (text.find('\0') != text.npos) return Parsed::malformed;
   const std::string_view scheme = scheme_of(text);
   const bool http = iequals(scheme, "http") || iequals(scheme, "https");
   UrlHandle h;
   if (!h.u) throw std::bad_alloc();
   if (curl_url_set(h.u, CURLUPART_URL, std::string(text).c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
      return http || scheme.empty() ? Parsed::malformed : Parsed::not_http;
   const std::string parsed_scheme = h.get(CURLUPART_SCHEME);
   if (parsed_scheme != "http" && parsed_scheme != "https") return Parsed::not_http;

   std::string host = h.get(CURLUPART_HOST);
   if (host.empty()) return Parsed::malformed;
   for (char &c : host) c = lower(c);
   if (host[0] == '[') {
      const std::string zone = h.get(CURLUPART_ZONEID);
      if (!zone.empty()) host.insert(host.size() - 1, "%25" + zone);
   }
   const std::string path = h.get(CURLUPART_PATH);
   const std::string query = h.get(CURLUPART_QUERY);

   out.origin = parsed_scheme + "://" + host + ":" + h.get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
   out.canonical = out.origin + (path.empty() ? "/" : path) + (query.empty() ? "" : "?" + query);
   out.root = (path.empty() || path == "/") && query.empty();
   if (grant) return Parsed::ok;
   out.hidden_dot = has_hidden_dot_segment(path);

   out.literal.reset();
   Literal lit{};
   const std::string bare = host[0] == '[' ? host.substr(1, host.find_first_of("%]") - 1) : host;
   if (inet_pton(AF_INET, bare.c_str(), lit.bytes) == 1) {
      lit.family = AF_INET;
      out.literal = lit;
   } else if (inet_pton(AF_INET6, bare.c_str(), lit.bytes) == 1) {
      lit.family = AF_INET6;
      out.literal = lit;
   }

   curl_url_set(h.u, CURLUPART_FRAGMENT, nullptr, 0);
   out.url = h.get(CURLUPART_URL);
   if (out.url.empty()) return Parsed::malformed;
   // curl's URL always has a path, so its authority ends at the first '/' after "://"; a
   // userinfo ends at the authority's last '@'.
   const size_t authority = out.url.find("://") + 3;
   const size_t at = out.url.rfind('@', out.url.find('/', authority));
   out.shown = at == std::string::npos || at < authority ? out.url : out.url.substr(0, authority) + out.url.substr(at + 1);
   return Parsed::ok;
}

bool grants_target(const Target &grant, const Target &url) {
   const std::string &g = grant.canonical, &u = url.canonical;
   if (u.compare(0, g.size(), g) != 0) return false;
   if (url.hidden_dot && !grant.root) return false;
   if (g.back() == '/' || u.size() == g.size()) return true;
   return u[g.size()] == '/' || u[g.size()] == '?';
}

// A module's grants are the same from one request to the next: each thread parses the last
// list it saw once, not at every request (parsing is most of submit's cost).
const std::vector<Target> &parsed_grants(const std::vector<std::string> &grants) {
   thread_local std::vector<std::string> last;
   thread_local std::vector<Target> parsed; // the grants that parse, in order
   if (grants != last) {
      parsed.clear();
      last.clear();
      for (const std::string &g : grants) {
         Target t;
         if (parse(g, t, true) == Parsed::ok) parsed.push_back(std::move(t));
      }
      last = grants;
   }
   return parsed;
}

// MODKIT_OK with target filled, MODKIT_E_INVALID_ARGUMENT or MODKIT_E_DENIED.
modkit_status check_url(std::string_view url, const std::vector<std::string> &grants, Target &target) {
   switch (parse(url, target, false)) {
   case Parsed::malformed: return MODKIT_E_INVALID_ARGUMENT;
   case Parsed::not_http: return MODKIT_E_DENIED;
   case Parsed::ok: break;
   }
   for (const Target &grant : parsed_grants(grants))
      if (grants_target(grant, target)) return MODKIT_OK;
   return MODKIT_E_DENIED;
}

// ---- addresses ----

// Not a public unicast address: loopback, private, shared (CGNAT), link-local, "this network"
// (0.0.0.0 reaches the local host on Linux), benchmarking, multicast, reserved, broadcast.
bool special_v4(const unsigned char *a) {
   return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
          (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
          (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 192 && a[1] == 168) ||
          (a[0] == 198 && (a[1] & 0xfe) == 18);
}

bool special_v6(const unsigned char *a) {
   static const unsigned char zeros[12] = {};
   static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
   static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
   if (std::memcmp(a, zeros, 12) == 0) return true;  // ::, ::1 and IPv4-compatible
   if (std::memcmp(a, mapped, 12) == 0) return true; // IPv4-mapped, whatever it maps
   if (std::memcmp(a, nat64, 12) == 0) return special_v4(a + 12);
   if (a[0] == 0x20 && a[1] == 0x02) return special_v4(a + 2); // 6to4
   return (a[0] & 0xfe) == 0xfc                  // unique-local
          || (a[0] == 0xfe && (a[1] & 0x80) == 0x80) // link-local and the old site-local
          || a[0] == 0xff;                       // multicast
}

// Empty when curl may connect to addr; else the address, for the message. granted is the
// address the URL's host names literally. curl passes a buffer of addrlen bytes, larger than
// the sockaddr it declares for IPv6.
std::string refusal(const curl_sockaddr &addr, const std::optional<Literal> &granted) {
   unsigned char bytes[16];
   size_t size = 0;
   bool special = true;
   if (addr.family == AF_INET && addr.addrlen >= sizeof(sockaddr_in)) {
      sockaddr_in in{};
      std::memcpy(&in, &addr.addr, sizeof in);
      std::memcpy(bytes, &in.sin_addr, size = 4);
      special = special_v4(bytes);
   } else if (addr.family == AF_INET6 && addr.addrlen >= sizeof(sockaddr_in6)) {
      sockaddr_in6 in6{};
      std::memcpy(&in6, &addr.addr, sizeof in6);
      std::memcpy(bytes, &in6.sin6_addr, size = 16);
      special = special_v6(bytes);
   } else {
      return fmt::format("an address of family {}", addr.family);
   }
   if (!special) return {};
   if (granted && granted->family == addr.family && std::memcmp(granted->bytes, bytes, size) == 0) return {};
   char text[INET6_ADDRSTRLEN] = "?";
   inet_ntop(addr.family, bytes, text, sizeof text);
   return text;
}

} // namespace

bool url_granted(std::string_view url, const std::vector<std::string> &grants) {
   Target target;
   return check_url(url, grants, target) == MODKIT_OK;
}

// ---- one request, on the client's thread ----

struct HttpTransfer {
   uint64_t id = 0;
   const void *owner = nullptr;
   HttpRequest request;
   HttpClient::Done done;
   std::vector<std::string> grants; // kept only to check redirects
   Target target;                   // of the current hop
   int redirects = 0;
   Clock::time_point deadline;

   CURL *easy = nullptr;
   curl_slist *header_list = nullptr;
   HttpAnswer answer;
   bool too_big = false;
   std::string refused; // the last address open_socket refused
   char error[CURL_ERROR_SIZE] = {};

   std::string what() const { return request.method + " " + target.shown; }
};

namespace {

size_t on_body(char *data, size_t, size_t size, void *p) {
   auto &t = *static_cast<HttpTransfer *>(p);
   if (t.answer.body.size() + size > t.request.max_response_bytes) {
      t.too_big = true;
      return 0; // CURLE_WRITE_ERROR
   }
   t.answer.body.append(data, size);
   return size;
}

// Header lines of every response of the hop: a status line starts over, so an interim 100
// Continue leaves only the final response's headers. curl caps their total (300 KB).
size_t on_header(char *data, size_t, size_t size, void *p) {
   auto &headers = static_cast<HttpTransfer *>(p)->answer.headers;
   std::string_view line(data, size);
   while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
   auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
   };
   if (line.substr(0, 5) == "HTTP/") {
      headers.clear();
   } else if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (!headers.empty()) (headers.back().second += ' ') += trim(line); // obsolete line folding
   } else if (const size_t colon = line.find(':'); colon != line.npos) {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
   }
   return size;
}

void drop_headers(std::vector<std::pair<std::string, std::string>> &headers,
                  std::initializer_list<std::string_view> names) {
   auto dropped = [&](const auto &h) {
      for (std::string_view n : names)
         if (iequals(h.first, n)) return true;
      return false;
   };
   headers.erase(std::remove_if(headers.begin(), headers.end(), dropped), headers.end());
}

curl_socket_t open_socket(void *p, curlsocktype purpose, curl_sockaddr *addr) {
   auto &t = *static_cast<HttpTransfer *>(p);
   if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
   std::string refused = refusal(*addr, t.target.literal);
   if (!refused.empty()) {
      t.refused = std::move(refused);
      return CURL_SOCKET_BAD;
   }
   return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

} // namespace

// ---- the client ----

HttpClient::HttpClient() = default;

HttpClient::~HttpClient() {
   {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      for (auto &entry : entries_)
         if (entry.second.state == State::running) entry.second.state = State::cancelled;
      if (!thread_.joinable()) {
         if (multi_) curl_multi_cleanup(multi_); // the thread failed to start
         return;
      }
      curl_multi_wakeup(multi_);
   }
   thread_.join();
   curl_multi_cleanup(multi_); // here, not on the thread: wakeup may still be in flight until join
}

modkit_status HttpClient::submit(const void *owner, const std::vector<std::string> &grants, HttpRequest request,
                                 Done done, uint64_t *id) {
   if (!done || !is_token(request.method)) return MODKIT_E_INVALID_ARGUMENT;
   for (const auto &[name, value] : request.headers)
      if (!is_token(name) || has_cr_lf_nul(value)) return MODKIT_E_INVALID_ARGUMENT;
   auto t = std::make_unique<HttpTransfer>();
   if (const modkit_status s = check_url(request.url, grants, t->target); s != MODKIT_OK) return s;

   if (request.timeout_ms == 0) request.timeout_ms = kDefaultTimeoutMs;
   if (request.max_response_bytes == 0) request.max_response_bytes = kDefaultMaxBytes;
   t->owner = owner;
   t->deadline = Clock::now() + std::chrono::milliseconds(request.timeout_ms);
   if (request.follow_redirects) t->grants = grants;
   t->request = std::move(request);
   t->done = std::move(done);

   std::lock_guard<std::mutex> lock(mutex_);
   if (stopping_) return MODKIT_E_STATE;
   if (!thread_.joinable()) {
      global_init();
      if (!multi_ && !(multi_ = curl_multi_init())) return MODKIT_E_NO_MEMORY;
      thread_ = std::thread([this] { run(); });
   }
   t->id = next_id_++;
   if (id) *id = t->id;
   entries_.emplace(t->id, Entry{owner, State::running});
   ++counts_[owner];
   inbox_.push_back(std::move(t));
   wake_locked();
   return MODKIT_PENDING;
}

// One write to curl's wakeup socket per batch: the thread takes the whole inbox when it wakes.
void HttpClient::wake_locked() {
   if (woken_) return;
   woken_ = true;
   curl_multi_wakeup(multi_);
}

void HttpClient::cancel_locked(uint64_t id, Entry &entry) {
   entry.state = State::cancelled;
   cancels_.push_back(id);
   wake_locked();
}

modkit_status HttpClient::cancel(const void *owner, uint64_t id) {
   std::lock_guard<std::mutex> lock(mutex_);
   auto it = entries_.find(id);
   if (it == entries_.end() || it->second.owner != owner || it->second.state != State::running)
      return MODKIT_E_NOT_FOUND;
   cancel_locked(id, it->second);
   return MODKIT_OK;
}

void HttpClient::drain(const void *owner) {
   std::unique_lock<std::mutex> lock(mutex_);
   const bool on_thread = std::this_thread::get_id() == thread_.get_id();
   ++draining_;
   // Each round also cancels what owner's done callbacks submitted meanwhile.
   while (counts_.count(owner)) {
      for (auto &[id, entry] : entries_)
         if (entry.owner == owner && entry.state == State::running) cancel_locked(id, entry);
      if (on_thread) break; // waiting here would wait for ourselves
      answered_.wait(lock);
   }
   --draining_;
}

void HttpClient::run() {
   CURLM *multi = multi_; // set before the thread started, never changed
   for (;;) {
      std::vector<std::unique_ptr<HttpTransfer>> fresh;
      std::vector<uint64_t> cancels;
      bool stopping;
      {
         std::lock_guard<std::mutex> lock(mutex_);
         fresh.swap(inbox_);
         cancels.swap(cancels_);
         stopping = stopping_;
         woken_ = false;
      }
      for (auto &t : fresh) start_transfer(std::move(t));
      if (stopping)
         for (const auto &r : running_) cancels.push_back(r.first);
      for (uint64_t id : cancels)
         if (auto it = running_.find(id); it != running_.end()) {
            HttpTransfer &t = *it->second;
            finish(t, MODKIT_E_CANCELLED, t.what() + ": cancelled");
         }
      if (stopping) break;

      int still_running = 0;
      curl_multi_perform(multi, &still_running);
      int left = 0;
      while (CURLMsg *msg = curl_multi_info_read(multi, &left)) {
         if (msg->msg != CURLMSG_DONE) continue;
         char *t = nullptr;
         curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
         // msg is invalid once the handle leaves the multi, which on_done does.
         on_done(*reinterpret_cast<HttpTransfer *>(t), msg->data.result);
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr); // returns sooner for curl's own timers
   }
   for (void *easy : idle_) curl_easy_cleanup(easy);
   idle_.clear();
}

void HttpClient::start_transfer(std::unique_ptr<HttpTransfer> transfer) {
   HttpTransfer &t = *transfer;
   running_.emplace(t.id, std::move(transfer));
   start_hop(t);
}

// Starts the current hop of t, or finishes t.
void HttpClient::start_hop(HttpTransfer &t) {
   const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t.deadline - Clock::now()).count();
   if (left <= 0) {
      finish(t, MODKIT_E_TIMEOUT, fmt::format("{}: no answer within {} ms", t.what(), t.request.timeout_ms));
      return;
   }
   if (!t.easy) {
      if (idle_.empty()) {
         t.easy = curl_easy_init();
      } else {
         t.easy = idle_.back();
         idle_.pop_back();
      }
      if (!t.easy) return finish(t, MODKIT_E_NO_MEMORY, t.what() + ": curl_easy_init failed");
   }
   CURL *e = t.easy;
   curl_easy_reset(e);
   curl_slist_free_all(t.header_list);
   t.header_list = nullptr;
   t.answer = HttpAnswer{};
   t.too_big = false;
   t.refused.clear();
   t.error[0] = '\0';

   const HttpRequest &r = t.request;
   // A body without a Content-Type of the module's own would go out as a form
   // (application/x-www-form-urlencoded); "Expect: 100-continue" would add a round trip.
   const bool sends_body = r.body || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
   bool has_type = false, has_expect = false;
   for (const auto &[name, value] : r.headers) {
      has_type |= iequals(name, "Content-Type");
      has_expect |= iequals(name, "Expect");
      // "Name:" would remove curl's header of that name instead of sending an empty one.
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      if (curl_slist *l = curl_slist_append(t.header_list, line.c_str())) t.header_list = l;
      else return finish(t, MODKIT_E_NO_MEMORY, t.what() + ": out of memory for headers");
   }
   for (const char *line : {sends_body && !has_type ? "Content-Type:" : nullptr, has_expect ? nullptr : "Expect:"}) {
      if (!line) continue;
      if (curl_slist *l = curl_slist_append(t.header_list, line)) t.header_list = l;
      else return finish(t, MODKIT_E_NO_MEMORY, t.what() + ": out of memory for headers");
   }

   CURLcode rc = CURLE_OK;
   auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
   };
   set(CURLOPT_URL, t.target.url.c_str());
   set(CURLOPT_PROTOCOLS_STR, "http,https");
   set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
   set(CURLOPT_FOLLOWLOCATION, 0L); // we follow ourselves, checking each hop
   set(CURLOPT_NOSIGNAL, 1L);
   set(CURLOPT_SSL_VERIFYPEER, 1L);
   set(CURLOPT_SSL_VERIFYHOST, 2L);
   set(CURLOPT_PROXY, ""); // through a proxy, open_socket would vet the proxy, not the target
   set(CURLOPT_TIMEOUT_MS, static_cast<long>(left));
   set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_response_bytes));
   set(CURLOPT_WRITEFUNCTION, &on_body);
   set(CURLOPT_WRITEDATA, static_cast<void *>(&t));
   set(CURLOPT_HEADERFUNCTION, &on_header);
   set(CURLOPT_HEADERDATA, static_cast<void *>(&t));
   set(CURLOPT_OPENSOCKETFUNCTION, &open_socket);
   set(CURLOPT_OPENSOCKETDATA, static_cast<void *>(&t));
   set(CURLOPT_PRIVATE, static_cast<void *>(&t));
   set(CURLOPT_ERRORBUFFER, t.error);
   set(CURLOPT_HTTPHEADER, t.header_list);
   if (r.method == "HEAD") set(CURLOPT_NOBODY, 1L);
   if (r.method != "GET" && r.method != "HEAD") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
   if (sends_body) {
      if (r.method == "GET" || r.method == "HEAD") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body ? r.body->size() : 0));
      set(CURLOPT_POSTFIELDS, r.body ? r.body->data() : "");
   }
   if (rc != CURLE_OK)
      return finish(t, MODKIT_E_INTERNAL, fmt::format("{}: {} (curl {})", t.what(), curl_easy_strerror(rc), rc));
   if (const CURLMcode mc = curl_multi_add_handle(multi_, e); mc != CURLM_OK)
      return finish(t, MODKIT_E_INTERNAL, fmt::format("{}: {}", t.what(), curl_multi_strerror(mc)));
}

void HttpClient::on_done(HttpTransfer &t, int result) {
   const auto rc = static_cast<CURLcode>(result);
   if (rc == CURLE_OPERATION_TIMEDOUT)
      return finish(t, MODKIT_E_TIMEOUT, fmt::format("{}: no answer within {} ms", t.what(), t.request.timeout_ms));
   if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED)
      return finish(t, MODKIT_E_NO_MEMORY,
                    fmt::format("{}: the response body exceeds max_response_bytes ({} bytes)", t.what(),
                                t.request.max_response_bytes));
   if (rc == CURLE_COULDNT_CONNECT && !t.refused.empty())
      return finish(t, MODKIT_E_DENIED,
                    fmt::format("{}: refused to connect to {}: a loopback, private or link-local address that "
                                "no grant names literally",
                                t.what(), t.refused));
   if (rc != CURLE_OK)
      return finish(t, MODKIT_E_INTERNAL,
                    fmt::format("{}: {} (curl {})", t.what(), t.error[0] ? t.error : curl_easy_strerror(rc),
                                static_cast<int>(rc)));

   long code = 0;
   const char *location = nullptr;
   curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
   curl_easy_getinfo(t.easy, CURLINFO_REDIRECT_URL, &location);
   t.answer.code = static_cast<int32_t>(code);
   // A redirect is a 3xx curl could follow: with a Location, and not 304 Not Modified.
   if (code < 300 || code > 399 || code == 304 || !location) return finish(t, MODKIT_OK, {});

   const std::string next = location;
   if (!t.request.follow_redirects)
      return finish(t, MODKIT_E_UNSUPPORTED,
                    fmt::format("{}: redirected ({}) to {}, not followed", t.what(), code, next));
   if (t.redirects == kMaxRedirects)
      return finish(t, MODKIT_E_UNSUPPORTED,
                    fmt::format("{}: redirected ({}) to {} after {} redirects already", t.what(), code, next,
                                kMaxRedirects));
   Target target;
   if (check_url(next, t.grants, target) != MODKIT_OK)
      return finish(t, MODKIT_E_DENIED,
                    fmt::format("{}: redirected ({}) to {}, which is not granted", t.what(), code, next));

   // As browsers and curl do: 303 turns into GET, and so do 301 and 302 after a POST; the
   // credentials the module set for one origin are not sent to another.
   HttpRequest &r = t.request;
   if ((code == 303 && r.method != "HEAD") || ((code == 301 || code == 302) && r.method == "POST")) {
      r.method = "GET";
      r.body.reset();
      drop_headers(r.headers, {"Content-Type", "Content-Length", "Transfer-Encoding"});
   }
   if (target.origin != t.target.origin)
      drop_headers(r.headers, {"Authorization", "Cookie", "Proxy-Authorization"});
   curl_multi_remove_handle(multi_, t.easy);
   t.target = std::move(target);
   ++t.redirects;
   start_hop(t);
}

// Answers t, then forgets it. t is destroyed on return.
void HttpClient::finish(HttpTransfer &t, modkit_status status, std::string message) {
   if (t.easy) {
      curl_multi_remove_handle(multi_, t.easy); // harmless when the handle is not in the multi
      if (idle_.size() < kIdleHandles) idle_.push_back(t.easy);
      else curl_easy_cleanup(t.easy);
      t.easy = nullptr;
   }
   curl_slist_free_all(t.header_list);
   t.header_list = nullptr;

   HttpAnswer &a = t.answer;
   a.status = status;
   a.message = std::move(message);
   if (status != MODKIT_OK && status != MODKIT_E_UNSUPPORTED) {
      a.code = 0;
      a.headers.clear();
      a.body.clear();
   }
   {
      std::lock_guard<std::mutex> lock(mutex_);
      Entry &entry = entries_.at(t.id);
      if (entry.state == State::cancelled && status != MODKIT_E_CANCELLED) {
         a = HttpAnswer{};
         a.status = MODKIT_E_CANCELLED;
         a.message = t.what() + ": cancelled";
      }
      entry.state = State::answering;
   }
   try {
      t.done(a);
   } catch (...) {
   }

   const uint64_t id = t.id;
   const void *owner = t.owner;
   running_.erase(id); // the callback's captures go before drain() may return
   std::lock_guard<std::mutex> lock(mutex_);
   entries_.erase(id);
   auto count = counts_.find(owner);
   if (--count->second == 0) {
      counts_.erase(count);
      if (draining_) answered_.notify_all();
   }
}

} // namespace modkit::loader::services
