// The presence router traits: the paired rule, the parsed presence states, the routing map and
// the all-users answer as the C ABI expects them.
#include "harness.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using namespace category_tests;
using nlohmann::json;

namespace {

const std::string updates = R"([
   {"user_id": "@ann:x", "state": "online", "last_active_ts": 10, "last_federation_update_ts": 11,
    "last_user_sync_ts": 12, "status_msg": "lunch", "currently_active": true},
   {"user_id": "@bob:y", "state": "offline", "status_msg": null},
   {"user_id": "@cat:x", "state": "unavailable"}])";

modkit::PresenceRouterCallbacks router() {
   modkit::PresenceRouterCallbacks cb;
   cb.get_users_for_states = [](const std::vector<modkit::PresenceState> &states) {
      modkit::UsersForStates routes;
      for (std::size_t i = 0; i < states.size(); ++i)
         if (states[i].user_id.find(":x") != std::string::npos) routes["@watcher:z"].insert(i);
      return routes;
   };
   cb.get_interested_users = [](std::string_view user) -> modkit::InterestedUsers {
      if (user == "@admin:x") return modkit::InterestedUsers::all();
      if (user == "@lonely:x") return {};
      return std::set<std::string>{"@ann:x", "@bob:y"};
   };
   return cb;
}

} // namespace

TEST_CASE("presence states arrive parsed and routes are written as indices") {
   Harness h;
   std::vector<modkit::PresenceState> seen;
   modkit::PresenceRouterCallbacks cb = router();
   cb.get_users_for_states = [&, route = cb.get_users_for_states](modkit::Call &call,
                                                                   const std::vector<modkit::PresenceState> &states) {
      seen = states;
      return route(call, states);
   };
   h.api->register_presence_router_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_presence_router_callbacks>(MODKIT_PRESENCE_ROUTER_ID);
   void *ud = h.user_data(MODKIT_PRESENCE_ROUTER_ID);

   modkit_buffer users;
   REQUIRE(c.get_users_for_states(ud, &h.call, str(updates), &users) == MODKIT_OK);
   CHECK(json::parse(users.data) == json{{"@watcher:z", {0, 2}}});
   REQUIRE(seen.size() == 3);
   CHECK(seen[0].user_id == "@ann:x");
   CHECK(seen[0].state == "online");
   CHECK(seen[0].last_active_ts == 10);
   CHECK(seen[0].last_federation_update_ts == 11);
   CHECK(seen[0].last_user_sync_ts == 12);
   CHECK(seen[0].status_msg == std::optional<std::string>("lunch"));
   CHECK(seen[0].currently_active);
   CHECK_FALSE(seen[1].status_msg.has_value());
   CHECK(seen[1].last_active_ts == 0);
   CHECK_FALSE(seen[1].currently_active);

   modkit_buffer nobody;
   REQUIRE(c.get_users_for_states(ud, &h.call, str("[]"), &nobody) == MODKIT_OK);
   CHECK(nobody.data == "{}");
}

TEST_CASE("get_interested_users answers a set as a JSON array and everyone as the flag alone") {
   Harness h;
   h.api->register_presence_router_callbacks(router());
   const auto c = h.callbacks<modkit_presence_router_callbacks>(MODKIT_PRESENCE_ROUTER_ID);
   void *ud = h.user_data(MODKIT_PRESENCE_ROUTER_ID);

   bool all = true;
   modkit_buffer some;
   REQUIRE(c.get_interested_users(ud, &h.call, str("@ann:x"), &all, &some) == MODKIT_OK);
   CHECK_FALSE(all);
   CHECK(json::parse(some.data) == json{"@ann:x", "@bob:y"});

   modkit_buffer everyone;
   REQUIRE(c.get_interested_users(ud, &h.call, str("@admin:x"), &all, &everyone) == MODKIT_OK);
   CHECK(all);
   CHECK(everyone.data.empty());

   modkit_buffer none;
   REQUIRE(c.get_interested_users(ud, &h.call, str("@lonely:x"), &all, &none) == MODKIT_OK);
   CHECK_FALSE(all);
   CHECK(none.data == "[]");
}

TEST_CASE("a presence router with only one of its two callbacks is refused at registration") {
   Harness h;
   modkit::PresenceRouterCallbacks half = router();
   half.get_users_for_states = nullptr;
   CHECK_THROWS_WITH_AS(h.api->register_presence_router_callbacks(std::move(half)),
                        "harness: could not register callbacks of category modkit.presence_router: "
                        "get_users_for_states and get_interested_users come as a pair, but only "
                        "get_interested_users is set; set both",
                        modkit::Error);
   modkit::PresenceRouterCallbacks other_half = router();
   other_half.get_interested_users = nullptr;
   try {
      h.api->register_presence_router_callbacks(std::move(other_half));
      FAIL("a half router was registered");
   } catch (const modkit::Error &e) {
      CHECK(e.code() == MODKIT_E_INVALID_ARGUMENT);
      CHECK(std::string(e.what()).find("only get_users_for_states is set") != std::string::npos);
   }
   CHECK(h.host.registrations.empty());
}

TEST_CASE("a failing presence router is an error status and writes nothing") {
   Harness h;
   modkit::PresenceRouterCallbacks cb;
   cb.get_users_for_states = [](const std::vector<modkit::PresenceState> &) -> modkit::UsersForStates {
      throw std::runtime_error("roster unavailable");
   };
   cb.get_interested_users = [](std::string_view) -> modkit::InterestedUsers {
      throw modkit::Error(MODKIT_E_TIMEOUT, "directory timed out");
   };
   h.api->register_presence_router_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_presence_router_callbacks>(MODKIT_PRESENCE_ROUTER_ID);
   void *ud = h.user_data(MODKIT_PRESENCE_ROUTER_ID);

   modkit_buffer users;
   CHECK(c.get_users_for_states(ud, &h.call, str(updates), &users) == MODKIT_E_INTERNAL);
   CHECK(h.logged_error("get_users_for_states failed (internal): roster unavailable"));
   CHECK(c.get_users_for_states(ud, &h.call, str(R"([{"state": "online"}])"), &users) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(h.logged_error("the host passed a presence state without a user_id"));
   CHECK(c.get_users_for_states(ud, &h.call, str(R"({"user_id": "@a:x"})"), &users) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(users.data.empty());

   bool all = false;
   modkit_buffer ids;
   CHECK(c.get_interested_users(ud, &h.call, str("@ann:x"), &all, &ids) == MODKIT_E_TIMEOUT);
   CHECK(h.logged_error("get_interested_users failed (timeout): directory timed out"));
   CHECK_FALSE(all);
   CHECK(ids.data.empty());
}
