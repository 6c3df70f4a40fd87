// web_tests.cpp - module web resources: served under their paths, first in config order wins a
// path, reserved namespaces and built-in endpoints refused at load time.
#include "support.hpp"

using json = nlohmann::json;
using test::Host;
using test::probe;

TEST_CASE("a module's web resource is served at its path and below it") {
   Host host({probe("chat_a", "a", {{"web", {"/_test/hello"}}})});
   const std::string token = host.user("alice");
   auto r = host.request("GET", "/_test/hello/world", nullptr, token);
   CHECK(r.status == 200);
   CHECK(r.content_type == "application/json");
   const json body = Host::body(r);
   CHECK(body["from"] == "a");
   CHECK(body["path"] == "/_test/hello/world");
   CHECK(body["user"] == "@alice:example.org");
   REQUIRE(r.trace.runs.size() == 1);
   CHECK(r.trace.runs[0].decided_by == "chat_a");
   // Anonymous requests reach it too, without a user; a sibling path does not.
   CHECK(Host::body(host.request("GET", "/_test/hello"))["user"] == "");
   CHECK(host.request("GET", "/_test/hellothere").status == 404);
}

TEST_CASE("the same path from two modules: the first in config order keeps it, with a warning naming both") {
   Host host({probe("chat_a", "a", {{"web", {"/_test/shared"}}}), probe("chat_b", "b", {{"web", {"/_test/shared", "/_test/b"}}})});
   CHECK(Host::body(host.request("GET", "/_test/shared"))["from"] == "a");
   CHECK(Host::body(host.request("GET", "/_test/b"))["from"] == "b");
   CHECK(host.logged("chat_b|web path \"/_test/shared\" is already served by module 'chat_a'"));
}

TEST_CASE("the host's reserved namespaces are refused at load time") {
   for (const std::string path : {"/_matrix/client/v3/login", "/_synapse/admin/v1/anything"}) {
      CAPTURE(path);
      const auto errors = test::startup_errors([&] { Host host({probe("chat_a", "a", {{"web", {path}}})}); });
      CHECK(test::any_contains(errors, "is inside the host's reserved prefix"));
   }
}

TEST_CASE("a path that is not absolute and normalised is refused") {
   for (const std::string path : {"relative/path", "/a/../b", "/a//b"}) {
      CAPTURE(path);
      const auto errors = test::startup_errors([&] { Host host({probe("chat_a", "a", {{"web", {path}}})}); });
      CHECK(test::any_contains(errors, "is not a normalised absolute path"));
   }
}

TEST_CASE("a module can never shadow a built-in endpoint") {
   const auto errors = test::startup_errors([] { Host host({probe("chat_a", "a", {{"web", {"/metrics"}}})}); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0] == "module 'chat_a': web path \"/metrics\" is a built-in endpoint of the host; a module cannot replace it");
}

TEST_CASE("a failing web handler answers 500 without the module's message") {
   Host host({probe("chat_a", "a", {{"web", {"/_test/broken"}}, {"web_fails", true}})});
   const auto r = host.request("GET", "/_test/broken");
   CHECK(r.status == 500);
   CHECK(test::errcode(r) == "M_UNKNOWN");
   CHECK(host.app->metrics().errors("chat_a", "web_resource /_test/broken") == 1);
}

TEST_CASE("caches: the admin API invalidates one key or all, and the host counts hits and misses") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 0}}}, {"cache", "verdicts"}})});
   const std::string admin = host.admin();
   const std::string room = host.room(admin);
   host.say(admin, room, "one");
   host.say(admin, room, "one");
   host.say(admin, room, "two");
   auto counts = host.app->metrics().cache("chat_a", "verdicts");
   CHECK(counts.hits == 1);
   CHECK(counts.misses == 2);

   const std::string base = "/_synapse/admin/v1/modules/chat_a/caches/verdicts/invalidate";
   const std::string body_one = json{{"msgtype", "m.text"}, {"body", "one"}}.dump();
   auto r = host.request("POST", base, {{"key", {body_one}}}, admin);
   CHECK(r.status == 200);
   CHECK(Host::body(r)["invalidations"] == 1);
   CHECK(host.calls("invalidate:key").size() == 1);
   host.say(admin, room, "one"); // recomputed: a miss
   CHECK(host.app->metrics().cache("chat_a", "verdicts").misses == 3);

   CHECK(host.request("POST", base, json::object(), admin).status == 200);
   CHECK(host.calls("invalidate:all").size() == 1);
   CHECK(host.request("POST", base, {{"key", "not an array"}}, admin).status == 400);
   CHECK(host.request("POST", "/_synapse/admin/v1/modules/chat_a/caches/nope/invalidate", json::object(), admin).status == 404);
   const std::string alice = host.user("alice");
   CHECK(host.request("POST", base, json::object(), alice).status == 403); // admins only
   const json modules = Host::body(host.request("GET", "/_synapse/admin/v1/modules", nullptr, admin));
   CHECK(modules["modules"][0]["cached_functions"][0]["hits"] == 1);
}
