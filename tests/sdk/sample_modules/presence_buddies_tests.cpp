// samples/presence_buddies through the loader: buddies see each other, presence admins see all.
#include "sample_host.hpp"

using namespace sample_tests;

namespace {

// json::array: a list of two-element lists would otherwise read as an object.
const json config = {{"buddies", json::array({json::array({"@alice:localhost", "@bob:localhost"}),
                                              json::array({"@bob:localhost", "@carol:localhost"})})},
                     {"see_everyone", {"@admin:localhost"}}};

} // namespace

TEST_CASE("presence_buddies routes a buddy's presence to the rest of their groups") {
   SampleHost host(json::array({{{"module", "presence_buddies"}, {"config", config}}}));
   const char *pr = MODKIT_PRESENCE_ROUTER_ID;

   const json updates = json::array({{{"user_id", "@bob:localhost"}, {"state", "online"}},
                                     {{"user_id", "@dave:localhost"}, {"state", "offline"}}});
   json doc = host.dispatch(pr, "get_users_for_states", {{"state_updates", updates}});
   INFO(doc.dump());
   REQUIRE(doc["returned"] == "ok");
   const json routes = json::parse(doc["answers"][0]["outputs"]["users"].get<std::string>());
   CHECK(routes == json{{"@alice:localhost", {0}}, {"@carol:localhost", {0}}, {"@admin:localhost", {0, 1}}});
   CHECK(host.logged("[presence_buddies] routed the presence of @bob:localhost (online) to 2 buddies"));

   json bob = host.dispatch(pr, "get_interested_users", {{"user_id", "@bob:localhost"}});
   CHECK(bob["answers"][0]["outputs"]["all_users"] == false);
   CHECK(json::parse(bob["answers"][0]["outputs"]["user_ids"].get<std::string>()) ==
         json{"@alice:localhost", "@carol:localhost"});

   json admin = host.dispatch(pr, "get_interested_users", {{"user_id", "@admin:localhost"}});
   INFO(admin.dump());
   CHECK(admin["answers"][0]["outputs"]["all_users"] == true);
   CHECK(host.logged("@admin:localhost receives everyone's presence"));

   json stranger = host.dispatch(pr, "get_interested_users", {{"user_id", "@dave:localhost"}});
   CHECK(json::parse(stranger["answers"][0]["outputs"]["user_ids"].get<std::string>()) == json::array());
}

TEST_CASE("presence_buddies refuses a group of one and entries that are not user IDs") {
   const std::string lonely = load_errors(
      json::array({{{"module", "presence_buddies"}, {"config", {{"buddies", json::array({json::array({"@alice:localhost"})})}}}}}));
   CHECK(lonely.find("/modules/0/config/buddies/0") != std::string::npos);
   CHECK(lonely.find("a buddy group needs two users or more") != std::string::npos);
   const std::string bad = load_errors(
      json::array({{{"module", "presence_buddies"}, {"config", {{"see_everyone", {"@a:x", "admin"}}}}}}));
   CHECK(bad.find("/modules/0/config/see_everyone/1") != std::string::npos);
}
