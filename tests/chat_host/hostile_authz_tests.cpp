// hostile_authz_tests.cpp - a client reads and changes only what it may: history visibility,
// memberships others cannot forge, admins only from the operator, /metrics only as configured.
#include "support.hpp"

using json = nlohmann::json;
using test::errcode;
using test::Host;

namespace {

const std::string c = "/_matrix/client/v3";

// The bodies of the room's messages (m.room.message) user sees, oldest first.
std::vector<std::string> history(Host &host, const std::string &room, const std::string &token, int *status = nullptr) {
   const auto r = host.request("GET", c + "/rooms/" + room + "/messages?dir=f&limit=100", nullptr, token);
   if (status) *status = r.status;
   std::vector<std::string> out;
   for (const auto &e : Host::body(r).value("chunk", json::array()))
      if (e["type"] == "m.room.message") out.push_back(e["content"]["body"]);
   return out;
}

std::vector<std::string> synced(Host &host, const std::string &room, const std::string &token) {
   const json sync = Host::body(host.request("GET", c + "/sync", nullptr, token));
   std::vector<std::string> out;
   const json rooms = sync["rooms"]["join"];
   if (!rooms.contains(room)) return out;
   for (const auto &e : rooms[room]["timeline"]["events"])
      if (e["type"] == "m.room.message") out.push_back(e["content"]["body"]);
   return out;
}

} // namespace

TEST_CASE("hostile authorisation: history visibility decides who reads what, and up to when") {
   Host host({});
   const std::string alice = host.user("alice"), bob = host.user("bob"), carol = host.user("carol");
   const std::string room = host.room(alice, {{"preset", "public_chat"}});
   host.say(alice, room, "before bob");
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200);
   host.say(alice, room, "with bob");

   SUBCASE("shared (the default): a member reads what came before, a departed member only up to leaving") {
      CHECK(history(host, room, bob) == std::vector<std::string>{"before bob", "with bob"});
      REQUIRE(host.request("POST", c + "/rooms/" + room + "/leave", json::object(), bob).status == 200);
      host.say(alice, room, "after bob left");
      CHECK(history(host, room, bob) == std::vector<std::string>{"with bob"});
      CHECK(history(host, room, alice).size() == 3);
   }
   SUBCASE("an invited user reads nothing") {
      REQUIRE(host.request("POST", c + "/rooms/" + room + "/invite", {{"user_id", "@carol:example.org"}}, alice).status == 200);
      int status = 0;
      CHECK(history(host, room, carol, &status).empty());
      CHECK(status == 403);
   }
   SUBCASE("a stranger reads nothing") {
      const auto r = host.request("GET", c + "/rooms/" + room + "/messages", nullptr, carol);
      CHECK(r.status == 403);
      CHECK(errcode(r) == "M_FORBIDDEN");
   }
   SUBCASE("joined: a new member does not see what was sent before joining while the room said joined") {
      REQUIRE(host.request("PUT", c + "/rooms/" + room + "/state/m.room.history_visibility", {{"history_visibility", "joined"}}, alice).status == 200);
      host.say(alice, room, "before carol");
      REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), carol).status == 200);
      host.say(alice, room, "with carol");
      // What was sent while the room said "shared" stays readable to members; "before carol" not.
      const std::vector<std::string> seen{"before bob", "with bob", "with carol"};
      CHECK(history(host, room, carol) == seen);
      CHECK(synced(host, room, carol) == seen);
      CHECK(history(host, room, bob).size() == 4);
   }
   SUBCASE("world_readable: anyone reads what was sent while the room was world-readable") {
      REQUIRE(host.request("PUT", c + "/rooms/" + room + "/state/m.room.history_visibility", {{"history_visibility", "world_readable"}}, alice).status == 200);
      host.say(alice, room, "for everyone");
      CHECK(history(host, room, carol) == std::vector<std::string>{"for everyone"});
   }
}

TEST_CASE("hostile authorisation: createRoom's initial_state cannot put anyone into a room") {
   Host host({});
   const std::string alice = host.user("alice"), victim = host.user("victim");
   const auto r = host.request("POST", c + "/createRoom",
                               {{"initial_state", {{{"type", "m.room.member"}, {"state_key", "@victim:example.org"},
                                                    {"content", {{"membership", "join"}}}}}}}, alice);
   CHECK(r.status == 400);
   CHECK(errcode(r) == "M_INVALID_PARAM");
   CHECK(Host::body(host.request("GET", c + "/joined_rooms", nullptr, victim))["joined_rooms"].empty());
   CHECK(Host::body(host.request("GET", c + "/joined_rooms", nullptr, alice))["joined_rooms"].empty());
   const auto bad_key = host.request("POST", c + "/createRoom", {{"initial_state", {{{"type", "x.y"}, {"state_key", 3}, {"content", json::object()}}}}}, alice);
   CHECK(bad_key.status == 400);
   CHECK(errcode(bad_key) == "M_BAD_JSON");
   // Other state is still fine.
   CHECK(host.request("POST", c + "/createRoom", {{"initial_state", {{{"type", "org.example.x"}, {"content", {{"a", 1}}}}}}}, alice).status == 200);
}

TEST_CASE("hostile authorisation: a name the config lists in admins is the operator's, not the first registrant's") {
   Host host({});
   const json body = {{"username", "admin"}, {"password", "pw"}};
   auto with_auth = [&](const json &auth) {
      json b = body;
      b["auth"] = auth;
      return host.request("POST", c + "/register", b);
   };
   const auto squatter = with_auth({{"type", "m.login.dummy"}});
   CHECK(squatter.status == 403);
   CHECK(errcode(squatter) == "M_FORBIDDEN");
   const auto guess = with_auth({{"type", "m.login.registration_token"}, {"token", "operator-tokem"}});
   CHECK(guess.status == 401);
   CHECK(errcode(guess) == "M_FORBIDDEN");
   // An ordinary user is no admin, whatever it tries.
   const std::string mallory = host.user("mallory");
   CHECK(host.request("GET", "/_synapse/admin/v1/modules", nullptr, mallory).status == 403);
   // The operator's registration makes the admin.
   const std::string admin = host.admin();
   CHECK(host.request("GET", "/_synapse/admin/v1/modules", nullptr, admin).status == 200);

   SUBCASE("without a token in the config, reserved names cannot be registered at all") {
      chat::App bare(chat::parse_host_config({{"admins", {"@root:example.org"}}, {"modkit", {{"modules", json::array()}}}}, "."));
      chat::Request r;
      r.method = "POST";
      r.path = c + "/register";
      r.body = json{{"username", "root"}, {"password", "pw"}, {"auth", {{"type", "m.login.registration_token"}, {"token", ""}}}}.dump();
      CHECK(bare.router().handle(r).status == 401); // no such stage here
      r.body = json{{"username", "root"}, {"password", "pw"}, {"auth", {{"type", "m.login.dummy"}}}}.dump();
      const auto refused = bare.router().handle(r);
      CHECK(refused.status == 403);
      CHECK(errcode(refused) == "M_FORBIDDEN");
   }
}

TEST_CASE("hostile authorisation: /metrics and the admin API only as the config says") {
   SUBCASE("without an admin listener: a server admin's token") {
      Host host({});
      const std::string alice = host.user("alice"), admin = host.admin();
      const auto none = host.request("GET", "/metrics");
      CHECK(none.status == 401);
      CHECK(errcode(none) == "M_MISSING_TOKEN");
      const auto user = host.request("GET", "/metrics", nullptr, alice);
      CHECK(user.status == 403);
      CHECK(errcode(user) == "M_FORBIDDEN");
      CHECK(host.request("GET", "/metrics", nullptr, admin).status == 200);
   }
   SUBCASE("with an admin listener: only there, /metrics without a token") {
      Host host({}, {{"admin_listen", "127.0.0.1:0"}});
      const std::string admin = host.admin();
      const auto public_metrics = host.request("GET", "/metrics", nullptr, admin);
      CHECK(public_metrics.status == 404);
      CHECK(errcode(public_metrics) == "M_UNRECOGNIZED");
      CHECK(host.request("GET", "/_synapse/admin/v1/modules", nullptr, admin).status == 404);
      chat::Request local;
      local.path = "/metrics";
      local.admin_listener = true;
      CHECK(host.app->router().handle(local).status == 200);
      local.path = "/_synapse/admin/v1/modules";
      CHECK(host.app->router().handle(local).status == 401); // the admin API still needs a token
      local.headers["authorization"] = "Bearer " + admin;
      CHECK(host.app->router().handle(local).status == 200);
   }
   SUBCASE("an admin listener must be on loopback") {
      CHECK_THROWS_AS(chat::parse_host_config({{"modkit", json::object()}, {"admin_listen", "0.0.0.0:9008"}}, "."), chat::ConfigError);
   }
}
