// long_poll_tests.cpp - long-polling /sync over real HTTP: a waiting request holds no worker
// thread, news wakes exactly the clients it concerns, a timeout answers empty, and a server that
// stops with requests waiting leaves nothing behind.
#include "raw_http.hpp"
#include "support.hpp"

#include <memory>
#include <vector>

namespace long_poll_tests {

using namespace test;
const std::string c = "/_matrix/client/v3";

TEST_CASE("long polling: many waiting syncs hold no worker, and one message wakes them all") {
   // Two workers: were a waiting sync to keep one, the third request would starve.
   Host host({probe("chat_a", "a")}, {{"limits", {{"worker_threads", 2}}}});
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string room = host.room(alice, {{"invite", {"@bob:example.org"}}});
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200);
   const std::string since = Host::body(host.request("GET", c + "/sync", nullptr, bob))["next_batch"];
   Served served(*host.app);

   constexpr int clients = 40;
   std::vector<std::unique_ptr<Raw>> waiting;
   for (int i = 0; i < clients; ++i) {
      waiting.push_back(std::make_unique<Raw>(served.port));
      REQUIRE(waiting.back()->send(get(c + "/sync?since=" + since + "&timeout=60000", bob)));
   }
   // All of them parked (the notifier holds one waiter per request) ...
   for (int i = 0; i < 500 && host.app->state().notifier.waiting() < clients; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
   REQUIRE(host.app->state().notifier.waiting() == clients);
   const std::string admin = host.admin();
   CHECK(host.request("GET", "/metrics", nullptr, admin).body.find("modkit_sync_requests_waiting 40\n") != std::string::npos);
   // ... and the server still answers everyone else, on the same two workers.
   Raw other(served.port);
   REQUIRE(other.send(get(c + "/account/whoami", alice)));
   CHECK(other.read(5000).status == 200);

   REQUIRE(host.say(alice, room, "to everyone").status == 200);
   for (auto &w : waiting) {
      const Reply r = w->read(10000);
      REQUIRE(r.status == 200);
      const json events = r.json_body()["rooms"]["join"][room]["timeline"]["events"];
      REQUIRE(events.size() == 1);
      CHECK(events[0]["content"]["body"] == "to everyone");
   }
   CHECK(host.app->state().notifier.waiting() == 0);

   SUBCASE("the connection stays usable: the next sync waits again, and its timeout answers empty") {
      auto &w = *waiting.front();
      REQUIRE(w.send(get(c + "/sync?since=s999999&timeout=200", bob)));
      const Reply r = w.read(5000);
      REQUIRE(r.status == 200);
      CHECK(r.json_body()["rooms"]["join"].empty());
   }
}

TEST_CASE("long polling: a parked sync wakes when someone's typing times out") {
   Host host({probe("chat_a", "a")});
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string room = host.room(alice, {{"invite", {"@bob:example.org"}}});
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200);
   REQUIRE(host.request("PUT", c + "/rooms/" + room + "/typing/@alice:example.org", {{"typing", true}, {"timeout", 300}},
                        alice).status == 200);
   const std::string since = Host::body(host.request("GET", c + "/sync", nullptr, bob))["next_batch"];
   Served served(*host.app);
   Raw waiting(served.port);
   REQUIRE(waiting.send(get(c + "/sync?since=" + since + "&timeout=20000", bob)));
   const Reply r = waiting.read(10000); // well before the long poll's own end
   REQUIRE(r.status == 200);
   CHECK(r.json_body()["rooms"]["join"][room]["ephemeral"]["events"][0]["content"]["user_ids"] == json::array());
}

TEST_CASE("long polling: a server stopped with syncs waiting forgets them") {
   Host host({probe("chat_a", "a")});
   const std::string bob = host.user("bob");
   const std::string since = Host::body(host.request("GET", c + "/sync", nullptr, bob))["next_batch"];
   std::vector<std::unique_ptr<Raw>> waiting;
   {
      Served served(*host.app);
      for (int i = 0; i < 5; ++i) {
         waiting.push_back(std::make_unique<Raw>(served.port));
         REQUIRE(waiting.back()->send(get(c + "/sync?since=" + since + "&timeout=60000", bob)));
      }
      for (int i = 0; i < 500 && host.app->state().notifier.waiting() < 5; ++i)
         std::this_thread::sleep_for(std::chrono::milliseconds(10));
      REQUIRE_MESSAGE(host.app->state().notifier.waiting() == 5, waiting.back()->read(100).body);
   }
   CHECK(host.app->state().notifier.waiting() == 0);
   // News after the server is gone reaches no freed connection (ASan would see it).
   host.room(bob);
}

} // namespace long_poll_tests
