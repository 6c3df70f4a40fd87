// hostile_http_tests.cpp - the HTTP layer against clients that send too much, too slowly, or
// framed so a proxy would read it differently. Each case checks the exact answer, then that the
// server still serves an ordinary request, and that memory stayed bounded.
#include "raw_http.hpp"

using json = nlohmann::json;
using test::round_trip;
using test::get;
using test::healthy;
using test::Host;
using test::Raw;
using test::Served;
using test::with_body;

namespace {

// Short deadlines, so the slow cases take a second, not thirty.
const json quick = {{"limits", {{"request_timeout_ms", 1000}, {"idle_timeout_ms", 1000}, {"write_timeout_ms", 1000}}}};

const std::string register_path = "/_matrix/client/v3/register";

} // namespace

TEST_CASE("hostile HTTP: oversized heads and bodies are refused with 413, 414 or 431, at once") {
   Host host({}, quick);
   Served s(*host.app);
   const long before = test::resident_kib();

   SUBCASE("a header line that never ends") {
      Raw c(s.port);
      c.send("GET /_matrix/client/versions HTTP/1.1\r\nX-Long: ");
      // Far more than the 16 KiB head limit; the server stops reading and answers.
      for (int i = 0; i < 64 && c.send(std::string(1024, 'a')); ++i) {
      }
      const auto r = c.read();
      CHECK(r.status == 431);
      CHECK(r.errcode() == "M_TOO_LARGE");
      CHECK(c.closed_within(2000));
   }
   SUBCASE("a request target longer than the request line limit") {
      const auto r = round_trip(s.port, get("/_matrix/client/versions?x=" + std::string(9000, 'a')));
      CHECK(r.status == 414);
      CHECK(r.errcode() == "M_TOO_LARGE");
   }
   SUBCASE("more header fields than allowed") {
      std::string head = "GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n";
      for (int i = 0; i < 150; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
      const auto r = round_trip(s.port, head + "\r\n");
      CHECK(r.status == 431);
      CHECK(r.errcode() == "M_TOO_LARGE");
   }
   SUBCASE("a Content-Length far above the limit is refused before any body byte") {
      const auto start = std::chrono::steady_clock::now();
      const auto r = round_trip(s.port, "POST " + register_path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n");
      CHECK(r.status == 413);
      CHECK(r.errcode() == "M_TOO_LARGE");
      CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900));
   }
   SUBCASE("a chunked body that never ends stops at the body limit") {
      Raw c(s.port);
      c.send("POST " + register_path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n"; // 64 KiB each
      for (int i = 0; i < 24 && c.send(chunk); ++i) {
      }
      const auto r = c.read();
      CHECK(r.status == 413);
      CHECK(r.errcode() == "M_TOO_LARGE");
   }
   SUBCASE("a JSON body above the JSON limit but within the body limit") {
      const std::string body = "{\"x\": \"" + std::string(300 * 1024, 'a') + "\"}";
      const auto r = round_trip(s.port, with_body("POST", register_path, body));
      CHECK(r.status == 413);
      CHECK(r.errcode() == "M_TOO_LARGE");
   }
   CHECK(healthy(s.port));
   // Nothing above was kept: a few MiB of buffers at most, never the tens of MiB sent.
   CHECK(test::resident_kib() - before < 16 * 1024);
}

TEST_CASE("hostile HTTP: ambiguous framing is refused with 400, so nothing can be smuggled") {
   Host host({}, quick);
   Served s(*host.app);
   const std::string head = "POST " + register_path + " HTTP/1.1\r\nHost: x\r\n";
   std::string request;
   SUBCASE("two different Content-Lengths") { request = head + "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"; }
   SUBCASE("Content-Length and chunked") { request = head + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"; }
   SUBCASE("a transfer coding other than chunked") { request = head + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"; }
   SUBCASE("a Content-Length that is not a number") { request = head + "Content-Length: 2x\r\n\r\n{}"; }
   SUBCASE("a request line that is not HTTP") { request = "GARBAGE\r\n\r\n"; }
   SUBCASE("an absolute-form target") { request = "GET http://evil.example/_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n"; }
   Raw c(s.port);
   c.send(request + get("/_matrix/client/versions")); // a second request hidden behind the first
   const auto r = c.read();
   CHECK(r.status == 400);
   CHECK(r.errcode() == "M_UNKNOWN");
   CHECK(r.headers.at("connection") == "close");
   // The hidden request is never answered: the connection ends with the refusal.
   CHECK(c.read(1500).status == 0);
   CHECK(healthy(s.port));
}

TEST_CASE("hostile HTTP: pipelined requests are answered in order, and a POST without a body at once") {
   Host host({}, quick);
   Served s(*host.app);
   Raw c(s.port);
   const std::string body = R"({"username": "p", "password": "pw", "auth": {"type": "m.login.dummy"}})";
   c.send(get("/_matrix/client/versions") + with_body("POST", register_path, body) + get("/_matrix/client/v3/login") +
          get("/_matrix/client/v3/nowhere"));
   const auto a = c.read(), b = c.read(), l = c.read(), d = c.read();
   CHECK(a.status == 200);
   CHECK(a.json_body().contains("versions"));
   CHECK(b.status == 200);
   CHECK(b.json_body()["user_id"] == "@p:example.org");
   CHECK(l.status == 200);
   CHECK(l.json_body().contains("flows"));
   CHECK(d.status == 404);
   CHECK(d.errcode() == "M_UNRECOGNIZED");

   const auto start = std::chrono::steady_clock::now();
   const auto empty = round_trip(s.port, "POST " + register_path + " HTTP/1.1\r\nHost: x\r\n\r\n");
   CHECK(empty.status == 401); // the registration flows: an empty body is {}
   CHECK(empty.json_body().contains("flows"));
   CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900));

   // A client that waits for "100 Continue" gets it.
   Raw e(s.port);
   e.send("POST " + register_path + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
   std::this_thread::sleep_for(std::chrono::milliseconds(50));
   e.send("{}");
   CHECK(e.read().status == 401);
}

TEST_CASE("hostile HTTP: slow and idle connections cannot starve others, and are closed at their deadline") {
   Host host({}, quick);
   Served s(*host.app);
   const long before = test::resident_kib();
   // More slow clients than there are workers (8): none of them holds one.
   std::vector<std::unique_ptr<Raw>> slow, idle;
   for (int i = 0; i < 16; ++i) {
      slow.push_back(std::make_unique<Raw>(s.port));
      slow.back()->send("POST " + register_path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
      idle.push_back(std::make_unique<Raw>(s.port));
   }
   for (int tick = 0; tick < 3; ++tick) {
      for (auto &c : slow) c->send("x"); // one byte at a time
      const auto start = std::chrono::steady_clock::now();
      CHECK(healthy(s.port));
      CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
   }
   // The request deadline (1 s here) closes the slow ones, the idle deadline the others.
   for (auto &c : slow) CHECK(c->closed_within(2500));
   for (auto &c : idle) CHECK(c->closed_within(2500));
   CHECK(healthy(s.port));
   CHECK(test::resident_kib() - before < 16 * 1024);
}

TEST_CASE("hostile HTTP: connections above max_connections are closed at once") {
   json config = quick;
   config["limits"]["max_connections"] = 4;
   Host host({}, config);
   Served s(*host.app);
   std::vector<std::unique_ptr<Raw>> held;
   for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<Raw>(s.port));
      held.back()->send("G"); // started, so each is surely accepted before the next
   }
   std::this_thread::sleep_for(std::chrono::milliseconds(100));
   Raw extra(s.port);
   CHECK(extra.closed_within(1000));
   held.clear();
   // Once the held ones are gone, there is room again.
   bool served = false;
   for (int attempt = 0; attempt < 20 && !served; ++attempt) {
      served = healthy(s.port);
      if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
   }
   CHECK(served);
}

TEST_CASE("hostile HTTP: a URL that is not UTF-8 is a 400, never a 500, and no internal text leaks") {
   Host host({}, quick);
   Served s(*host.app);
   const auto r = round_trip(s.port, get("/_matrix/client/v3/rooms/%FF%FE/messages"));
   CHECK(r.status == 400);
   CHECK(r.errcode() == "M_INVALID_PARAM");
   for (const auto &[name, value] : r.headers) {
      CHECK(value.find("exception") == std::string::npos);
      CHECK(value.find("json.") == std::string::npos);
   }
   CHECK(r.body.find("exception") == std::string::npos);
   // A raw byte above 0x7f in the target: not UTF-8, refused the same way.
   const auto raw = round_trip(s.port, get("/_matrix/client/v3/profile/@a\xff:example.org"));
   CHECK(raw.status == 400);
   CHECK(healthy(s.port));
}
