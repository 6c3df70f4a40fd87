// http_tests.cpp - the HTTP API on loopback (an ephemeral port), driven as a Matrix client would.
#include "support.hpp"

#include "http_server.hpp"

#include <httplib.h>

#include <atomic>
#include <thread>

using json = nlohmann::json;
using test::Host;
using test::probe;

namespace {

// The host's server on 127.0.0.1, on a port the kernel picks, stopped at the end of the test.
struct Served {
   chat::HttpServer server;
   int port = 0;
   std::thread thread;
   httplib::Client client;

   explicit Served(chat::App &app) : server(app), port(server.bind("127.0.0.1", 0)), client("127.0.0.1", port) {
      thread = std::thread([this] { server.run(); });
      client.set_connection_timeout(5, 0);
      client.set_read_timeout(5, 0);
      client.set_write_timeout(5, 0);
   }
   ~Served() {
      server.stop();
      thread.join();
   }

   httplib::Headers auth(const std::string &token) const {
      return token.empty() ? httplib::Headers{} : httplib::Headers{{"Authorization", "Bearer " + token}};
   }
   std::pair<int, json> call(const std::string &method, const std::string &path, const json &body = nullptr,
                             const std::string &token = "") {
      // A bounded retry: the listener thread may not be accepting yet on the first request.
      for (int attempt = 0; attempt < 50; ++attempt) {
         const std::string text = body.is_null() ? "" : body.dump();
         httplib::Result r = method == "GET"    ? client.Get(path.c_str(), auth(token))
                             : method == "POST" ? client.Post(path.c_str(), auth(token), text, "application/json")
                             : method == "PUT"  ? client.Put(path.c_str(), auth(token), text, "application/json")
                                                : client.Delete(path.c_str(), auth(token), text, "application/json");
         if (r) return {r->status, json::parse(r->body, nullptr, false)};
         std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      FAIL("no answer from the server on port " << port);
      return {0, nullptr};
   }
};

} // namespace

TEST_CASE("a Matrix client registers, logs in, creates a room, is refused spam and sends a message") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", {{"if_contains", "casino"}, {"result", 1}}}}}}),
              probe("chat_b", "b", {{"answers", {{"get_supported_login_types", {{"org.example.sso", {"ticket"}}}}, {"auth_checkers", nullptr}}}})});
   Served s(*host.app);

   auto [vs, versions] = s.call("GET", "/_matrix/client/versions");
   CHECK(vs == 200);
   CHECK(versions["versions"].size() > 0);

   // Registration is user-interactive: the first request gets the flows.
   auto [uia_status, uia] = s.call("POST", "/_matrix/client/v3/register", {{"username", "alice"}, {"password", "secret"}});
   CHECK(uia_status == 401);
   CHECK(uia["flows"][0]["stages"][0] == "m.login.dummy");
   auto [reg_status, reg] = s.call("POST", "/_matrix/client/v3/register",
                                   {{"username", "alice"}, {"password", "secret"}, {"auth", {{"type", "m.login.dummy"}, {"session", uia["session"]}}}});
   REQUIRE(reg_status == 200);
   CHECK(reg["user_id"] == "@alice:example.org");

   auto [flows_status, flows] = s.call("GET", "/_matrix/client/v3/login");
   CHECK(flows_status == 200);
   CHECK(flows["flows"] == json::array({{{"type", "m.login.password"}}, {{"type", "org.example.sso"}}}));

   auto [bad_status, bad] = s.call("POST", "/_matrix/client/v3/login",
                                   {{"type", "m.login.password"}, {"identifier", {{"type", "m.id.user"}, {"user", "alice"}}}, {"password", "wrong"}});
   CHECK(bad_status == 403);
   CHECK(bad["errcode"] == "M_FORBIDDEN");
   auto [login_status, login] = s.call("POST", "/_matrix/client/v3/login",
                                       {{"type", "m.login.password"}, {"identifier", {{"type", "m.id.user"}, {"user", "alice"}}}, {"password", "secret"}});
   REQUIRE(login_status == 200);
   const std::string token = login["access_token"];

   auto [room_status, room] = s.call("POST", "/_matrix/client/v3/createRoom", {{"name", "Lobby"}}, token);
   REQUIRE(room_status == 200);
   const std::string room_id = room["room_id"];

   auto [spam_status, spam] = s.call("PUT", "/_matrix/client/v3/rooms/" + room_id + "/send/m.room.message/1",
                                     {{"msgtype", "m.text"}, {"body", "visit my casino"}}, token);
   CHECK(spam_status == 403);
   CHECK(spam["errcode"] == "M_FORBIDDEN");
   auto [ok_status, ok] = s.call("PUT", "/_matrix/client/v3/rooms/" + room_id + "/send/m.room.message/2",
                                 {{"msgtype", "m.text"}, {"body", "hello"}}, token);
   REQUIRE(ok_status == 200);
   CHECK(ok["event_id"].get<std::string>().front() == '$');

   auto [msg_status, messages] = s.call("GET", "/_matrix/client/v3/rooms/" + room_id + "/messages?dir=b&limit=5", nullptr, token);
   CHECK(msg_status == 200);
   CHECK(messages["chunk"][0]["content"]["body"] == "hello");

   auto [sync_status, sync] = s.call("GET", "/_matrix/client/v3/sync", nullptr, token);
   CHECK(sync_status == 200);
   CHECK(sync["rooms"]["join"].contains(room_id));
}

TEST_CASE("HTTP errors are Matrix error bodies") {
   Host host({probe("chat_a", "a")});
   Served s(*host.app);
   CHECK(s.call("GET", "/_matrix/client/v3/account/whoami").second["errcode"] == "M_MISSING_TOKEN");
   CHECK(s.call("GET", "/_matrix/client/v3/account/whoami", nullptr, "nope").second["errcode"] == "M_UNKNOWN_TOKEN");
   CHECK(s.call("GET", "/_matrix/client/v3/no/such/thing").second["errcode"] == "M_UNRECOGNIZED");
   CHECK(s.call("DELETE", "/_matrix/client/v3/login").first == 405);
   // A body that is not JSON.
   auto r = s.client.Post("/_matrix/client/v3/login", "{not json", "application/json");
   REQUIRE(r);
   CHECK(r->status == 400);
   CHECK(json::parse(r->body)["errcode"] == "M_NOT_JSON");
   // A field of the wrong type.
   auto [status, body] = s.call("POST", "/_matrix/client/v3/login", {{"type", 5}});
   CHECK(status == 400);
   CHECK(body["errcode"] == "M_BAD_JSON");
   // ?access_token= works as well as the header.
   const std::string token = host.user("alice");
   CHECK(s.call("GET", "/_matrix/client/v3/account/whoami?access_token=" + token).first == 200);
}

TEST_CASE("GET /metrics reports calls, errors, latency and load times per module and callback") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 0}}}}),
              probe("chat_b", "b", {{"errors", {{"check_event_for_spam", MODKIT_E_INTERNAL}}}})});
   const std::string token = host.user("alice");
   const std::string room = host.room(token);
   host.say(token, room, "hello");
   const std::string admin = host.admin();
   Served s(*host.app);
   auto r = s.client.Get("/metrics", s.auth(admin));
   REQUIRE(r);
   CHECK(r->status == 200);
   const std::string &text = r->body;
   CHECK(text.find("modkit_callback_calls_total{module=\"chat_a\",callback=\"spam_checker.check_event_for_spam\"} 1") != std::string::npos);
   CHECK(text.find("modkit_callback_errors_total{module=\"chat_b\",callback=\"spam_checker.check_event_for_spam\"} 1") != std::string::npos);
   // Counted by the loader without a lock; the time is estimated from its per-thread sample.
   CHECK(text.find("modkit_callback_duration_seconds_count{module=\"chat_a\",callback=\"spam_checker.check_event_for_spam\"} 1") != std::string::npos);
   CHECK(text.find("# TYPE modkit_callback_duration_seconds summary") != std::string::npos);
   CHECK(text.find("modkit_module_load_seconds{module=\"chat_a\"}") != std::string::npos);
   CHECK(text.find("modkit_http_requests_total{status=\"500\"} 1") != std::string::npos);
}

TEST_CASE("reloads while clients send messages: every request is answered by a live module") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", {{"if_contains", "casino"}, {"result", 1}}}}}}),
              probe("chat_b", "b", {{"answers", {{"check_event_allowed", 0}}}})});
   const std::string token = host.user("alice");
   const std::string room = host.room(token);
   Served s(*host.app);
   std::atomic<int> wrong{0}, answered{0};
   std::vector<std::thread> clients;
   for (int t = 0; t < 2; ++t) {
      clients.emplace_back([&, t] {
         httplib::Client client("127.0.0.1", s.port);
         client.set_connection_timeout(5, 0);
         client.set_read_timeout(5, 0);
         for (int i = 0; i < 30; ++i) {
            const bool spam = i % 3 == 0;
            const std::string path = "/_matrix/client/v3/rooms/" + room + "/send/m.room.message/c" + std::to_string(t) + "-" +
                                     std::to_string(i);
            const json body = {{"msgtype", "m.text"}, {"body", spam ? "casino" : "hello"}};
            auto r = client.Put(path.c_str(), {{"Authorization", "Bearer " + token}}, body.dump(), "application/json");
            if (!r) continue; // the listener may not accept yet; counted below
            ++answered;
            if (r->status != (spam ? 403 : 200)) ++wrong;
         }
      });
   }
   for (int i = 0; i < 10; ++i) {
      CHECK(host.modules().reload(i % 2 ? "chat_a" : "chat_b").empty());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
   }
   for (auto &c : clients) c.join();
   CHECK(answered.load() > 0);
   CHECK(wrong.load() == 0);
}
