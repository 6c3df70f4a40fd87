// scenario_tests.cpp - the scenario runner: tokens from earlier steps, saved variables, the
// transcript, expectations and refusals of malformed scenarios.
#include "support.hpp"

#include "scenario.hpp"

#include <sstream>

using json = nlohmann::json;
using test::Host;
using test::probe;

namespace {

json steps() {
   return json::array({
      {{"comment", "Alice joins"}},
      {{"method", "POST"}, {"path", "/_matrix/client/v3/register"},
       {"body", {{"username", "alice"}, {"password", "pw"}, {"auth", {{"type", "m.login.dummy"}}}}}},
      {{"method", "POST"}, {"path", "/_matrix/client/v3/createRoom"}, {"as", "@alice:example.org"},
       {"body", {{"name", "Lobby"}}}, {"save", {{"room", "/room_id"}}}},
      {{"method", "PUT"}, {"path", "/_matrix/client/v3/rooms/${room}/send/m.room.message/1"}, {"as", "@alice:example.org"},
       {"body", {{"msgtype", "m.text"}, {"body", "a casino offer"}}}, {"expect", {{"status", 403}, {"errcode", "M_FORBIDDEN"}}}},
      {{"method", "PUT"}, {"path", "/_matrix/client/v3/rooms/${room}/send/m.room.message/2"}, {"as", "@alice:example.org"},
       {"body", {{"msgtype", "m.text"}, {"body", "hello"}}}, {"expect", {{"status", 200}}}},
   });
}

} // namespace

TEST_CASE("a scenario replays requests and annotates which module decided") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", {{"if_contains", "casino"}, {"result", 1}}}}}})});
   std::ostringstream out;
   const auto result = chat::run_scenario(*host.app, steps(), out);
   const std::string t = out.str();
   CHECK(result.requests == 4);
   CHECK(result.expectations == 2);
   CHECK(result.failures == 0);
   CHECK(t.find("== Alice joins ==") != std::string::npos);
   CHECK(t.find("as @alice:example.org") != std::string::npos);
   CHECK(t.find("-> 403 M_FORBIDDEN") != std::string::npos);
   CHECK(t.find("spam_checker.check_event_for_spam: chat_a -> M_FORBIDDEN  => decided: M_FORBIDDEN by chat_a") != std::string::npos);
   CHECK(t.find("spam_checker                  decided: chat_a") != std::string::npos);
}

TEST_CASE("a failed expectation is reported and counted") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 0}}}})});
   std::ostringstream out;
   const auto result = chat::run_scenario(*host.app, steps(), out);
   CHECK(result.failures == 1);
   CHECK(out.str().find("!! expectation failed: expected status 403, got 200; errcode M_FORBIDDEN, got none") != std::string::npos);
}

TEST_CASE("malformed scenarios are refused with the step at fault") {
   Host host({probe("chat_a", "a")});
   std::ostringstream out;
   auto refused = [&](const json &scenario) {
      try {
         chat::run_scenario(*host.app, scenario, out);
      } catch (const chat::ScenarioError &e) {
         return std::string(e.what());
      }
      return std::string("accepted");
   };
   CHECK(refused(json::object()) == "a scenario is a JSON array of steps (or {\"steps\": [...]})");
   CHECK(refused(json::array({{{"path", "relative"}}})) == "step 1: \"path\" must be an absolute path");
   CHECK(refused(json::array({{{"path", "/x"}, {"method", "FETCH"}}})) ==
         "step 1: \"method\" must be one of GET, POST, PUT, DELETE, OPTIONS");
   CHECK(refused(json::array({{{"path", "/x"}, {"bogus", 1}}})) == "step 1: unknown key \"bogus\"");
   CHECK(refused(json::array({{{"path", "/x"}, {"expect", {{"status", "200"}}}}})) == "step 1: expect.status must be an HTTP status (100-599)");
   CHECK(refused(json::array({{{"path", "/_matrix/client/versions"}}, {{"path", "/x/${nothing}"}}})) ==
         "step 2: unknown variable ${nothing} (save it from an earlier response)");
   CHECK(refused(json::array({{{"path", "/x"}, {"as", "@ghost:example.org"}}})) ==
         "step 1: no access token for @ghost:example.org (register or log in earlier in the scenario)");
}

TEST_CASE("saved values may be expected in a response body") {
   Host host({probe("chat_a", "a")});
   json s = steps();
   s.erase(s.begin() + 3, s.end()); // no messages
   s.push_back({{"method", "GET"}, {"path", "/_matrix/client/v3/joined_rooms"}, {"as", "@alice:example.org"},
                {"expect", {{"body", {{"joined_rooms", {"${room}"}}}}}}});
   s.push_back({{"method", "GET"}, {"path", "/_matrix/client/v3/joined_rooms"}, {"as", "@alice:example.org"},
                {"expect", {{"body", {{"joined_rooms", {"!other:example.org"}}}}}}});
   std::ostringstream out;
   const auto result = chat::run_scenario(*host.app, s, out);
   CHECK(result.expectations == 2);
   CHECK(result.failures == 1);
   CHECK(out.str().find("expected body containing {\"joined_rooms\":[\"!other:example.org\"]}") != std::string::npos);
}

TEST_CASE("retry_ms repeats a request until its expectation holds, and reports one that never does") {
   Host host({probe("chat_a", "a")});
   json s = steps();
   s.erase(s.begin() + 3, s.end());
   // Holds at once: sent once, no note.
   s.push_back({{"method", "GET"}, {"path", "/_matrix/client/v3/joined_rooms"}, {"as", "@alice:example.org"},
                {"retry_ms", 5000}, {"expect", {{"body", {{"joined_rooms", {"${room}"}}}}}}});
   // Never holds: repeated until the time is up, then a failure like any other.
   s.push_back({{"method", "GET"}, {"path", "/_matrix/client/v3/joined_rooms"}, {"as", "@alice:example.org"},
                {"retry_ms", 100}, {"expect", {{"body", {{"joined_rooms", {"!other:example.org"}}}}}}});
   std::ostringstream out;
   const auto result = chat::run_scenario(*host.app, s, out);
   CHECK(result.requests == 4);
   CHECK(result.failures == 1);
   const std::string t = out.str();
   CHECK(t.find("until its expectation held") == std::string::npos);
   CHECK(t.find("times, until its expectation timed out)") != std::string::npos);

   auto refused = [&](const json &scenario) {
      try {
         chat::validate_scenario(scenario);
      } catch (const chat::ScenarioError &e) {
         return std::string(e.what());
      }
      return std::string("accepted");
   };
   const std::string why = "step 1: \"retry_ms\" must be 1 to 60000, with an \"expect\" to wait for";
   CHECK(refused(json::array({{{"path", "/x"}, {"retry_ms", 100}}})) == why);
   CHECK(refused(json::array({{{"path", "/x"}, {"retry_ms", 0}, {"expect", {{"status", 200}}}}})) == why);
   CHECK(refused(json::array({{{"path", "/x"}, {"retry_ms", "1s"}, {"expect", {{"status", 200}}}}})) == why);
   CHECK(refused(json::array({{{"path", "/x"}, {"retry_ms", 100}, {"expect", {{"status", 200}}}}})) == "accepted");
}
