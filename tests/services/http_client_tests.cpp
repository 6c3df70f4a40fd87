// http_client_tests.cpp - the HTTP client service's engine against a cpp-httplib server and a raw
// TCP listener on 127.0.0.1: grants checked before a socket opens and at each redirect, every
// failure mode mapped to its http.h status, TLS verification against a self-signed peer, cancel,
// drain and destruction, and 64 requests at once.
#include "services/http_client.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using modkit::loader::services::HttpAnswer;
using modkit::loader::services::HttpClient;
using modkit::loader::services::HttpRequest;
using modkit::loader::services::url_granted;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

std::string header(const HttpAnswer &a, const std::string &name) {
   auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s;
   };
   for (const auto &[n, v] : a.headers)
      if (lower(n) == lower(name)) return v;
   return "<absent>";
}

// A cpp-httplib server on an ephemeral port. Each connection holds one of its threads, so the
// pool is larger than the 64 requests the tests run at once.
struct Server {
   httplib::Server http;
   int port = 0;
   std::thread thread;
   std::atomic<int> requests{0};
   std::atomic<int> loop_hits{0};
   std::atomic<int> in_flight{0}, max_in_flight{0};
   std::mutex mutex;
   std::string redirect_target; // for /redirect-away, guarded by mutex
   std::condition_variable released_cv;
   bool released = false;

   Server() {
      http.set_tcp_nodelay(true);
      http.set_keep_alive_max_count(100000);
      http.new_task_queue = [] { return new httplib::ThreadPool(80); };
      http.set_pre_routing_handler([this](const httplib::Request &, httplib::Response &) {
         ++requests;
         return httplib::Server::HandlerResponse::Unhandled;
      });
      http.Get("/fast", [](const httplib::Request &, httplib::Response &res) {
         res.set_header("X-Test", "fast");
         res.set_content("hello", "text/plain");
      });
      http.Get("/teapot", [](const httplib::Request &, httplib::Response &res) {
         res.status = 418;
         res.set_content("short and stout", "text/plain");
      });
      http.Get("/not-modified", [](const httplib::Request &, httplib::Response &res) { res.status = 304; });
      auto echo = [](const httplib::Request &req, httplib::Response &res) {
         nlohmann::json j;
         j["method"] = req.method;
         j["body"] = req.body;
         for (const auto &[name, value] : req.headers) j["headers"][name] = value;
         res.set_content(j.dump(), "application/json");
      };
      http.Get("/echo", echo);
      http.Post("/echo", echo);
      http.Put("/echo", echo);
      http.Delete("/echo", echo);
      http.Get("/slow", [this](const httplib::Request &, httplib::Response &res) {
         std::unique_lock<std::mutex> lock(mutex);
         released_cv.wait_for(lock, 5s, [this] { return released; });
         res.set_content("late", "text/plain");
      });
      http.Get("/delay", [this](const httplib::Request &, httplib::Response &res) {
         const int now = ++in_flight;
         for (int seen = max_in_flight; now > seen && !max_in_flight.compare_exchange_weak(seen, now);) {}
         std::this_thread::sleep_for(50ms);
         --in_flight;
         res.set_content("delayed", "text/plain");
      });
      http.Get("/bytes", [](const httplib::Request &req, httplib::Response &res) {
         res.set_content(std::string(std::stoul(req.get_param_value("n")), 'x'), "text/plain");
      });
      http.Get("/chunked", [](const httplib::Request &req, httplib::Response &res) {
         const size_t n = std::stoul(req.get_param_value("n"));
         res.set_chunked_content_provider("text/plain", [n](size_t offset, httplib::DataSink &sink) {
            if (offset >= n) {
               sink.done();
               return true;
            }
            const std::string chunk(std::min<size_t>(16384, n - offset), 'y');
            return sink.write(chunk.data(), chunk.size());
         });
      });
      http.Get("/redirect-fast", [](const httplib::Request &, httplib::Response &res) { res.set_redirect("/fast"); });
      http.Get("/redirect-away", [this](const httplib::Request &, httplib::Response &res) {
         std::lock_guard<std::mutex> lock(mutex);
         res.set_redirect(redirect_target);
      });
      http.Get("/redirect-file", [](const httplib::Request &, httplib::Response &res) {
         res.set_redirect("file:///etc/passwd");
      });
      http.Post("/redirect-303", [](const httplib::Request &, httplib::Response &res) { res.set_redirect("/echo", 303); });
      http.Post("/redirect-307", [](const httplib::Request &, httplib::Response &res) { res.set_redirect("/echo", 307); });
      http.Get("/loop", [this](const httplib::Request &, httplib::Response &res) {
         ++loop_hits;
         res.set_redirect("/loop");
      });
      // cpp-httplib is built with a listen backlog of 5: 64 connects at once would overflow it
      // and wait for SYN retries (1 s, 3 s, ...). listen() again on the bound socket raises it.
      int listener = -1;
      http.set_socket_options([&listener](socket_t sock) {
         httplib::default_socket_options(sock);
         if (listener < 0) listener = sock;
      });
      port = http.bind_to_any_port("127.0.0.1");
      REQUIRE(port > 0);
      REQUIRE(::listen(listener, 256) == 0);
      thread = std::thread([this] { http.listen_after_bind(); });
      while (!http.is_running()) std::this_thread::sleep_for(1ms);
   }
   ~Server() {
      {
         std::lock_guard<std::mutex> lock(mutex);
         released = true;
      }
      released_cv.notify_all();
      http.stop();
      thread.join();
   }
   void redirect_to(const std::string &target) {
      std::lock_guard<std::mutex> lock(mutex);
      redirect_target = target;
   }
   std::string origin() const { return "http://127.0.0.1:" + std::to_string(port); }
   std::string url(const std::string &path) const { return origin() + path; }
};

// A bare TCP listener that counts connections and keeps the last request as it came off the
// wire. Each connection gets the start of a response, then a reset (SO_LINGER 0) instead of
// the rest.
struct ResetListener {
   int fd = -1;
   int port = 0;
   std::atomic<int> accepted{0};
   std::mutex mutex;
   std::string last_request; // guarded by mutex
   std::atomic<bool> stop{false};
   std::thread thread;

   ResetListener() {
      fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
      REQUIRE(listen(fd, 16) == 0);
      socklen_t len = sizeof a;
      getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
      port = ntohs(a.sin_port);
      thread = std::thread([this] { run(); });
   }
   ~ResetListener() {
      stop = true;
      thread.join();
      close(fd);
   }
   void run() {
      while (!stop) {
         pollfd p{fd, POLLIN, 0};
         if (poll(&p, 1, 20) != 1) continue;
         const int c = accept(fd, nullptr, nullptr);
         if (c < 0) continue;
         ++accepted;
         std::string request;
         char buf[4096];
         pollfd q{c, POLLIN, 0};
         while (!contains(request, "\r\n\r\n") && poll(&q, 1, 2000) == 1) {
            const ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            request.append(buf, static_cast<size_t>(n));
         }
         {
            std::lock_guard<std::mutex> lock(mutex);
            last_request = request;
         }
         const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial";
         send(c, partial.data(), partial.size(), MSG_NOSIGNAL);
         linger l{1, 0};
         setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
         close(c);
      }
   }
   std::string url(const std::string &path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
   std::string request() {
      std::lock_guard<std::mutex> lock(mutex);
      return last_request;
   }
};

// A port nothing listens on: bound, then closed.
int closed_port() {
   const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
   sockaddr_in a{};
   a.sin_family = AF_INET;
   a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
   bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
   socklen_t len = sizeof a;
   getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
   close(fd);
   return ntohs(a.sin_port);
}

// Collects answers and the threads they arrived on.
struct Answers {
   std::mutex mutex;
   std::condition_variable cv;
   std::vector<HttpAnswer> got;
   std::vector<std::thread::id> threads;

   HttpClient::Done done() {
      return [this](HttpAnswer &a) {
         std::lock_guard<std::mutex> lock(mutex);
         got.push_back(a);
         threads.push_back(std::this_thread::get_id());
         cv.notify_all();
      };
   }
   bool wait(size_t n, std::chrono::milliseconds limit = 10s) {
      std::unique_lock<std::mutex> lock(mutex);
      return cv.wait_for(lock, limit, [&] { return got.size() >= n; });
   }
   size_t count() {
      std::lock_guard<std::mutex> lock(mutex);
      return got.size();
   }
};

char owner_a, owner_b; // their addresses are the owners

HttpRequest get(const std::string &url) {
   HttpRequest r;
   r.url = url;
   return r;
}

// Submits r and waits for its answer. The answers outlive a failed wait: the client may still
// answer later.
HttpAnswer fetch(HttpClient &client, const std::vector<std::string> &grants, HttpRequest r) {
   auto answers = std::make_shared<Answers>();
   HttpClient::Done done = [answers, inner = answers->done()](HttpAnswer &a) { inner(a); };
   REQUIRE(client.submit(&owner_a, grants, std::move(r), std::move(done), nullptr) == MODKIT_PENDING);
   REQUIRE(answers->wait(1, 20s));
   return answers->got[0];
}

// A certificate for 127.0.0.1 (name and address right), signed by itself: no CA vouches for it.
struct SelfSigned {
   EVP_PKEY *key = EVP_EC_gen("P-256");
   X509 *cert = X509_new();

   SelfSigned() {
      REQUIRE(key);
      REQUIRE(cert);
      ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
      X509_gmtime_adj(X509_getm_notBefore(cert), -60);
      X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
      X509_set_pubkey(cert, key);
      X509_NAME *name = X509_get_subject_name(cert);
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("127.0.0.1"), -1,
                                 -1, 0);
      X509_set_issuer_name(cert, name);
      X509V3_CTX ctx;
      X509V3_set_ctx_nodb(&ctx);
      X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
      X509_EXTENSION *san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
      REQUIRE(san);
      X509_add_ext(cert, san, -1);
      X509_EXTENSION_free(san);
      REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
   }
   ~SelfSigned() {
      X509_free(cert);
      EVP_PKEY_free(key);
   }
   SelfSigned(const SelfSigned &) = delete;
   SelfSigned &operator=(const SelfSigned &) = delete;
};

// An HTTPS server on 127.0.0.1 with that certificate; counts the requests that reach it.
struct TlsServer {
   SelfSigned identity;
   httplib::SSLServer https{identity.cert, identity.key};
   std::atomic<int> requests{0};
   int port = 0;
   std::thread thread;

   TlsServer() {
      REQUIRE(https.is_valid());
      https.Get("/secret", [this](const httplib::Request &, httplib::Response &res) {
         ++requests;
         res.set_content("should never be read", "text/plain");
      });
      port = https.bind_to_any_port("127.0.0.1");
      REQUIRE(port > 0);
      thread = std::thread([this] { https.listen_after_bind(); });
      while (!https.is_running()) std::this_thread::sleep_for(1ms);
   }
   ~TlsServer() {
      https.stop();
      thread.join();
   }
   std::string origin() const { return "https://127.0.0.1:" + std::to_string(port); }
};

} // namespace

TEST_CASE("url_granted compares the URL curl will request with each grant") {
   SUBCASE("a prefix must end at a path boundary unless the grant ends with '/'") {
      const std::vector<std::string> origin{"https://a.com"};
      CHECK(url_granted("https://a.com/", origin));
      CHECK(url_granted("https://a.com/x", origin));
      CHECK(url_granted("https://a.com", origin));
      CHECK_FALSE(url_granted("https://a.com.evil.net/", origin));
      CHECK_FALSE(url_granted("https://a.comx/", origin));
      const std::vector<std::string> api{"https://a.com/api"};
      CHECK(url_granted("https://a.com/api", api));
      CHECK(url_granted("https://a.com/api/v1", api));
      CHECK(url_granted("https://a.com/api?q=1", api));
      CHECK(url_granted("https://a.com/api#part", api));
      CHECK_FALSE(url_granted("https://a.com/apix", api));
      CHECK_FALSE(url_granted("https://a.com/", api));
      const std::vector<std::string> slash{"https://a.com/api/"};
      CHECK(url_granted("https://a.com/api/v1", slash));
      CHECK_FALSE(url_granted("https://a.com/api", slash));
   }
   SUBCASE("scheme and host compare in lower case, the port with its default") {
      const std::vector<std::string> grants{"https://Int.Example.com/"};
      CHECK(url_granted("HTTPS://INT.EXAMPLE.COM/x", grants));
      CHECK(url_granted("https://int.example.com:443/x", grants));
      CHECK_FALSE(url_granted("https://int.example.com:8443/x", grants));
      CHECK_FALSE(url_granted("http://int.example.com/x", grants));
      CHECK(url_granted("http://a.com:80/", {"http://a.com/"}));
   }
   SUBCASE("userinfo never stands in for the host") {
      const std::vector<std::string> grants{"http://127.0.0.1:8080/"};
      CHECK_FALSE(url_granted("http://127.0.0.1:8080@evil/", grants));
      CHECK_FALSE(url_granted("http://127.0.0.1:8080@evil:8080/", grants));
      CHECK_FALSE(url_granted("http://127.0.0.1:8080\\@evil/", grants));
      CHECK_FALSE(url_granted("http://127.0.0.1:8080%40evil/", grants));
      CHECK_FALSE(url_granted("http://127.0.0.1:8080.evil/", grants));
      CHECK(url_granted("http://user:secret@127.0.0.1:8080/x", grants));
      CHECK(url_granted("http://0177.0.0.1:8080/x", grants)); // curl connects to 127.0.0.1 too
      CHECK_FALSE(url_granted("http://127.0.0.2:8080/", grants));
   }
   SUBCASE("dot segments cannot climb out of a granted path") {
      const std::vector<std::string> api{"https://a.com/api/"};
      CHECK_FALSE(url_granted("https://a.com/api/../admin", api));
      CHECK_FALSE(url_granted("https://a.com/api/%2e%2e/admin", api));
      CHECK_FALSE(url_granted("https://a.com/api/%2E./admin", api));
      CHECK_FALSE(url_granted("https://a.com/api/.%2e", api));
      CHECK_FALSE(url_granted("https://a.com/api/x%2f..%2f..%2fadmin", api));
      CHECK_FALSE(url_granted("https://a.com/api/x%2F..%5Cadmin", api));
      CHECK_FALSE(url_granted("https://a.com/api/..\\admin", api));
      CHECK(url_granted("https://a.com/api/group%2Fproject", api));
      CHECK(url_granted("https://a.com/api/%2e%2efile", api));
      CHECK(url_granted("https://a.com/api/..data/x", api));
      CHECK(url_granted("https://a.com/api/a/../b", api));
      CHECK(url_granted("https://a.com/api/%2e%2e/admin", {"https://a.com/"}));
   }
   SUBCASE("only http and https, for URLs and grants") {
      CHECK_FALSE(url_granted("file:///etc/passwd", {"file:///"}));
      CHECK_FALSE(url_granted("file:///etc/passwd", {"http://a.com/"}));
      CHECK_FALSE(url_granted("ftp://a.com/x", {"ftp://a.com/"}));
      CHECK_FALSE(url_granted("ftp://a.com/x", {"https://a.com/"}));
      CHECK_FALSE(url_granted("gopher://a.com/", {"http://a.com/"}));
      CHECK_FALSE(url_granted("javascript:alert(1)", {"http://a.com/"}));
   }
   SUBCASE("malformed URLs and grants grant nothing") {
      CHECK_FALSE(url_granted("", {"http://a.com/"}));
      CHECK_FALSE(url_granted("http://a.com/x", {}));
      CHECK_FALSE(url_granted("http://exa mple.com/", {"http://exa mple.com/"}));
      CHECK_FALSE(url_granted(std::string_view("http://a.com/\0@b.com/", 21), {"http://a.com/"}));
      CHECK(url_granted("http://a.com/x", {"not a url", "", "http://a.com/"}));
   }
   SUBCASE("IPv6 literals") {
      CHECK(url_granted("http://[::1]:8080/x", {"http://[::1]:8080/"}));
      CHECK_FALSE(url_granted("http://[::2]:8080/x", {"http://[::1]:8080/"}));
   }
}

TEST_CASE("submit refuses before a socket opens") {
   Server server;
   ResetListener other;
   Answers answers; // outlives the client, whose destructor may still answer
   HttpClient client;
   const std::vector<std::string> grants{server.origin() + "/"};

   SUBCASE("a URL that is not granted is denied") {
      CHECK(client.submit(&owner_a, grants, get(other.url("/x")), answers.done(), nullptr) == MODKIT_E_DENIED);
      CHECK(client.submit(&owner_a, grants, get(server.url("/fast").replace(0, 4, "https")), answers.done(),
                          nullptr) == MODKIT_E_DENIED);
   }
   SUBCASE("a scheme other than http and https is denied") {
      CHECK(client.submit(&owner_a, {"ftp://127.0.0.1/"}, get("ftp://127.0.0.1/"), answers.done(), nullptr) ==
            MODKIT_E_DENIED);
      CHECK(client.submit(&owner_a, {"file:///"}, get("file:///etc/passwd"), answers.done(), nullptr) ==
            MODKIT_E_DENIED);
   }
   SUBCASE("a malformed URL, method or header is an invalid argument") {
      CHECK(client.submit(&owner_a, grants, get("not a url"), answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(client.submit(&owner_a, grants, get("http://127.0.0.1:" + std::to_string(server.port) + "/a b"),
                          answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      HttpRequest r = get(server.url("/fast"));
      r.method = "GE T";
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.method = "";
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.method = "GET\r\nX-Injected: 1";
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.method = std::string("GET\0", 4);
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r = get(server.url("/fast"));
      r.headers = {{"X-Ok", "1"}, {"X-Bad\r\nX-Injected", "1"}};
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.headers = {{"X-Bad", "a\r\nX-Injected: 1"}};
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.headers = {{"X-Bad", std::string("a\0b", 3)}};
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.headers = {{std::string("X-Bad\0", 6), "1"}};
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.headers = {{"X Bad", "1"}};
      CHECK(client.submit(&owner_a, grants, r, answers.done(), nullptr) == MODKIT_E_INVALID_ARGUMENT);
      r.headers = {};
      CHECK(client.submit(&owner_a, grants, r, nullptr, nullptr) == MODKIT_E_INVALID_ARGUMENT);
   }
   // Nothing reached either listener, and no done ran.
   std::this_thread::sleep_for(100ms);
   CHECK(other.accepted == 0);
   CHECK(server.requests == 0);
   CHECK(answers.count() == 0);
}

TEST_CASE("a host name that resolves to a loopback address is refused at connect") {
   ResetListener target;
   HttpClient client;
   const std::string url = "http://localhost:" + std::to_string(target.port) + "/x";
   const HttpAnswer a = fetch(client, {"http://localhost:" + std::to_string(target.port) + "/"}, get(url));
   CHECK(a.status == MODKIT_E_DENIED);
   CHECK(contains(a.message, url));
   CHECK(contains(a.message, "refused to connect to"));
   CHECK(target.accepted == 0);
   // The same listener, granted by its literal address, is reached.
   const HttpAnswer b = fetch(client, {target.url("/")}, get(target.url("/x")));
   CHECK(b.status == MODKIT_E_INTERNAL);
   CHECK(target.accepted == 1);
}

TEST_CASE("a granted request is answered on the client's thread") {
   Server server;
   Answers answers; // outlives the client, whose destructor may still answer
   HttpClient client;
   const std::vector<std::string> grants{server.origin() + "/"};
   uint64_t id = 0;

   SUBCASE("200 with headers and body") {
      REQUIRE(client.submit(&owner_a, grants, get(server.url("/fast")), answers.done(), &id) == MODKIT_PENDING);
      CHECK(id != 0);
      REQUIRE(answers.wait(1));
      const HttpAnswer &a = answers.got[0];
      CHECK(a.status == MODKIT_OK);
      CHECK(a.code == 200);
      CHECK(a.body == "hello");
      CHECK(a.message == "");
      CHECK(header(a, "X-Test") == "fast");
      CHECK(header(a, "content-length") == "5");
      CHECK(answers.threads[0] != std::this_thread::get_id());
      std::this_thread::sleep_for(20ms);
      CHECK(answers.count() == 1); // exactly once
   }
   SUBCASE("a 4xx is a response like any other") {
      const HttpAnswer a = fetch(client, grants, get(server.url("/teapot")));
      CHECK(a.status == MODKIT_OK);
      CHECK(a.code == 418);
      CHECK(a.body == "short and stout");
   }
   SUBCASE("304 is not a redirect") {
      const HttpAnswer a = fetch(client, grants, get(server.url("/not-modified")));
      CHECK(a.status == MODKIT_OK);
      CHECK(a.code == 304);
   }
   SUBCASE("IDs are distinct") {
      uint64_t second = 0;
      REQUIRE(client.submit(&owner_a, grants, get(server.url("/fast")), answers.done(), &id) == MODKIT_PENDING);
      REQUIRE(client.submit(&owner_a, grants, get(server.url("/fast")), answers.done(), &second) == MODKIT_PENDING);
      CHECK(id != second);
      REQUIRE(answers.wait(2));
   }
}

TEST_CASE("methods, headers and bodies go out as given") {
   Server server;
   HttpClient client;
   const std::vector<std::string> grants{server.url("/echo")};
   auto echo = [&](HttpRequest r) {
      const HttpAnswer a = fetch(client, grants, std::move(r));
      REQUIRE(a.status == MODKIT_OK);
      REQUIRE(a.code == 200);
      return nlohmann::json::parse(a.body);
   };

   SUBCASE("POST with a body and headers") {
      HttpRequest r = get(server.url("/echo"));
      r.method = "POST";
      r.body = std::string("binary\0body", 11);
      r.headers = {{"X-Custom", "value 1"}, {"Content-Type", "application/octet-stream"}};
      const auto j = echo(r);
      CHECK(j["method"] == "POST");
      CHECK(j["body"] == std::string("binary\0body", 11));
      CHECK(j["headers"]["X-Custom"] == "value 1");
      CHECK(j["headers"]["Content-Type"] == "application/octet-stream");
   }
   SUBCASE("a header with an empty value is sent empty, not dropped (cpp-httplib drops it: raw)") {
      ResetListener raw;
      HttpRequest r = get(raw.url("/x"));
      r.headers = {{"X-Empty", ""}, {"X-Custom", "v"}};
      fetch(client, {raw.url("/")}, r);
      CHECK(contains(raw.request(), "\r\nX-Empty:\r\n"));
      CHECK(contains(raw.request(), "\r\nX-Custom: v\r\n"));
   }
   SUBCASE("a body without a Content-Type is not sent as a form") {
      HttpRequest r = get(server.url("/echo"));
      r.method = "PUT";
      r.body = "a=1";
      const auto j = echo(r);
      CHECK(j["method"] == "PUT");
      CHECK(j["body"] == "a=1");
      CHECK_FALSE(j["headers"].contains("Content-Type"));
   }
   SUBCASE("a large body goes without waiting for 100 Continue") {
      HttpRequest r = get(server.url("/echo"));
      r.method = "POST";
      r.body = std::string(2u << 20, 'z'); // curl asks "Expect: 100-continue" above 1 MiB
      r.headers = {{"Content-Type", "text/plain"}};
      const auto j = echo(r);
      CHECK(j["body"].get<std::string>().size() == (2u << 20));
      CHECK_FALSE(j["headers"].contains("Expect"));
   }
   SUBCASE("POST without a body sends Content-Length 0") {
      HttpRequest r = get(server.url("/echo"));
      r.method = "POST";
      const auto j = echo(r);
      CHECK(j["method"] == "POST");
      CHECK(j["headers"]["Content-Length"] == "0");
   }
   SUBCASE("DELETE and GET") {
      HttpRequest r = get(server.url("/echo"));
      r.method = "DELETE";
      CHECK(echo(r)["method"] == "DELETE");
      CHECK(echo(get(server.url("/echo")))["method"] == "GET");
   }
}

TEST_CASE("a TLS peer no CA vouches for is refused before any request reaches it") {
   TlsServer server;
   HttpClient client;
   const HttpAnswer a = fetch(client, {server.origin() + "/"}, get(server.origin() + "/secret"));
   CHECK(a.status == MODKIT_E_INTERNAL);
   CHECK(a.code == 0);
   CHECK(a.body.empty());
   CHECK(contains(a.message, server.origin() + "/secret"));
   // curl's words for a failed verification: "SSL certificate problem: self-signed certificate".
   CHECK_MESSAGE(contains(a.message, "certificate"), a.message);
   CHECK(server.requests == 0);
   // The server itself works: a client that skips verification (the service never does) gets in.
   httplib::SSLClient insecure("127.0.0.1", server.port);
   insecure.enable_server_certificate_verification(false);
   const auto r = insecure.Get("/secret");
   REQUIRE(r);
   CHECK(r->status == 200);
   CHECK(server.requests == 1);
}

TEST_CASE("each failure is answered with its status and a message naming the URL") {
   Server server;
   HttpClient client;
   const std::vector<std::string> grants{server.origin() + "/"};

   SUBCASE("timeout") {
      HttpRequest r = get(server.url("/slow"));
      r.timeout_ms = 200;
      const auto start = std::chrono::steady_clock::now();
      const HttpAnswer a = fetch(client, grants, r);
      CHECK(a.status == MODKIT_E_TIMEOUT);
      CHECK(contains(a.message, server.url("/slow")));
      CHECK(contains(a.message, "200 ms"));
      CHECK(a.code == 0);
      CHECK(a.body.empty());
      CHECK(std::chrono::steady_clock::now() - start < 3s);
   }
   SUBCASE("a message never shows the URL's password") {
      HttpRequest r = get("http://user:secret@127.0.0.1:" + std::to_string(server.port) + "/slow");
      r.timeout_ms = 100;
      const HttpAnswer a = fetch(client, grants, r);
      CHECK(a.status == MODKIT_E_TIMEOUT);
      CHECK(contains(a.message, server.url("/slow")));
      CHECK_FALSE(contains(a.message, "secret"));
   }
   SUBCASE("connection reset") {
      ResetListener reset;
      const HttpAnswer a = fetch(client, {reset.url("/")}, get(reset.url("/x")));
      CHECK(a.status == MODKIT_E_INTERNAL);
      CHECK(contains(a.message, reset.url("/x")));
      CHECK(contains(a.message, "curl"));
      CHECK(a.body.empty());
      CHECK(reset.accepted == 1);
   }
   SUBCASE("connection refused") {
      const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
      const HttpAnswer a = fetch(client, {url}, get(url));
      CHECK(a.status == MODKIT_E_INTERNAL);
      CHECK(contains(a.message, url));
   }
   SUBCASE("TLS handshake with a server that speaks plain HTTP") {
      const std::string url = "https://127.0.0.1:" + std::to_string(server.port) + "/fast";
      const HttpAnswer a = fetch(client, {url}, get(url));
      CHECK(a.status == MODKIT_E_INTERNAL);
      CHECK(contains(a.message, url));
   }
   SUBCASE("a name that does not resolve") {
      const HttpAnswer a = fetch(client, {"http://no-such-host.invalid/"}, get("http://no-such-host.invalid/x"));
      CHECK(a.status == MODKIT_E_INTERNAL);
      CHECK(contains(a.message, "http://no-such-host.invalid/x"));
   }
   SUBCASE("a body over max_response_bytes, with a Content-Length or chunked") {
      for (const std::string path : {"/bytes?n=65537", "/chunked?n=1048576"}) {
         CAPTURE(path);
         HttpRequest r = get(server.url(path));
         r.max_response_bytes = 65536;
         const HttpAnswer a = fetch(client, grants, r);
         CHECK(a.status == MODKIT_E_NO_MEMORY);
         CHECK(contains(a.message, "65536 bytes"));
         CHECK(contains(a.message, server.url(path)));
         CHECK(a.body.empty());
      }
      for (const std::string path : {"/bytes?n=65536", "/chunked?n=65536"}) {
         CAPTURE(path);
         HttpRequest r = get(server.url(path));
         r.max_response_bytes = 65536;
         const HttpAnswer a = fetch(client, grants, r);
         CHECK(a.status == MODKIT_OK);
         CHECK(a.body.size() == 65536);
      }
   }
}

TEST_CASE("a proxy from the environment is not used: the address filter must see the target") {
   Server server;
   ResetListener proxy;
   const char *saved_no_proxy = std::getenv("no_proxy");
   const std::string no_proxy = saved_no_proxy ? saved_no_proxy : "";
   // Before the client's thread exists: setenv must not race with curl's getenv.
   setenv("http_proxy", proxy.url("/").c_str(), 1);
   unsetenv("no_proxy");
   HttpAnswer a;
   {
      HttpClient client;
      a = fetch(client, {server.origin() + "/"}, get(server.url("/fast")));
   }
   unsetenv("http_proxy");
   if (saved_no_proxy) setenv("no_proxy", no_proxy.c_str(), 1);
   CHECK(a.status == MODKIT_OK);
   CHECK(a.body == "hello");
   CHECK(proxy.accepted == 0);
}

TEST_CASE("redirects are followed only when asked, and each target is checked") {
   Server server, elsewhere;
   ResetListener ungranted;
   HttpClient client;
   const std::vector<std::string> grants{server.origin() + "/", elsewhere.origin() + "/"};

   SUBCASE("not followed by default: unsupported, with the 3xx response") {
      const HttpAnswer a = fetch(client, grants, get(server.url("/redirect-fast")));
      CHECK(a.status == MODKIT_E_UNSUPPORTED);
      CHECK(a.code == 302);
      CHECK(header(a, "Location") == "/fast");
      CHECK(contains(a.message, server.url("/redirect-fast")));
   }
   SUBCASE("followed to a granted URL") {
      HttpRequest r = get(server.url("/redirect-fast"));
      r.follow_redirects = true;
      const HttpAnswer a = fetch(client, grants, r);
      CHECK(a.status == MODKIT_OK);
      CHECK(a.code == 200);
      CHECK(a.body == "hello");
      CHECK(header(a, "Location") == "<absent>"); // the final response's headers only
   }
   SUBCASE("a redirect to a URL not granted is denied, and nothing connects there") {
      server.redirect_to(ungranted.url("/x"));
      HttpRequest r = get(server.url("/redirect-away"));
      r.follow_redirects = true;
      const HttpAnswer a = fetch(client, grants, r);
      CHECK(a.status == MODKIT_E_DENIED);
      CHECK(contains(a.message, ungranted.url("/x")));
      CHECK(a.code == 0);
      std::this_thread::sleep_for(50ms);
      CHECK(ungranted.accepted == 0);
   }
   SUBCASE("a redirect to file:// is denied") {
      HttpRequest r = get(server.url("/redirect-file"));
      r.follow_redirects = true;
      CHECK(fetch(client, grants, r).status == MODKIT_E_DENIED);
   }
   SUBCASE("at most 5 redirects") {
      HttpRequest r = get(server.url("/loop"));
      r.follow_redirects = true;
      const HttpAnswer a = fetch(client, grants, r);
      CHECK(a.status == MODKIT_E_UNSUPPORTED);
      CHECK(a.code == 302);
      CHECK(server.loop_hits == 6);
   }
   SUBCASE("303 turns a POST into a GET, 307 keeps it") {
      HttpRequest r = get(server.url("/redirect-303"));
      r.method = "POST";
      r.body = "payload";
      r.follow_redirects = true;
      HttpAnswer a = fetch(client, grants, r);
      REQUIRE(a.status == MODKIT_OK);
      auto j = nlohmann::json::parse(a.body);
      CHECK(j["method"] == "GET");
      CHECK(j["body"] == "");
      r.url = server.url("/redirect-307");
      a = fetch(client, grants, r);
      REQUIRE(a.status == MODKIT_OK);
      j = nlohmann::json::parse(a.body);
      CHECK(j["method"] == "POST");
      CHECK(j["body"] == "payload");
   }
   SUBCASE("credentials stay with their origin") {
      HttpRequest r = get(server.url("/redirect-away"));
      r.headers = {{"Authorization", "Bearer secret"}, {"X-Other", "kept"}};
      r.follow_redirects = true;
      server.redirect_to("/echo");
      HttpAnswer a = fetch(client, grants, r);
      REQUIRE(a.status == MODKIT_OK);
      CHECK(nlohmann::json::parse(a.body)["headers"]["Authorization"] == "Bearer secret");
      server.redirect_to(elsewhere.url("/echo"));
      a = fetch(client, grants, r);
      REQUIRE(a.status == MODKIT_OK);
      const auto j = nlohmann::json::parse(a.body);
      CHECK_FALSE(j["headers"].contains("Authorization"));
      CHECK(j["headers"]["X-Other"] == "kept");
      CHECK(elsewhere.requests == 1);
   }
}

TEST_CASE("cancel answers the request with cancelled, once") {
   Server server;
   Answers answers, second; // outlive the client, whose destructor may still answer
   HttpClient client;
   const std::vector<std::string> grants{server.origin() + "/"};
   uint64_t id = 0;
   REQUIRE(client.submit(&owner_a, grants, get(server.url("/slow")), answers.done(), &id) == MODKIT_PENDING);

   CHECK(client.cancel(&owner_b, id) == MODKIT_E_NOT_FOUND); // not its request
   CHECK(client.cancel(&owner_a, id + 1000) == MODKIT_E_NOT_FOUND);
   const auto start = std::chrono::steady_clock::now();
   CHECK(client.cancel(&owner_a, id) == MODKIT_OK);
   REQUIRE(answers.wait(1, 3s));
   CHECK(std::chrono::steady_clock::now() - start < 2s); // /slow holds its answer for 5 s
   CHECK(answers.got[0].status == MODKIT_E_CANCELLED);
   CHECK(contains(answers.got[0].message, server.url("/slow")));
   CHECK(client.cancel(&owner_a, id) == MODKIT_E_NOT_FOUND);
   std::this_thread::sleep_for(50ms);
   CHECK(answers.count() == 1);

   // A request that has been answered cannot be cancelled.
   REQUIRE(client.submit(&owner_a, grants, get(server.url("/fast")), second.done(), &id) == MODKIT_PENDING);
   REQUIRE(second.wait(1));
   CHECK(client.cancel(&owner_a, id) == MODKIT_E_NOT_FOUND);
   CHECK(second.got[0].status == MODKIT_OK);
}

TEST_CASE("once cancel returns OK, done gets cancelled even if the request failed meanwhile") {
   Server server;
   const std::vector<std::string> grants{server.origin() + "/"};
   // The first done holds the client's thread while the second request's deadline passes. The
   // gate opens before the client is destroyed, whatever happens, so the join cannot hang.
   struct Gate {
      std::mutex mutex;
      std::condition_variable cv;
      bool holding = false, open = false;
      void release() {
         std::lock_guard<std::mutex> lock(mutex);
         open = true;
         cv.notify_all();
      }
   } gate;
   Answers answers;
   HttpClient client;
   struct Opener {
      Gate &gate;
      ~Opener() { gate.release(); }
   } opener{gate};

   HttpClient::Done hold = [&gate](HttpAnswer &) {
      std::unique_lock<std::mutex> lock(gate.mutex);
      gate.holding = true;
      gate.cv.notify_all();
      gate.cv.wait(lock, [&] { return gate.open; });
   };
   REQUIRE(client.submit(&owner_a, grants, get(server.url("/fast")), hold, nullptr) == MODKIT_PENDING);
   {
      std::unique_lock<std::mutex> lock(gate.mutex);
      REQUIRE(gate.cv.wait_for(lock, 10s, [&] { return gate.holding; }));
   }
   HttpRequest r = get(server.url("/fast"));
   r.timeout_ms = 1;
   uint64_t id = 0;
   REQUIRE(client.submit(&owner_a, grants, r, answers.done(), &id) == MODKIT_PENDING);
   std::this_thread::sleep_for(20ms); // past its deadline before the thread has seen it
   CHECK(client.cancel(&owner_a, id) == MODKIT_OK);
   gate.release();
   REQUIRE(answers.wait(1));
   CHECK(answers.got[0].status == MODKIT_E_CANCELLED);
}

TEST_CASE("drain waits for the owner's done callbacks and leaves other owners alone") {
   Server server;
   const std::vector<std::string> grants{server.origin() + "/"};
   std::atomic<int> returned{0};
   std::vector<modkit_status> statuses(3, MODKIT_OK);
   Answers b;
   HttpClient client; // destroyed first: its late answers find the above alive
   for (int i = 0; i < 3; ++i) {
      HttpClient::Done slow_done = [&, i](HttpAnswer &a) {
         statuses[static_cast<size_t>(i)] = a.status;
         std::this_thread::sleep_for(50ms);
         ++returned;
      };
      REQUIRE(client.submit(&owner_a, grants, get(server.url("/slow")), slow_done, nullptr) == MODKIT_PENDING);
   }
   uint64_t b_id = 0;
   REQUIRE(client.submit(&owner_b, grants, get(server.url("/slow")), b.done(), &b_id) == MODKIT_PENDING);

   client.drain(&owner_a);
   CHECK(returned == 3);
   CHECK(statuses == std::vector<modkit_status>(3, MODKIT_E_CANCELLED));
   CHECK(b.count() == 0);
   CHECK(client.cancel(&owner_b, b_id) == MODKIT_OK); // still running
   REQUIRE(b.wait(1));
   client.drain(&owner_a); // nothing left: returns at once
   client.drain(&owner_b);
}

TEST_CASE("a done callback may submit, cancel and drain") {
   Server server;
   const std::vector<std::string> grants{server.origin() + "/"};
   Answers chained;
   std::atomic<modkit_status> resubmit{MODKIT_OK}, cancelled{MODKIT_OK};
   uint64_t slow_id = 0;
   HttpClient client; // destroyed first: its late answers find the above alive
   REQUIRE(client.submit(&owner_b, grants, get(server.url("/slow")), chained.done(), &slow_id) == MODKIT_PENDING);
   HttpClient::Done first = [&](HttpAnswer &) {
      resubmit = client.submit(&owner_a, grants, get(server.url("/fast")), chained.done(), nullptr);
      cancelled = client.cancel(&owner_b, slow_id);
      client.drain(&owner_a); // on the client's thread: cancels, cannot wait
   };
   REQUIRE(client.submit(&owner_a, grants, get(server.url("/fast")), first, nullptr) == MODKIT_PENDING);
   REQUIRE(chained.wait(2));
   CHECK(resubmit == MODKIT_PENDING);
   CHECK(cancelled == MODKIT_OK);
   for (const HttpAnswer &a : chained.got) CHECK(a.status == MODKIT_E_CANCELLED);
}

TEST_CASE("destroying the client cancels what is running and waits for the callbacks") {
   Server server;
   Answers answers;
   const auto start = std::chrono::steady_clock::now();
   {
      HttpClient client;
      for (int i = 0; i < 3; ++i)
         REQUIRE(client.submit(&owner_a, {server.origin() + "/"}, get(server.url("/slow")), answers.done(), nullptr) ==
                 MODKIT_PENDING);
   }
   CHECK(answers.count() == 3);
   for (const HttpAnswer &a : answers.got) CHECK(a.status == MODKIT_E_CANCELLED);
   for (std::thread::id t : answers.threads) CHECK(t != std::this_thread::get_id());
   CHECK(std::chrono::steady_clock::now() - start < 3s);
   HttpClient unused; // never started: nothing to join
}

TEST_CASE("64 requests at once are all answered") {
   Server server;
   Answers answers; // outlives the client, whose destructor may still answer
   HttpClient client;
   const std::vector<std::string> grants{server.origin() + "/"};
   for (int i = 0; i < 64; ++i)
      REQUIRE(client.submit(&owner_a, grants, get(server.url("/delay")), answers.done(), nullptr) == MODKIT_PENDING);
   REQUIRE(answers.wait(64, 30s));
   for (size_t i = 0; i < answers.got.size(); ++i) {
      CAPTURE(i);
      CHECK(answers.got[i].status == MODKIT_OK);
      CHECK(answers.got[i].body == "delayed");
      CHECK(answers.threads[i] != std::this_thread::get_id());
   }
   CHECK(server.max_in_flight > 8); // they ran side by side, not one by one
   std::this_thread::sleep_for(20ms);
   CHECK(answers.count() == 64);
}
