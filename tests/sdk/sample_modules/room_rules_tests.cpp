// samples/room_rules through the loader: each third-party rule decides as its README says.
#include "sample_host.hpp"

using namespace sample_tests;

namespace {

const json config = {{"read_only_rooms", {"read-only"}},  {"moderators", {"@admin:localhost"}},
                     {"masked_words", {"Darn"}},          {"forbidden_presets", {"public_chat"}},
                     {"default_topic", "Be kind."},       {"protected_rooms", {"lobby"}},
                     {"protected_users", {"@admin:localhost"}}};

json state_named(const char *name) {
   return json::array({{{"type", "m.room.name"}, {"state_key", ""}, {"content", {{"name", name}}}}});
}

json message(const char *room, const char *sender, const char *body) {
   return {{"event_id", "$m"}, {"room_id", room}, {"sender", sender}, {"type", "m.room.message"},
           {"content_json", {{"body", body}, {"msgtype", "m.text"}}}, {"origin_server_ts", 1000}};
}

} // namespace

TEST_CASE("room_rules: read-only rooms, masked words and room creation") {
   SampleHost host(json::array({{{"module", "room_rules"}, {"config", config}}}));
   const char *tpr = MODKIT_THIRD_PARTY_RULES_ID;

   SUBCASE("a message in a read-only room is denied unless a moderator sends it") {
      json denied = host.dispatch(tpr, "check_event_allowed",
                                        {{"event", message("!ro:localhost", "@bob:localhost", "hi")},
                                         {"state_events", state_named("read-only")}});
      CHECK(denied["outcome"] == "decided");
      CHECK(denied["module"] == "room_rules");
      CHECK(denied["answer"]["verdict"] == MODKIT_EVENT_DENY);
      CHECK(host.logged("[room_rules] denied a message from @bob:localhost in read-only room \"read-only\""));
      json moderator = host.dispatch(tpr, "check_event_allowed",
                                           {{"event", message("!ro:localhost", "@admin:localhost", "hi")},
                                            {"state_events", state_named("read-only")}});
      CHECK(moderator["outcome"] == "no_opinion");
   }
   SUBCASE("masked words are starred out in a replacement event") {
      json answer = host.answer(tpr, "check_event_allowed",
                                      {{"event", message("!r:localhost", "@bob:localhost", "darn it, DARN")},
                                       {"state_events", state_named("general")}});
      CHECK(answer["verdict"] == MODKIT_EVENT_REPLACE);
      const json replacement = json::parse(answer["replacement"].get<std::string>());
      CHECK(replacement["content"]["body"] == "**** it, ****");
      CHECK(replacement["content"]["org.example.room_rules.masked"] == 2);
      CHECK(replacement["event_id"] == "$m");
      CHECK(host.logged("masked 2 word(s) in a message from @bob:localhost"));
   }
   SUBCASE("a forbidden preset is refused for users, and a missing topic is added") {
      const json who = {{"user_id", "@bob:localhost"}, {"authenticated_entity", "@bob:localhost"}};
      json refused = host.dispatch(tpr, "on_create_room",
                                         {{"requester", who}, {"request_content", {{"preset", "public_chat"}}},
                                          {"is_requester_admin", false}});
      CHECK(refused["outcome"] == "decided");
      CHECK(refused["answer"]["result"] == MODKIT_CREATE_ROOM_DENY);
      CHECK(host.logged("refused a room with preset \"public_chat\" for @bob:localhost"));

      json admin = host.dispatch(tpr, "on_create_room",
                                       {{"requester", who}, {"request_content", {{"preset", "public_chat"}}},
                                        {"is_requester_admin", true}});
      INFO(admin.dump());
      CHECK(admin["outcome"] == "no_opinion");
      const json edited = json::parse(admin["answers"][0]["outputs"]["new_content"].get<std::string>());
      CHECK(edited == json{{"preset", "public_chat"}, {"topic", "Be kind."}});
   }
   SUBCASE("read-only rooms take no third-party invites and are never published") {
      json invite = host.dispatch(tpr, "check_threepid_can_be_invited",
                                        {{"medium", "email"}, {"address", "eve@example.org"},
                                         {"state_events", state_named("read-only")}});
      CHECK(invite["outcome"] == "decided");
      CHECK(invite["answer"]["allowed"] == false);
      json open = host.dispatch(tpr, "check_threepid_can_be_invited",
                                      {{"medium", "email"}, {"address", "eve@example.org"},
                                       {"state_events", state_named("general")}});
      CHECK(open["outcome"] == "no_opinion");
      json publish = host.dispatch(tpr, "check_visibility_can_be_modified",
                                         {{"room_id", "!ro:localhost"}, {"state_events", state_named("read-only")},
                                          {"new_visibility", "public"}});
      CHECK(publish["answer"]["allowed"] == false);
   }
}

TEST_CASE("room_rules: protected rooms and users, and the notifications") {
   SampleHost host(json::array({{{"module", "room_rules"}, {"config", config}}}));
   const char *tpr = MODKIT_THIRD_PARTY_RULES_ID;

   // The module learns room names from accepted events; a shutdown comes with a room ID only.
   REQUIRE(host.dispatch(tpr, "on_new_event",
                         {{"event", message("!lobby:localhost", "@bob:localhost", "hello")},
                          {"state_events", state_named("lobby")}})["returned"] == "ok");
   json shutdown = host.dispatch(tpr, "check_can_shutdown_room",
                                       {{"user_id", "@admin:localhost"}, {"room_id", "!lobby:localhost"}});
   CHECK(shutdown["outcome"] == "decided");
   CHECK(shutdown["answer"]["allowed"] == false);
   CHECK(host.logged("refused to shut down protected room \"lobby\" (!lobby:localhost), asked by @admin:localhost"));
   CHECK(host.dispatch(tpr, "check_can_shutdown_room", {{"user_id", nullptr}, {"room_id", "!other:localhost"}})
            ["outcome"] == "no_opinion");

   json deactivate = host.dispatch(tpr, "check_can_deactivate_user",
                                         {{"user_id", "@admin:localhost"}, {"by_admin", true}});
   CHECK(deactivate["answer"]["allowed"] == false);
   CHECK(host.dispatch(tpr, "check_can_deactivate_user", {{"user_id", "@bob:localhost"}, {"by_admin", false}})
            ["outcome"] == "no_opinion");

   host.dispatch(tpr, "on_profile_update",
                 {{"user_id", "@bob:localhost"}, {"new_profile", {{"user_id", "@bob:localhost"}, {"display_name", "Bobby"}}},
                  {"by_admin", false}, {"deactivation", false}});
   host.dispatch(tpr, "on_user_deactivation_status_changed",
                 {{"user_id", "@bob:localhost"}, {"deactivated", true}, {"by_admin", true}});
   host.dispatch(tpr, "on_add_user_third_party_identifier",
                 {{"user_id", "@bob:localhost"}, {"medium", "email"}, {"address", "bob@example.org"}});
   host.dispatch(tpr, "on_remove_user_third_party_identifier",
                 {{"user_id", "@bob:localhost"}, {"medium", "email"}, {"address", "bob@example.org"}});
   host.dispatch(tpr, "on_threepid_bind", {{"user_id", "@bob:localhost"}, {"medium", "msisdn"}, {"address", "4412"}});
   CHECK(host.logged("@bob:localhost is now called \"Bobby\""));
   CHECK(host.logged("@bob:localhost was deactivated"));
   CHECK(host.logged("@bob:localhost added email bob@example.org"));
   CHECK(host.logged("@bob:localhost removed email bob@example.org"));
   CHECK(host.logged("@bob:localhost bound msisdn 4412 on an identity server"));
}

TEST_CASE("room_rules: a moderator that is not a user ID is refused at its pointer") {
   const std::string errors =
      load_errors(json::array({{{"module", "room_rules"}, {"config", {{"moderators", {"@a:x", "bob"}}}}}}));
   CHECK(errors.find("/modules/0/config/moderators/1") != std::string::npos);
   CHECK(errors.find("expected a Matrix user ID") != std::string::npos);
   CHECK(load_errors(json::array({{{"module", "room_rules"}, {"config", {{"colour", "red"}}}}})) != "loaded");
}
