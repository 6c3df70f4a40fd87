// loop_threads_tests.cpp - requests run on the thread that leads the HTTP server's loop, and a
// request that waits passes the loop on (loop_threads.hpp): a module that suspends, or blocks
// inside its callback, holds up only its own client; the threads stay within
// limits.worker_threads + 1, and with none left the loop waits rather than grows; a server
// stopped while a module holds a request waits for it.
#include "raw_http.hpp"
#include "support.hpp"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace loop_threads_tests {

using namespace test;
using Clock = std::chrono::steady_clock;
const std::string c = "/_matrix/client/v3";

std::string send(const std::string &room, const std::string &txn, const std::string &token) {
   return with_body("PUT", c + "/rooms/" + room + "/send/m.room.message/" + txn,
                    R"({"msgtype": "m.text", "body": "hello"})", token);
}

json slow(int delay_ms, bool block) {
   return {{"module", "chat_slow"},
           {"config", {{"delay_ms", delay_ms}, {"block", block}, {"check_event_for_spam", MODKIT_NOT_SPAM}}}};
}

double ms_since(Clock::time_point start) {
   return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// While a module holds one client's message for 1.5 s, another client is answered at once.
void other_clients_go_on(Host &host) {
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string room = host.room(alice);
   Served served(*host.app);
   Raw sender(served.port);
   REQUIRE(sender.send(send(room, "1", alice)));
   std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the message reaches the module

   const auto start = Clock::now();
   Raw other(served.port);
   REQUIRE(other.send(get(c + "/account/whoami", bob)));
   CHECK(other.read(5000).status == 200);
   CHECK(ms_since(start) < 1000); // were the loop held, about 1400 ms

   const Reply sent = sender.read(10000);
   CHECK(sent.status == 200);
   CHECK(sent.json_body().contains("event_id"));
   // The one the module held and the one that took the loop (a slow, sanitized request may pass
   // it once more).
   CHECK(served.server.threads() >= 2);
}

TEST_CASE("loop threads: a module that suspends holds up only its own client") {
   Host host({slow(1500, false)});
   other_clients_go_on(host);
}

TEST_CASE("loop threads: a module that blocks inside its callback holds up only its own client") {
   // It never says it waits: the monitor sees the request run past its bound and passes the loop.
   Host host({slow(1500, true)});
   other_clients_go_on(host);
   CHECK(host.logged("slow:check_event_for_spam blocked"));
}

TEST_CASE("loop threads: at most worker_threads requests wait while the loop runs; past that the loop waits too") {
   // One worker: two threads in all. The first held message passes the loop to the second
   // thread; the second held message finds no thread to pass it to, so the loop waits for
   // the first to end.
   Host host({slow(800, false)}, {{"limits", {{"worker_threads", 1}}}});
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string room = host.room(alice);
   Served served(*host.app);
   Raw first(served.port), second(served.port), other(served.port);
   REQUIRE(first.send(send(room, "1", alice)));
   std::this_thread::sleep_for(std::chrono::milliseconds(100));
   REQUIRE(second.send(send(room, "2", alice)));
   std::this_thread::sleep_for(std::chrono::milliseconds(100));

   const auto start = Clock::now();
   REQUIRE(other.send(get(c + "/account/whoami", bob)));
   CHECK(other.read(10000).status == 200);
   CHECK(ms_since(start) >= 300); // answered once the first message's thread was free again
   CHECK(first.read(10000).status == 200);
   CHECK(second.read(10000).status == 200);
   CHECK(served.server.threads() == 2);

   SUBCASE("many held requests at once are all answered, on no more threads") {
      std::vector<std::unique_ptr<Raw>> senders;
      for (int i = 0; i < 6; ++i) {
         senders.push_back(std::make_unique<Raw>(served.port));
         REQUIRE(senders.back()->send(send(room, "many-" + std::to_string(i), alice)));
      }
      for (auto &s : senders) CHECK(s->read(20000).status == 200);
      CHECK(served.server.threads() == 2);
   }
}

TEST_CASE("loop threads: held and quick requests mixed on many connections are each answered once, in order") {
   // Every message is held 5 ms by the module, so the loop changes hands all the time, among
   // three threads at most; the quick requests in between must not be lost, doubled or reordered.
   Host host({slow(5, false)}, {{"limits", {{"worker_threads", 2}}}});
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string room = host.room(alice);
   Served served(*host.app);
   constexpr int connections = 6, rounds = 10;
   std::vector<std::thread> clients;
   std::atomic<int> answered{0}, wrong{0};
   for (int i = 0; i < connections; ++i)
      clients.emplace_back([&, i] {
         Raw raw(served.port);
         for (int r = 0; r < rounds; ++r) {
            // Pipelined: the message and the quick request go out together.
            if (!raw.send(send(room, "mix-" + std::to_string(i) + "-" + std::to_string(r), alice) +
                          get(c + "/account/whoami", bob)))
               return;
            const Reply held = raw.read(10000), quick = raw.read(10000);
            if (held.status == 200 && held.json_body().contains("event_id") && quick.status == 200 &&
                quick.json_body().value("user_id", "") == "@bob:example.org")
               answered += 2;
            else
               ++wrong;
         }
      });
   for (auto &t : clients) t.join();
   CHECK(wrong == 0);
   CHECK(answered == 2 * connections * rounds);
   CHECK(served.server.threads() <= 3);
}

TEST_CASE("loop threads: a server stopped while a module holds a request waits for it, then is gone") {
   Host host({slow(500, false)});
   const std::string alice = host.user("alice");
   const std::string room = host.room(alice);
   auto served = std::make_unique<Served>(*host.app);
   Raw sender(served->port);
   REQUIRE(sender.send(send(room, "1", alice)));
   std::this_thread::sleep_for(std::chrono::milliseconds(100));
   const auto start = Clock::now();
   served.reset(); // stops the loop, then waits for the held request's thread
   CHECK(ms_since(start) >= 300);
   // The module logs just after its completion, which may come after the request's end.
   for (int i = 0; i < 200 && !host.logged("slow:check_event_for_spam completed ok"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
   CHECK(host.logged("slow:check_event_for_spam completed ok"));
   // The message was stored; its answer had no loop left to go out on.
   CHECK(sender.read(1000).status == 0);
}

} // namespace loop_threads_tests
