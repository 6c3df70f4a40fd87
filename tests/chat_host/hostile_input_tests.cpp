// hostile_input_tests.cpp - what a client puts in a request (deep or huge JSON, invalid UTF-8,
// names outside the Matrix grammar) is refused with the exact status and errcode before anything
// is stored or any module is called, and stored state stays servable to everyone.
#include "support.hpp"

using json = nlohmann::json;
using test::errcode;
using test::Host;
using test::probe;

namespace {

const std::string c = "/_matrix/client/v3";

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A module that sees every event and registration: it must see none of the refused ones.
json watcher() {
   return probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 0}, {"check_registration_for_spam", 0},
                                             {"user_may_create_room", 0}, {"on_account_data_updated", nullptr}}}});
}

} // namespace

TEST_CASE("hostile input: JSON nested 100,000 deep is a 400 M_BAD_JSON, not a crash, and reaches no module") {
   Host host({watcher()});
   const std::string alice = host.user("alice");
   const std::string room = host.room(alice);
   host.clear();
   const std::string deep = nested(100000);
   SUBCASE("in a registration") {
      const auto r = host.request("POST", c + "/register",
                                  R"({"username": "x", "password": "p", "auth": {"type": "m.login.dummy"}, "extra": )" + deep + "}");
      CHECK(r.status == 400);
      CHECK(errcode(r) == "M_BAD_JSON");
   }
   SUBCASE("in message content") {
      const auto r = host.request("PUT", c + "/rooms/" + room + "/send/m.room.message/deep", "{\"body\": " + deep + "}", alice);
      CHECK(r.status == 400);
      CHECK(errcode(r) == "M_BAD_JSON");
   }
   SUBCASE("in createRoom") {
      const auto r = host.request("POST", c + "/createRoom", "{\"creation_content\": {\"x\": " + deep + "}}", alice);
      CHECK(r.status == 400);
      CHECK(errcode(r) == "M_BAD_JSON");
   }
   SUBCASE("just past the limit, objects this time") {
      std::string body = "{\"a\":";
      for (int i = 0; i < 64; ++i) body += "{\"a\":";
      body += "1" + std::string(65, '}');
      const auto r = host.request("PUT", c + "/rooms/" + room + "/send/m.room.message/d65", body, alice);
      CHECK(r.status == 400);
      CHECK(errcode(r) == "M_BAD_JSON");
   }
   CHECK(host.calls().empty());
   // 64 levels are fine, and brackets inside strings do not count.
   std::string ok = "{\"s\": \"[[[[[[[[\", \"a\": " + nested(63) + "}";
   CHECK(host.request("PUT", c + "/rooms/" + room + "/send/m.room.message/ok", ok, alice).status == 200);
}

TEST_CASE("hostile input: bodies that are not JSON, not UTF-8 or too large") {
   Host host({watcher()}, {{"limits", {{"max_json_size", 4096}}}});
   const std::string alice = host.user("alice");
   const std::string room = host.room(alice);
   const std::string send = c + "/rooms/" + room + "/send/m.room.message/";
   host.clear();
   CHECK(errcode(host.request("PUT", send + "1", std::string("{\"body\": \"\xff\"}"), alice)) == "M_NOT_JSON");
   CHECK(errcode(host.request("PUT", send + "2", std::string("{\"body\": \"\\ud800\"}"), alice)) == "M_NOT_JSON");
   CHECK(errcode(host.request("PUT", send + "3", std::string("{\"body\": \"\xed\xa0\x80\"}"), alice)) == "M_NOT_JSON");
   CHECK(errcode(host.request("PUT", send + "4", std::string("[1, 2]"), alice)) == "M_BAD_JSON");
   const auto big = host.request("PUT", send + "5", "{\"body\": \"" + std::string(5000, 'a') + "\"}", alice);
   CHECK(big.status == 413);
   CHECK(errcode(big) == "M_TOO_LARGE");
   CHECK(host.calls().empty());
   // NUL and huge numbers are JSON: accepted, and served back intact.
   CHECK(host.request("PUT", send + "6", std::string("{\"body\": \"a\\u0000b\", \"n\": 1e400}"), alice).status == 400);
   CHECK(host.request("PUT", send + "7", std::string("{\"body\": \"a\\u0000b\", \"n\": 123456789012345678901234567890}"), alice).status == 200);
   CHECK(host.request("GET", c + "/rooms/" + room + "/messages", nullptr, alice).status == 200);
}

TEST_CASE("hostile input: an event above 65,536 bytes is a 413 M_TOO_LARGE and is not stored") {
   Host host({watcher()}, {{"limits", {{"max_json_size", 200000}}}});
   const std::string alice = host.user("alice");
   const std::string room = host.room(alice);
   host.clear();
   const auto r = host.request("PUT", c + "/rooms/" + room + "/send/m.room.message/big",
                               json{{"body", std::string(70000, 'a')}}, alice);
   CHECK(r.status == 413);
   CHECK(errcode(r) == "M_TOO_LARGE");
   CHECK(host.calls().empty());
   const auto state = host.request("PUT", c + "/rooms/" + room + "/state/org.example.big/k", json{{"v", std::string(70000, 'a')}}, alice);
   CHECK(state.status == 413);
   const auto created = host.request("POST", c + "/createRoom", json{{"topic", std::string(70000, 'a')}}, alice);
   CHECK(created.status == 413);
   CHECK(errcode(created) == "M_TOO_LARGE");
   // The refused room left nothing behind: alice is in one room only.
   CHECK(Host::body(host.request("GET", c + "/joined_rooms", nullptr, alice))["joined_rooms"].size() == 1);
}

TEST_CASE("hostile input: names that are not UTF-8 or outside the grammar are a 400 M_INVALID_PARAM and never stored") {
   Host host({watcher()});
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string room = host.room(alice, {{"preset", "public_chat"}});
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200);
   host.clear();
   const std::string rooms = c + "/rooms/" + room;
   const std::string long_name(256, 'a');
   struct Case {
      const char *what;
      std::string method, path;
   } cases[] = {
      {"an event type that is not UTF-8", "PUT", rooms + "/send/m.room.%FF%FE/t1"},
      {"an event type with a NUL", "PUT", rooms + "/send/m.room%00x/t2"},
      {"an event type of 256 bytes", "PUT", rooms + "/send/" + long_name + "/t3"},
      {"a transaction ID that is not UTF-8", "PUT", rooms + "/send/m.room.message/%C0%AF"},
      {"a state event type that is not UTF-8", "PUT", rooms + "/state/org.example.%ED%A0%80/k"},
      {"a state key that is not UTF-8", "PUT", rooms + "/state/org.example.x/%FF"},
      {"a state key of 256 bytes", "PUT", rooms + "/state/org.example.x/" + long_name},
      {"an account data type that is not UTF-8", "PUT", c + "/user/@alice:example.org/account_data/x%FF"},
      {"a room account data type that is not UTF-8", "PUT", c + "/user/@alice:example.org/rooms/" + room + "/account_data/%FFx"},
      {"a room ID that is not UTF-8", "GET", c + "/rooms/!%FF:example.org/messages"},
      {"a room ID without a server", "GET", c + "/rooms/!abc/messages"},
      {"a user ID that is not UTF-8", "GET", c + "/profile/@%FF:example.org"},
      {"a user ID with a bad server name", "GET", c + "/profile/@a:exa%20mple.org"},
      {"a query value that is not UTF-8", "GET", rooms + "/messages?dir=%FF"},
      {"an alias that is not UTF-8", "GET", c + "/directory/room/%23%FF:example.org"},
   };
   for (const auto &k : cases) {
      CAPTURE(k.what);
      const auto r = host.request(k.method, k.path, k.method == "PUT" ? json{{"body", "x"}} : json(nullptr), alice);
      CHECK(r.status == 400);
      CHECK(errcode(r) == "M_INVALID_PARAM");
   }
   SUBCASE("a header value that is not UTF-8") {
      chat::Request r;
      r.path = c + "/account/whoami";
      r.headers["authorization"] = "Bearer " + alice;
      r.headers["user-agent"] = "agent\xff";
      const auto answer = host.app->router().handle(r);
      CHECK(answer.status == 400);
      CHECK(errcode(answer) == "M_INVALID_PARAM");
   }
   // Nothing reached a module, and every member's history and sync still work.
   CHECK(host.calls().empty());
   for (const auto &token : {alice, bob}) {
      CHECK(host.request("GET", rooms + "/messages", nullptr, token).status == 200);
      const auto sync = host.request("GET", c + "/sync", nullptr, token);
      CHECK(sync.status == 200);
      CHECK(sync.body.find("\\ufffd") == std::string::npos);
   }
   // 255 bytes are fine.
   CHECK(host.request("PUT", rooms + "/send/" + std::string(255, 'a') + "/t9", json{{"body", "x"}}, alice).status == 200);
}

TEST_CASE("hostile input: limits are settings, checked when the config is read") {
   auto errors = [](const json &limits) {
      try {
         chat::parse_host_config({{"modkit", json::object()}, {"limits", limits}}, ".");
      } catch (const chat::ConfigError &e) {
         return e.errors();
      }
      return std::vector<std::string>{};
   };
   CHECK(errors({{"max_json_depth", 32}, {"request_timeout_ms", 500}}).empty());
   CHECK(errors({{"max_json_depth", 0}}) == std::vector<std::string>{"/limits/max_json_depth: expected a positive integer, got 0"});
   CHECK(errors({{"max_json_depth", 100000}}) == std::vector<std::string>{"/limits/max_json_depth: at most 512"});
   CHECK(errors({{"max_body", 1}}) == std::vector<std::string>{"/limits/max_body: unknown limit"});
   CHECK(errors({{"max_body_size", "1"}}) == std::vector<std::string>{"/limits/max_body_size: expected a positive integer, got \"1\""});
   const chat::HostConfig defaults = chat::parse_host_config({{"modkit", json::object()}}, ".");
   CHECK(defaults.limits.max_event_size == 65536);
   CHECK(defaults.limits.max_identifier_length == 255);
}
