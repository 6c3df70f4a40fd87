// http_antispam_tests.cpp - maunium/synapse-http-antispam has no test suite; these cases are the
// behaviour its README specifies, one case per statement, for the port
// (samples/synapse/http_antispam) loaded by the chat host, whose HTTP client asks a local
// antispam service (cpp-httplib on 127.0.0.1) that the test runs and scripts.
#include "support.hpp"

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

using test::Host;
using nlohmann::json;

namespace {

// The antispam service: POST /<callback> records what it was sent and answers as scripted
// (200 {} by default); /ping answers with the ID it was given unless told to answer wrongly.
struct Service {
   struct Received {
      std::string path, authorization;
      json body;
   };
   struct Answer {
      int status = 200;
      std::string body = "{}";
      std::string content_type = "application/json";
   };

   httplib::Server server;
   std::thread serving;
   std::mutex mutex;
   std::vector<Received> received;
   std::map<std::string, Answer> answers; // by callback
   int wrong_pings = 0;                   // this many pings are answered with another ID
   int port = 0;

   Service() {
      server.Post(R"(/(\w+))", [this](const httplib::Request &req, httplib::Response &res) {
         std::lock_guard<std::mutex> lock(mutex);
         const std::string path = req.matches[1];
         json body = json::parse(req.body, nullptr, false);
         received.push_back({path, req.get_header_value("Authorization"), body});
         if (path == "ping") {
            const bool wrong = wrong_pings > 0 && wrong_pings-- > 0;
            res.set_content(json{{"id", wrong ? json("someone else") : body["id"]}, {"status", "ok"}}.dump(),
                            "application/json");
            return;
         }
         const auto it = answers.find(path);
         const Answer a = it == answers.end() ? Answer{} : it->second;
         res.status = a.status;
         res.set_content(a.body, a.content_type);
      });
      port = server.bind_to_any_port("127.0.0.1");
      serving = std::thread([this] { server.listen_after_bind(); });
      while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
   }
   ~Service() { stop(); }
   void stop() {
      server.stop();
      if (serving.joinable()) serving.join();
   }
   std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port); }
   void answer(const std::string &path, Answer a) {
      std::lock_guard<std::mutex> lock(mutex);
      answers[path] = std::move(a);
   }
   // What the service received for path, in order.
   std::vector<Received> sent(const std::string &path) {
      std::lock_guard<std::mutex> lock(mutex);
      std::vector<Received> out;
      for (const auto &r : received)
         if (r.path == path) out.push_back(r);
      return out;
   }
   // Waits until the service has received n requests for path (background requests).
   bool wait_for(const std::string &path, size_t n, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
      const auto until = std::chrono::steady_clock::now() + limit;
      while (sent(path).size() < n) {
         if (std::chrono::steady_clock::now() > until) return false;
         std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return true;
   }
};

// The chat host with the port configured as config says, allowed to reach the service.
json modkit_config(const Service &service, json config) {
   if (!config.contains("base_url")) config["base_url"] = service.base_url();
   return {{"module_path", {MODKIT_SAMPLE_MODULE_DIR}},
           {"modules", {{{"module", "http_antispam"},
                         {"config", config},
                         {"permissions", {{"http", {service.base_url() + "/"}}}}}}}};
}

struct World {
   Service service;
   std::unique_ptr<Host> host;
   std::string alice, bob;

   explicit World(const json &config = json::object()) {
      host = std::make_unique<Host>(std::initializer_list<json>{}, json{{"modkit", modkit_config(service, config)}});
      alice = host->user("alice");
      bob = host->user("bob");
   }
   chat::Response create_room(const json &body = json::object()) {
      return host->request("POST", "/_matrix/client/v3/createRoom", body, alice);
   }
};

json body_of(const chat::Response &r) { return json::parse(r.body, nullptr, false); }

} // namespace

TEST_SUITE("http_antispam (its README)") {

TEST_CASE("each callback POSTs its parameters as JSON fields to <base_url>/<callback name>, with the bearer token") {
   World w(json{{"authorization", "random string"}});
   const auto created = w.create_room({{"room_alias_name", "town"}});
   REQUIRE(created.status == 200);
   const std::string room = body_of(created)["room_id"];
   REQUIRE(w.host->request("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {{"user_id", "@bob:example.org"}}, w.alice).status == 200);
   REQUIRE(w.host->request("POST", "/_matrix/client/v3/rooms/" + room + "/join", json::object(), w.bob).status == 200);
   REQUIRE(w.host->say(w.alice, room, "hello").status == 200);
   REQUIRE(w.host->request("PUT", "/_matrix/client/v3/directory/list/room/" + room, {{"visibility", "public"}}, w.alice).status == 200);
   REQUIRE(w.host->request("POST", "/_matrix/client/v3/user_directory/search", {{"search_term", "bob"}}, w.alice).status == 200);
   REQUIRE(w.host->request("POST", "/_matrix/client/v3/login",
                           {{"type", "m.login.password"}, {"identifier", {{"type", "m.id.user"}, {"user", "alice"}}},
                            {"password", "pw-alice"}}).status == 200);

   auto one = [&](const std::string &path) {
      const auto sent = w.service.sent(path);
      REQUIRE_MESSAGE(!sent.empty(), path);
      CHECK(sent.back().authorization == "Bearer random string");
      return sent.back().body;
   };
   CHECK(one("user_may_create_room") == json{{"user_id", "@alice:example.org"}});
   CHECK(one("user_may_create_room_alias") == json{{"user_id", "@alice:example.org"}, {"room_alias", "#town:example.org"}});
   CHECK(one("user_may_invite") == json{{"inviter", "@alice:example.org"}, {"invitee", "@bob:example.org"}, {"room_id", room}});
   CHECK(one("user_may_join_room") == json{{"user", "@bob:example.org"}, {"room", room}, {"is_invited", true}});
   CHECK(one("user_may_publish_room") == json{{"user_id", "@alice:example.org"}, {"room_id", room}});
   const json event = one("check_event_for_spam")["event"];
   CHECK(event["type"] == "m.room.message");
   CHECK(event["content"]["body"] == "hello");
   CHECK(event["sender"] == "@alice:example.org");
   CHECK(event["room_id"] == room);
   CHECK(event["event_id"].is_string());
   const json search = one("check_username_for_spam");
   CHECK(search["requester_id"] == "@alice:example.org");
   CHECK(search["user_profile"]["user_id"] == "@bob:example.org");
   CHECK(search["user_profile"].contains("display_name"));
   const json login = one("check_login_for_spam");
   CHECK(login["user_id"] == "@alice:example.org");
   CHECK(login["request_info"].is_array());
   CHECK(login.contains("device_id"));
   CHECK(login.contains("auth_provider_id"));
}

TEST_CASE("a 2xx answer allows, whatever its content") {
   World w;
   w.service.answer("user_may_create_room", {201, R"({"anything": ["at", "all"]})"});
   CHECK(w.create_room().status == 200);
}

TEST_CASE("another status refuses, and the body goes to the client as it is; errcode defaults to M_FORBIDDEN") {
   World w;
   w.service.answer("user_may_create_room",
                    {429, R"({"errcode": "M_LIMIT_EXCEEDED", "error": "Slow down", "retry_after_ms": 500})"});
   auto r = w.create_room();
   CHECK(r.status == 403); // Synapse's status for any refused room creation
   json b = body_of(r);
   CHECK(b["errcode"] == "M_LIMIT_EXCEEDED");
   CHECK(b["error"] == "Slow down");
   CHECK(b["retry_after_ms"] == 500);

   w.service.answer("user_may_create_room", {403, R"({"error": "Not in this community", "policy": "#rules:example.org"})"});
   r = w.create_room();
   CHECK(r.status == 403);
   b = body_of(r);
   CHECK(b["errcode"] == "M_FORBIDDEN");
   CHECK(b["error"] == "Not in this community");
   CHECK(b["policy"] == "#rules:example.org");

   // An errcode of the service's own is passed on too.
   w.service.answer("user_may_create_room", {400, R"({"errcode": "ORG_EXAMPLE_BLOCKED", "error": "Blocked"})"});
   r = w.create_room();
   CHECK(r.status == 403);
   CHECK(body_of(r)["errcode"] == "ORG_EXAMPLE_BLOCKED");
}

TEST_CASE("a response that is not JSON fails closed with M_UNKNOWN, unless the callback fails open") {
   World w(json{{"fail_open", {{"user_may_invite", true}}}});
   w.service.answer("user_may_create_room", {500, "<html>Internal Server Error</html>", "text/html"});
   auto r = w.create_room();
   CHECK(r.status == 403);
   CHECK(body_of(r)["errcode"] == "M_UNKNOWN");
   CHECK(body_of(r)["error"] == "Unexpected response from antispam server");
   CHECK(w.host->logged("Unexpected response from antispam server: <html>Internal Server Error</html>"));
   // A 2xx that is not JSON is a failure too, as the original's post_json_get_json raises.
   w.service.answer("user_may_create_room", {200, "ok", "text/plain"});
   r = w.create_room();
   CHECK(r.status == 403);
   CHECK(body_of(r)["error"] == "Failed to connect to antispam server");

   w.service.answer("user_may_create_room", {});
   const std::string room = body_of(w.create_room())["room_id"];
   w.service.answer("user_may_invite", {502, "Bad Gateway", "text/plain"});
   CHECK(w.host->request("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {{"user_id", "@bob:example.org"}},
                         w.alice).status == 200);
}

TEST_CASE("the service down: fail closed with M_UNKNOWN; check_event_for_spam fails open unless fail_open says false") {
   SUBCASE("by default") {
      World w;
      const std::string room = body_of(w.create_room())["room_id"];
      w.service.stop();
      auto r = w.create_room();
      CHECK(r.status == 403);
      CHECK(body_of(r)["errcode"] == "M_UNKNOWN");
      CHECK(body_of(r)["error"] == "Failed to connect to antispam server");
      CHECK(w.host->logged("Failed to connect to antispam server (POST " + w.service.base_url() + "/user_may_create_room"));
      CHECK(w.host->say(w.alice, room, "still here").status == 200); // fails open
   }
   SUBCASE("fail_open: check_event_for_spam false, user_may_create_room true") {
      World w(json{{"fail_open", {{"check_event_for_spam", false}, {"user_may_create_room", true}}}});
      const std::string room = body_of(w.create_room())["room_id"];
      w.service.stop();
      CHECK(w.create_room().status == 200);
      const auto r = w.host->say(w.alice, room, "lost");
      CHECK(r.status == 403);
      CHECK(body_of(r)["errcode"] == "M_UNKNOWN");
   }
}

TEST_CASE("async callbacks run in the background and always allow; their answer is ignored") {
   World w(json{{"async", {{"user_may_create_room", true}}}});
   w.service.answer("user_may_create_room", {403, R"({"error": "no"})"});
   CHECK(w.create_room().status == 200);
   REQUIRE(w.service.wait_for("user_may_create_room", 1));
   CHECK(w.service.sent("user_may_create_room")[0].body == json{{"user_id", "@alice:example.org"}});
   // A refusal is only logged.
   const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
   while (!w.host->logged("Error in async callback (POST " + w.service.base_url() + "/user_may_create_room): HTTP 403") &&
          std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
   CHECK(w.host->logged("Error in async callback (POST " + w.service.base_url() + "/user_may_create_room): HTTP 403"));
   w.service.stop();
   CHECK(w.create_room().status == 200); // not waited for, so nothing to fail
}

TEST_CASE("enabled_callbacks: only those are asked; without it, all are") {
   World w(json{{"enabled_callbacks", {"user_may_invite"}}});
   const std::string room = body_of(w.create_room())["room_id"];
   REQUIRE(w.host->say(w.alice, room, "hello").status == 200);
   CHECK(w.service.sent("user_may_create_room").empty());
   CHECK(w.service.sent("check_event_for_spam").empty());
   REQUIRE(w.host->request("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {{"user_id", "@bob:example.org"}},
                           w.alice).status == 200);
   CHECK(w.service.sent("user_may_invite").size() == 1);
}

TEST_CASE("do_ping: the ping callback gets an id, and a response without the same id and status ok is retried") {
   Service service;
   service.wrong_pings = 1;
   Host host({}, {{"modkit", modkit_config(service, {{"do_ping", true}})}});
   REQUIRE(service.wait_for("ping", 1));
   const json first = service.sent("ping")[0].body;
   CHECK(first["id"].is_string());
   CHECK(first["id"].get<std::string>().size() == 8);
   // The first answer names another ID: logged, and asked again 5 seconds later.
   REQUIRE(service.wait_for("ping", 2, std::chrono::seconds(15)));
   CHECK(service.sent("ping")[1].body["id"] != first["id"]);
   const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
   while (!host.logged("Successfully pinged antispam server") && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
   CHECK(host.logged("Unexpected ping response from antispam server"));
   CHECK(host.logged("Successfully pinged antispam server with request ID " + service.sent("ping")[1].body["id"].get<std::string>()));
   CHECK(service.sent("ping").size() == 2);
}

TEST_CASE("authorization_path: the token is read from a file, trimmed; an unreadable file stops the host") {
   const std::string path = std::string(CHAT_WORK_DIR) + "/antispam_token";
   std::ofstream(path) << "  from-a-file\n";
   World w(json{{"authorization_path", path}});
   REQUIRE(w.create_room().status == 200);
   CHECK(w.service.sent("user_may_create_room").back().authorization == "Bearer from-a-file");

   Service service;
   const auto errors = test::startup_errors([&] {
      Host host({}, {{"modkit", modkit_config(service, {{"authorization_path", path + ".missing"}})}});
   });
   CHECK(test::any_contains(errors, "authorization_path: cannot read '" + path + ".missing'"));
}

TEST_CASE("config errors name the field: base_url missing, an unknown callback, a wrong type") {
   Service service;
   auto refused = [&](const json &config) {
      json modkit = modkit_config(service, config);
      modkit["modules"][0]["config"].erase(config.contains("base_url") ? "" : "base_url");
      return test::startup_errors([&] { Host host({}, {{"modkit", modkit}}); });
   };
   CHECK(test::any_contains(refused(json::object()), "base_url is required"));
   auto errors = refused({{"base_url", service.base_url()}, {"enabled_callbacks", {"user_may_invite", "user_may_fly"}}});
   CHECK(test::any_contains(errors, "/enabled_callbacks/1"));
   CHECK(test::any_contains(errors, "'HTTPAntispam' object has no attribute 'user_may_fly'"));
   errors = refused({{"base_url", service.base_url()}, {"async", {{"user_may_invite", "yes"}}}});
   CHECK(test::any_contains(errors, "/async/user_may_invite"));
}

} // TEST_SUITE
