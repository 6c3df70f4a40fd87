// homeserver_tests.cpp - every function of chat.homeserver/1 through a module (hs_probe), its
// success and its failures: unknown user or room, not joined, not permitted, bad JSON, another
// server's user.
#include "homeserver_support.hpp"

using test::hs_call;
using test::json;

namespace {

// alice (with a room she created), bob, and an admin.
struct World {
   test::Host h;
   std::string alice, bob, admin, room;
   explicit World(std::initializer_list<json> modules = {test::hs_probe()}) : h(modules) {
      alice = h.user("alice");
      bob = h.user("bob");
      admin = h.admin();
      room = h.room(alice, {{"name", "Lobby"}});
   }
};

// A get_room_state filter of one [type, state_key] pair (brace lists would make an object).
json pairs(const char *type, const json &state_key) { return json::array({json::array({type, state_key})}); }

} // namespace

TEST_CASE("homeserver: identity answers at once") {
   World w;
   CHECK(hs_call(w.h, "server_name")["result"] == "example.org");
   CHECK(hs_call(w.h, "worker_name")["result"].is_null()); // one process, the main one
   CHECK(hs_call(w.h, "public_baseurl")["result"].is_null()); // not configured
   CHECK(hs_call(w.h, "email_app_name")["result"] == "Matrix");
   test::Host configured({test::hs_probe()}, {{"public_baseurl", "https://chat.example.org/"},
                                              {"email", {{"smtp_url", "smtp://127.0.0.1:1"}, {"from", "a@example.org"},
                                                         {"app_name", "Chat"}}}});
   CHECK(hs_call(configured, "public_baseurl")["result"] == "https://chat.example.org/");
   CHECK(hs_call(configured, "email_app_name")["result"] == "Chat");
   CHECK(hs_call(w.h, "is_mine", {{"id", "@alice:example.org"}})["result"] == true);
   CHECK(hs_call(w.h, "is_mine", {{"id", w.room}})["result"] == true);
   CHECK(hs_call(w.h, "is_mine", {{"id", "@alice:elsewhere.org"}})["result"] == false);
   CHECK(hs_call(w.h, "is_mine", {{"id", "not an id"}})["result"] == false);
   CHECK(hs_call(w.h, "get_qualified_user_id", {{"localpart", "carol"}})["result"] == "@carol:example.org");
   CHECK(hs_call(w.h, "get_qualified_user_id", {{"localpart", "@x:y.org"}})["result"] == "@x:y.org");
   const json empty = hs_call(w.h, "get_qualified_user_id", {{"localpart", ""}});
   CHECK(empty["status"] == "invalid_argument");
   CHECK(empty["refused"] == true);
   CHECK(w.h.logged("module 'hs_probe': chat.homeserver get_qualified_user_id refused: localpart: expected a non-empty"));
}

TEST_CASE("homeserver: user lookups") {
   World w;
   CHECK(hs_call(w.h, "check_user_exists", {{"user_id", "@bob:example.org"}})["result"]["user_id"] == "@bob:example.org");
   CHECK(hs_call(w.h, "check_user_exists", {{"user_id", "@nobody:example.org"}})["result"]["user_id"].is_null());
   CHECK(hs_call(w.h, "is_user_admin", {{"user_id", "@admin:example.org"}})["result"]["admin"] == true);
   CHECK(hs_call(w.h, "is_user_admin", {{"user_id", "@bob:example.org"}})["result"]["admin"] == false);
   const json unknown = hs_call(w.h, "is_user_admin", {{"user_id", "@nobody:example.org"}});
   CHECK(unknown["status"] == "not_found");
   CHECK(unknown["refused"] == false);
   CHECK(unknown["message"].get<std::string>().find("M_NOT_FOUND") == 0);
   const json malformed = hs_call(w.h, "check_user_exists", {{"user_id", "bob"}});
   CHECK(malformed["status"] == "invalid_argument");
   CHECK(malformed["refused"] == true);
   CHECK(w.h.logged("check_user_exists refused: user_id: expected a user ID such as @alice:example.org, got \"bob\""));

   const json profile = hs_call(w.h, "get_profile_for_user", {{"user_id", "@alice:example.org"}});
   CHECK(profile["result"] == json{{"displayname", "alice"}, {"avatar_url", nullptr}});
   CHECK(hs_call(w.h, "get_profile_for_user", {{"user_id", "@nobody:example.org"}})["status"] == "not_found");

   REQUIRE(w.h.request("POST", "/_matrix/client/v3/account/3pid/add", {{"medium", "email"}, {"address", "a@example.org"}},
                       w.alice).status == 200);
   const json threepids = hs_call(w.h, "get_threepids_for_user", {{"user_id", "@alice:example.org"}})["result"];
   REQUIRE(threepids["threepids"].size() == 1);
   CHECK(threepids["threepids"][0]["address"] == "a@example.org");
   CHECK(hs_call(w.h, "get_threepids_for_user", {{"user_id", "@nobody:example.org"}})["status"] == "not_found");
}

TEST_CASE("homeserver: client IPs and user agents") {
   World w;
   chat::Request r;
   r.path = "/_matrix/client/v3/account/whoami";
   r.headers["authorization"] = "Bearer " + w.bob;
   r.headers["user-agent"] = "Element/1.11";
   r.remote_addr = "10.0.0.7";
   REQUIRE(w.h.app->router().handle(r).status == 200);
   const json seen = hs_call(w.h, "get_user_ip_and_agents", {{"user_id", "@bob:example.org"}});
   REQUIRE(seen["status"] == "ok");
   const json &entries = seen["result"]["entries"];
   CHECK(std::any_of(entries.begin(), entries.end(), [](const json &e) {
      return e["ip"] == "10.0.0.7" && e["user_agent"] == "Element/1.11" && e["last_seen"].get<int64_t>() > 0;
   }));
   const json later = hs_call(w.h, "get_user_ip_and_agents", {{"user_id", "@bob:example.org"}, {"since_ts", chat::now_ms() + 60000}});
   CHECK(later["result"]["entries"].empty());
   CHECK(hs_call(w.h, "get_user_ip_and_agents", {{"user_id", "@nobody:example.org"}})["status"] == "not_found");
   CHECK(hs_call(w.h, "get_user_ip_and_agents", {{"user_id", "@bob:elsewhere.org"}})["status"] == "denied");
}

TEST_CASE("homeserver: register_user and set_displayname go through the account pipeline") {
   World w({test::hs_probe(), test::probe("chat_a", "a", {{"answers", {{"check_registration_for_spam", MODKIT_REGISTRATION_ALLOW}}}})});
   w.h.clear();
   const json made = hs_call(w.h, "register_user", {{"localpart", "bot"}, {"display_name", "The Bot"}});
   REQUIRE(made["status"] == "ok");
   CHECK(made["result"]["user_id"] == "@bot:example.org");
   CHECK(w.h.calls("check_registration_for_spam") == std::vector<std::string>{"a:check_registration_for_spam"});
   CHECK(hs_call(w.h, "get_profile_for_user", {{"user_id", "@bot:example.org"}})["result"]["displayname"] == "The Bot");
   // No password: nobody logs in as it with one.
   CHECK(w.h.request("POST", "/_matrix/client/v3/login",
                     {{"type", "m.login.password"}, {"identifier", {{"type", "m.id.user"}, {"user", "bot"}}}, {"password", ""}})
            .status == 403);
   CHECK(hs_call(w.h, "register_user", {{"localpart", "bot"}})["status"] == "conflict");
   const json bad = hs_call(w.h, "register_user", {{"localpart", "Not Valid"}});
   CHECK(bad["status"] == "invalid_argument");
   CHECK(bad["message"].get<std::string>().find("M_INVALID_USERNAME") == 0);

   CHECK(hs_call(w.h, "set_displayname", {{"user_id", "@bob:example.org"}, {"display_name", "Robert"}})["status"] == "ok");
   CHECK(hs_call(w.h, "get_profile_for_user", {{"user_id", "@bob:example.org"}})["result"]["displayname"] == "Robert");
   CHECK(hs_call(w.h, "set_displayname", {{"user_id", "@nobody:example.org"}, {"display_name", "x"}})["status"] ==
         "not_found");
   const json foreign = hs_call(w.h, "set_displayname", {{"user_id", "@bob:elsewhere.org"}, {"display_name", "x"}});
   CHECK(foreign["status"] == "denied");
   CHECK(foreign["refused"] == true);
   CHECK(w.h.logged("a module acts only as users of example.org"));
}

TEST_CASE("homeserver: a registration a spam checker denies is refused") {
   test::Host h({test::hs_probe(), test::probe("chat_a", "a", {{"answers", {{"check_registration_for_spam", MODKIT_REGISTRATION_DENY}}}})});
   const json denied = hs_call(h, "register_user", {{"localpart", "spammer"}});
   CHECK(denied["status"] == "denied");
   CHECK(denied["message"].get<std::string>().find("M_FORBIDDEN: Registration has been disabled (module 'chat_a')") == 0);
   CHECK(hs_call(h, "check_user_exists", {{"user_id", "@spammer:example.org"}})["result"]["user_id"].is_null());
}

TEST_CASE("homeserver: room state, filtered") {
   World w;
   const json all = hs_call(w.h, "get_room_state", {{"room_id", w.room}});
   REQUIRE_MESSAGE(all["status"] == "ok", all.dump());
   CHECK(all["result"]["events"].size() >= 4); // create, member, power levels, join rules, name
   const json named = hs_call(w.h, "get_room_state", {{"room_id", w.room}, {"filter", pairs("m.room.name", "")}});
   REQUIRE(named["result"]["events"].size() == 1);
   CHECK(named["result"]["events"][0]["content"]["name"] == "Lobby");
   const json members =
      hs_call(w.h, "get_room_state", {{"room_id", w.room}, {"filter", pairs("m.room.member", nullptr)}})["result"]["events"];
   REQUIRE(members.size() == 1);
   CHECK(members[0]["state_key"] == "@alice:example.org");
   CHECK(hs_call(w.h, "get_room_state", {{"room_id", "!nope:example.org"}})["status"] == "not_found");
   const json bad = hs_call(w.h, "get_room_state", {{"room_id", w.room}, {"filter", "m.room.name"}});
   CHECK(bad["status"] == "invalid_argument");
   CHECK(bad["refused"] == true);
   CHECK(hs_call(w.h, "get_room_state", {{"room_id", w.room}, {"filter", json::array({json::array({"m.room.name"})})}})["status"] ==
         "invalid_argument");
}

TEST_CASE("homeserver: membership as a local user") {
   World w;
   const json invite = hs_call(w.h, "update_room_membership",
                               {{"sender", "@alice:example.org"}, {"target", "@bob:example.org"}, {"room_id", w.room},
                                {"membership", "invite"}});
   REQUIRE(invite["status"] == "ok");
   CHECK(invite["result"]["event_id"].get<std::string>().rfind('$', 0) == 0);
   CHECK(test::membership(w.h, w.room, "@bob:example.org") == "invite");
   const json join = hs_call(w.h, "update_room_membership",
                             {{"sender", "@bob:example.org"}, {"target", "@bob:example.org"}, {"room_id", w.room},
                              {"membership", "join"}});
   REQUIRE(join["status"] == "ok");
   CHECK(test::membership(w.h, w.room, "@bob:example.org") == "join");
   CHECK(hs_call(w.h, "update_room_membership",
                 {{"sender", "@bob:example.org"}, {"target", "@bob:example.org"}, {"room_id", w.room}, {"membership", "leave"}})
            ["status"] == "ok");
   CHECK(test::membership(w.h, w.room, "@bob:example.org") == "leave");

   SUBCASE("not invited to a private room") {
      const json r = hs_call(w.h, "update_room_membership",
                             {{"sender", "@admin:example.org"}, {"target", "@admin:example.org"}, {"room_id", w.room},
                              {"membership", "join"}});
      CHECK(r["status"] == "denied");
      CHECK(r["message"].get<std::string>().find("M_FORBIDDEN") == 0);
   }
   SUBCASE("not joined") {
      CHECK(hs_call(w.h, "update_room_membership",
                    {{"sender", "@admin:example.org"}, {"target", "@bob:example.org"}, {"room_id", w.room}, {"membership", "invite"}})
               ["status"] == "denied");
   }
   SUBCASE("unknown room, unknown user, unsupported membership, another server") {
      CHECK(hs_call(w.h, "update_room_membership",
                    {{"sender", "@alice:example.org"}, {"target", "@alice:example.org"}, {"room_id", "!nope:example.org"},
                     {"membership", "join"}})["status"] == "not_found");
      CHECK(hs_call(w.h, "update_room_membership",
                    {{"sender", "@ghost:example.org"}, {"target", "@ghost:example.org"}, {"room_id", w.room},
                     {"membership", "join"}})["status"] == "not_found");
      CHECK(hs_call(w.h, "update_room_membership",
                    {{"sender", "@alice:example.org"}, {"target", "@bob:example.org"}, {"room_id", w.room}, {"membership", "ban"}})
               ["status"] == "unsupported");
      CHECK(hs_call(w.h, "update_room_membership",
                    {{"sender", "@eve:evil.org"}, {"target", "@eve:evil.org"}, {"room_id", w.room}, {"membership", "join"}})
               ["status"] == "denied");
   }
}

TEST_CASE("homeserver: an event a module sends meets the spam checkers") {
   World w({test::hs_probe(), test::probe("chat_a", "a", {{"answers", {{"check_event_for_spam", MODKIT_NOT_SPAM}}}})});
   const json message = {{"type", "m.room.message"},
                         {"room_id", w.room},
                         {"sender", "@alice:example.org"},
                         {"content", {{"msgtype", "m.text"}, {"body", "hello"}}}};
   const json sent = hs_call(w.h, "create_and_send_event_into_room", {{"event", message}});
   REQUIRE(sent["status"] == "ok");
   const std::string event_id = sent["result"]["event_id"];
   {
      std::lock_guard<std::mutex> lock(w.h.app->state().mutex);
      REQUIRE(w.h.app->state().events.count(event_id));
      CHECK(w.h.app->state().events.at(event_id).content["body"] == "hello");
   }
   CHECK(w.h.calls("check_event_for_spam").size() == 1);
   const json topic = {{"type", "m.room.topic"}, {"room_id", w.room}, {"sender", "@alice:example.org"},
                       {"state_key", ""}, {"content", {{"topic", "news"}}}};
   REQUIRE(hs_call(w.h, "create_and_send_event_into_room", {{"event", topic}})["status"] == "ok");
   CHECK(hs_call(w.h, "get_room_state", {{"room_id", w.room}, {"filter", pairs("m.room.topic", "")}})["result"]["events"][0]
            ["content"]["topic"] == "news");

   json as_bob = message;
   as_bob["sender"] = "@bob:example.org";
   CHECK(hs_call(w.h, "create_and_send_event_into_room", {{"event", as_bob}})["status"] == "denied"); // not joined
   json member = topic;
   member["type"] = "m.room.member";
   CHECK(hs_call(w.h, "create_and_send_event_into_room", {{"event", member}})["status"] == "invalid_argument");
   CHECK(hs_call(w.h, "create_and_send_event_into_room", {{"event", {{"type", "m.room.message"}}}})["status"] ==
         "invalid_argument");
   const json raw = hs_call(w.h, "raw_create_and_send_event_into_room", {{"event_text", "{\"type\": "}});
   CHECK(raw["status"] == "invalid_argument");
   CHECK(raw["refused"] == true);
   CHECK(w.h.logged("create_and_send_event_into_room refused: event_json: expected JSON"));
}

TEST_CASE("homeserver: a spam checker refuses a module's event") {
   World w({test::hs_probe(), test::probe("chat_a", "a", {{"answers", {{"check_event_for_spam", MODKIT_SPAM_FORBIDDEN}}}})});
   const json sent = hs_call(w.h, "create_and_send_event_into_room",
                             {{"event", {{"type", "m.room.message"}, {"room_id", w.room}, {"sender", "@alice:example.org"},
                                         {"content", {{"body", "spam"}}}}}});
   CHECK(sent["status"] == "denied");
   CHECK(sent["message"].get<std::string>().find("M_FORBIDDEN") == 0);
}

TEST_CASE("homeserver: rooms, aliases and the public directory") {
   World w;
   const json made = hs_call(w.h, "create_room", {{"user_id", "@bob:example.org"}, {"config", {{"room_alias_name", "bobs"}}}});
   REQUIRE(made["status"] == "ok");
   const std::string room = made["result"]["room_id"];
   CHECK(made["result"]["room_alias"] == "#bobs:example.org");
   CHECK(test::membership(w.h, room, "@bob:example.org") == "join");
   const json found = hs_call(w.h, "lookup_room_alias", {{"alias", "#bobs:example.org"}});
   CHECK(found["result"] == json{{"room_id", room}, {"servers", {"example.org"}}});
   CHECK(hs_call(w.h, "lookup_room_alias", {{"alias", "#nothing:example.org"}})["status"] == "not_found");
   CHECK(hs_call(w.h, "lookup_room_alias", {{"alias", "bobs"}})["status"] == "invalid_argument");
   CHECK(hs_call(w.h, "create_room", {{"user_id", "@bob:example.org"}, {"config", {{"room_alias_name", "bobs"}}}})
            ["status"] == "conflict");
   CHECK(hs_call(w.h, "create_room", {{"user_id", "@bob:example.org"}, {"config", {{"initial_state", 3}}}})["status"] ==
         "invalid_argument");

   CHECK(hs_call(w.h, "room_is_in_public_room_list", {{"room_id", room}})["result"]["public"] == false);
   CHECK(hs_call(w.h, "add_room_to_public_room_list", {{"room_id", room}})["status"] == "ok");
   CHECK(hs_call(w.h, "room_is_in_public_room_list", {{"room_id", room}})["result"]["public"] == true);
   const json listed = test::Host::body(w.h.request("GET", "/_matrix/client/v3/publicRooms"));
   CHECK(listed["chunk"].size() == 1);
   CHECK(hs_call(w.h, "remove_room_from_public_room_list", {{"room_id", room}})["status"] == "ok");
   CHECK(hs_call(w.h, "room_is_in_public_room_list", {{"room_id", room}})["result"]["public"] == false);
   CHECK(hs_call(w.h, "add_room_to_public_room_list", {{"room_id", "!nope:example.org"}})["status"] == "not_found");
}

TEST_CASE("homeserver: account data, global and per room") {
   World w({test::hs_probe(), test::probe("chat_a", "a", {{"answers", {{"on_account_data_updated", nullptr}}}})});
   const json put = hs_call(w.h, "put_account_data",
                            {{"user_id", "@alice:example.org"}, {"type", "org.example.flags"}, {"content", {{"x", 1}}}});
   REQUIRE(put["status"] == "ok");
   CHECK(w.h.calls("on_account_data_updated") == std::vector<std::string>{"a:on_account_data_updated"});
   CHECK(hs_call(w.h, "get_account_data", {{"user_id", "@alice:example.org"}, {"type", "org.example.flags"}})["result"]
            ["content"] == json{{"x", 1}});
   REQUIRE(hs_call(w.h, "put_account_data",
                   {{"user_id", "@alice:example.org"}, {"room_id", w.room}, {"type", "m.tag"}, {"content", {{"tags", json::object()}}}})
              ["status"] == "ok");
   CHECK(hs_call(w.h, "get_account_data", {{"user_id", "@alice:example.org"}, {"room_id", w.room}, {"type", "m.tag"}})
            ["result"]["content"] == json{{"tags", json::object()}});
   CHECK(hs_call(w.h, "get_account_data", {{"user_id", "@alice:example.org"}, {"type", "m.tag"}})["result"]["content"]
            .is_null());
   CHECK(hs_call(w.h, "get_account_data", {{"user_id", "@nobody:example.org"}, {"type", "m.tag"}})["status"] ==
         "not_found");
   CHECK(hs_call(w.h, "put_account_data", {{"user_id", "@alice:example.org"}, {"type", "m.tag"}, {"content", "text"}})
            ["status"] == "invalid_argument");
   CHECK(hs_call(w.h, "put_account_data", {{"user_id", "@nobody:example.org"}, {"type", "m.tag"}, {"content", json::object()}})
            ["status"] == "not_found");
}

TEST_CASE("homeserver: local online presence is sent to whom a module says") {
   World w;
   REQUIRE(w.h.request("PUT", "/_matrix/client/v3/presence/@alice:example.org/status", {{"presence", "online"}}, w.alice)
              .status == 200);
   const json sent = hs_call(w.h, "send_local_online_presence_to", {{"users", {"@bob:example.org", "@x:elsewhere.org"}}});
   REQUIRE(sent["status"] == "ok");
   CHECK(sent["result"]["sent"] == 1);
   {
      std::lock_guard<std::mutex> lock(w.h.app->state().mutex);
      const auto &inbox = w.h.app->state().presence_inbox["@bob:example.org"];
      CHECK(std::any_of(inbox.begin(), inbox.end(), [](const chat::PresenceDelivery &d) {
         return d.user_id == "@alice:example.org" && d.presence.presence == "online";
      }));
   }
   CHECK(hs_call(w.h, "send_local_online_presence_to", {{"users", "@bob:example.org"}})["status"] == "invalid_argument");
   CHECK(hs_call(w.h, "send_local_online_presence_to", {{"users", {"bob"}}})["status"] == "invalid_argument");
}

TEST_CASE("homeserver: power levels apply to a module acting as a user") {
   World w;
   const auto r = w.h.request("POST", "/_matrix/client/v3/rooms/" + w.room + "/invite", {{"user_id", "@bob:example.org"}}, w.alice);
   REQUIRE(r.status == 200);
   REQUIRE(w.h.request("POST", "/_matrix/client/v3/rooms/" + w.room + "/join", json::object(), w.bob).status == 200);
   const json name = {{"type", "m.room.name"}, {"room_id", w.room}, {"sender", "@bob:example.org"},
                      {"state_key", ""}, {"content", {{"name", "Bob's now"}}}};
   const json refused = hs_call(w.h, "create_and_send_event_into_room", {{"event", name}});
   CHECK(refused["status"] == "denied");
   CHECK(refused["message"].get<std::string>().find("M_FORBIDDEN") == 0);
   json as_alice = name;
   as_alice["sender"] = "@alice:example.org";
   CHECK(hs_call(w.h, "create_and_send_event_into_room", {{"event", as_alice}})["status"] == "ok");
}

TEST_CASE("homeserver: on a host without the extension, the wrapper refuses to start the module") {
   // A plain loader, as any other host: get_extension answers NULL for chat.homeserver/1.
   modkit::Loader::Options o;
   o.categories = {modkit_spam_checker_category(), modkit_third_party_rules_category()};
   std::vector<std::string> lines;
   o.log = [&](modkit_log_level, const char *, std::string_view line) { lines.emplace_back(line); };
   modkit::Loader loader(o);
   try {
      loader.load(json{{"module_path", {test::fixture_dir()}}, {"modules", {test::hs_probe()}}}.dump());
      FAIL("the module loaded without the extension");
   } catch (const modkit::LoadError &e) {
      CHECK(std::string(e.what()).find("the host offers no chat.homeserver/1") != std::string::npos);
   }
}
