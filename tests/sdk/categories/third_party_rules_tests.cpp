// The third-party rules traits: every slot through its thunk, the verdict and the edited
// /createRoom body as the C ABI expects them, and the room state reader.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace category_tests;
using nlohmann::json;

namespace {

struct TestEvent {
   modkit_event event{};
   std::string content = R"({"body":"hello"})";
   TestEvent() {
      event.struct_size = sizeof event;
      event.event_id = str("$ev");
      event.room_id = str("!room:x");
      event.sender = str("@ann:x");
      event.type = str("m.room.message");
      event.content_json = str(content);
      event.origin_server_ts = 42;
   }
};

const std::string state_array =
   R"([{"type":"m.room.name","state_key":"","content":{"name":"read-only"}},
       {"type":"m.room.member","state_key":"@ann:x","content":{"membership":"join"}}])";

} // namespace

TEST_CASE("the room state reads the same from an array and from {type: {state_key: event}}") {
   const modkit::StateMap from_array(json::parse(state_array));
   const modkit::StateMap from_object(json::parse(
      R"({"m.room.name": {"": {"content": {"name": "read-only"}}},
          "m.room.member": {"@ann:x": {"content": {"membership": "join"}}}})"));
   for (const modkit::StateMap *state : {&from_array, &from_object}) {
      CHECK(state->size() == 2);
      CHECK(state->content("m.room.name")["name"] == "read-only");
      CHECK(state->content("m.room.member", "@ann:x")["membership"] == "join");
      CHECK(state->get("m.room.topic") == nullptr);
      CHECK(state->content("m.room.member", "@bob:x") == json::object());
   }
   CHECK(modkit::StateMap(json()).empty());
   CHECK_THROWS_WITH_AS(modkit::StateMap(json::parse(R"([{"type": "m.room.name"}])")),
                        "the host passed a state event without a string type and state_key",
                        modkit::Error);
   CHECK_THROWS_AS(modkit::StateMap(json::parse(R"({"m.room.name": 3})")), modkit::Error);
   CHECK_THROWS_AS(modkit::StateMap(json("text")), modkit::Error);
}

TEST_CASE("an Event converts to the client-server JSON of the event") {
   TestEvent e;
   std::string unsigned_text = R"({"age": 5})";
   e.event.unsigned_json = str(unsigned_text);
   e.event.state_key = str("");
   const json j = modkit::Event(&e.event);
   CHECK(j == json{{"event_id", "$ev"}, {"room_id", "!room:x"}, {"sender", "@ann:x"},
                   {"type", "m.room.message"}, {"content", {{"body", "hello"}}},
                   {"origin_server_ts", 42}, {"state_key", ""}, {"unsigned", {{"age", 5}}}});
}

TEST_CASE("every third-party rules slot reaches its callback with converted arguments") {
   Harness h;
   std::string log;
   auto note = [&](const std::string &s) { log += s + ";"; };

   modkit::ThirdPartyRulesCallbacks cb;
   cb.check_event_allowed = [&](const modkit::Event &event, const modkit::StateMap &state) {
      const std::string body = event.content().value("body", "");
      if (state.content("m.room.name").value("name", "") == "read-only") return modkit::ThirdPartyVerdict::deny();
      if (body == "shout") {
         json replaced = event;
         replaced["content"]["body"] = "SHOUT";
         return modkit::ThirdPartyVerdict::replace(replaced);
      }
      return modkit::ThirdPartyVerdict::allow();
   };
   cb.on_create_room = [&](modkit::Call &call, const modkit::Requester &who, json &content, bool admin) {
      note(std::string(call.request_id()) + "," + std::string(who.user_id()) + "," +
           std::string(who.device_id().value_or("-")) + "," + std::string(who.authenticated_entity()) + "," +
           std::string(who.app_service_id().value_or("-")) + "," + (who.is_guest() ? "guest" : "member") + "," +
           (who.shadow_banned() ? "banned" : "ok") + "," + (admin ? "admin" : "user"));
      if (content.value("preset", "") == "public_chat") {
         content["edited"] = true; // a deny discards edits
         return modkit::CreateRoomResult::deny;
      }
      if (!content.contains("topic")) content["topic"] = "welcome";
      return modkit::CreateRoomResult::allow;
   };
   cb.check_threepid_can_be_invited = [&](std::string_view medium, std::string_view address,
                                          const modkit::StateMap &state) {
      note(std::string(medium) + ":" + std::string(address) + "," + std::to_string(state.size()));
      return address.find("@example.org") != std::string_view::npos;
   };
   cb.check_visibility_can_be_modified = [&](std::string_view room, const modkit::StateMap &,
                                             std::string_view visibility) {
      note(std::string(room) + "->" + std::string(visibility));
      return visibility != "public";
   };
   cb.on_new_event = [&](const modkit::Event &event, const modkit::StateMap &state) {
      note("new " + std::string(event.event_id()) + "," + std::to_string(state.size()));
   };
   cb.check_can_shutdown_room = [&](std::optional<std::string_view> user, std::string_view room) {
      note("shutdown " + std::string(user.value_or("server")) + "," + std::string(room));
      return user.has_value();
   };
   cb.check_can_deactivate_user = [&](std::string_view user, bool by_admin) {
      note("deactivate " + std::string(user) + "," + (by_admin ? "admin" : "self"));
      return by_admin;
   };
   cb.on_profile_update = [&](std::string_view user, const modkit::UserProfile &profile, bool by_admin,
                              bool deactivation) {
      note("profile " + std::string(user) + "," + std::string(profile.display_name().value_or("-")) + "," +
           (by_admin ? "admin" : "self") + "," + (deactivation ? "deactivation" : "edit"));
   };
   cb.on_user_deactivation_status_changed = [&](std::string_view user, bool deactivated, bool by_admin) {
      note("status " + std::string(user) + "," + (deactivated ? "off" : "on") + "," + (by_admin ? "admin" : "self"));
   };
   cb.on_threepid_bind = [&](std::string_view user, std::string_view medium, std::string_view address) {
      note("bind " + std::string(user) + "," + std::string(medium) + "," + std::string(address));
   };
   cb.on_add_user_third_party_identifier = [&](std::string_view user, std::string_view medium,
                                               std::string_view address) {
      note("add " + std::string(user) + "," + std::string(medium) + "," + std::string(address));
   };
   cb.on_remove_user_third_party_identifier = [&](std::string_view user, std::string_view medium,
                                                  std::string_view address) {
      note("remove " + std::string(user) + "," + std::string(medium) + "," + std::string(address));
   };
   h.api->register_third_party_rules_callbacks(std::move(cb));

   const auto c = h.callbacks<modkit_third_party_rules_callbacks>(MODKIT_THIRD_PARTY_RULES_ID);
   void *ud = h.user_data(MODKIT_THIRD_PARTY_RULES_ID);
   TestEvent e;

   SUBCASE("check_event_allowed writes allow, deny, or replace with the replacement event") {
      modkit_event_verdict verdict = -1;
      modkit_buffer replacement;
      CHECK(c.check_event_allowed(ud, &h.call, &e.event, str("[]"), &verdict, &replacement) == MODKIT_OK);
      CHECK(verdict == MODKIT_EVENT_ALLOW);
      CHECK(replacement.data.empty());
      CHECK(c.check_event_allowed(ud, &h.call, &e.event, str(state_array), &verdict, &replacement) == MODKIT_OK);
      CHECK(verdict == MODKIT_EVENT_DENY);
      CHECK(replacement.data.empty());
      e.content = R"({"body":"shout"})";
      e.event.content_json = str(e.content);
      CHECK(c.check_event_allowed(ud, &h.call, &e.event, absent(), &verdict, &replacement) == MODKIT_OK);
      CHECK(verdict == MODKIT_EVENT_REPLACE);
      const json replaced = json::parse(replacement.data);
      CHECK(replaced["content"]["body"] == "SHOUT");
      CHECK(replaced["event_id"] == "$ev");
   }
   SUBCASE("on_create_room hands back an edited body only when it allows") {
      modkit_requester who{};
      who.struct_size = sizeof who;
      who.user_id = str("@ann:x");
      who.authenticated_entity = str("@ann:x");
      who.is_guest = true;
      modkit_create_room_result result = -1;
      modkit_buffer edited;
      CHECK(c.on_create_room(ud, &h.call, &who, str(R"({"name":"lobby"})"), false, &result, &edited) == MODKIT_OK);
      CHECK(result == MODKIT_CREATE_ROOM_ALLOW);
      CHECK(json::parse(edited.data) == json{{"name", "lobby"}, {"topic", "welcome"}});

      modkit_buffer untouched;
      CHECK(c.on_create_room(ud, &h.call, &who, str(R"({"topic":"set"})"), true, &result, &untouched) == MODKIT_OK);
      CHECK(result == MODKIT_CREATE_ROOM_ALLOW);
      CHECK(untouched.data.empty()); // nothing changed, nothing written

      modkit_buffer denied;
      CHECK(c.on_create_room(ud, &h.call, &who, str(R"({"preset":"public_chat"})"), false, &result, &denied) ==
            MODKIT_OK);
      CHECK(result == MODKIT_CREATE_ROOM_DENY);
      CHECK(denied.data.empty());
      CHECK(log == "req-1,@ann:x,-,@ann:x,-,guest,ok,user;req-1,@ann:x,-,@ann:x,-,guest,ok,admin;"
                   "req-1,@ann:x,-,@ann:x,-,guest,ok,user;");
   }
   SUBCASE("the checks write their booleans and the notifications run") {
      bool allowed = true;
      CHECK(c.check_threepid_can_be_invited(ud, &h.call, str("email"), str("eve@evil.org"), str(state_array),
                                            &allowed) == MODKIT_OK);
      CHECK_FALSE(allowed);
      CHECK(c.check_threepid_can_be_invited(ud, &h.call, str("email"), str("bo@example.org"), absent(), &allowed) ==
            MODKIT_OK);
      CHECK(allowed);
      CHECK(c.check_visibility_can_be_modified(ud, &h.call, str("!r"), str("[]"), str("public"), &allowed) == MODKIT_OK);
      CHECK_FALSE(allowed);
      CHECK(c.on_new_event(ud, &h.call, &e.event, str(state_array)) == MODKIT_OK);
      CHECK(c.check_can_shutdown_room(ud, &h.call, absent(), str("!r"), &allowed) == MODKIT_OK);
      CHECK_FALSE(allowed);
      CHECK(c.check_can_shutdown_room(ud, &h.call, str("@admin:x"), str("!r"), &allowed) == MODKIT_OK);
      CHECK(allowed);
      CHECK(c.check_can_deactivate_user(ud, &h.call, str("@ann:x"), false, &allowed) == MODKIT_OK);
      CHECK_FALSE(allowed);

      modkit_user_profile profile{};
      profile.struct_size = sizeof profile;
      profile.user_id = str("@ann:x");
      profile.display_name = str("Ann");
      CHECK(c.on_profile_update(ud, &h.call, str("@ann:x"), &profile, true, false) == MODKIT_OK);
      CHECK(c.on_user_deactivation_status_changed(ud, &h.call, str("@ann:x"), true, false) == MODKIT_OK);
      CHECK(c.on_threepid_bind(ud, &h.call, str("@ann:x"), str("email"), str("a@x")) == MODKIT_OK);
      CHECK(c.on_add_user_third_party_identifier(ud, &h.call, str("@ann:x"), str("msisdn"), str("123")) == MODKIT_OK);
      CHECK(c.on_remove_user_third_party_identifier(ud, &h.call, str("@ann:x"), str("email"), str("a@x")) ==
            MODKIT_OK);
      CHECK(log == "email:eve@evil.org,2;email:bo@example.org,0;!r->public;new $ev,2;shutdown server,!r;"
                   "shutdown @admin:x,!r;deactivate @ann:x,self;profile @ann:x,Ann,admin,edit;"
                   "status @ann:x,off,self;bind @ann:x,email,a@x;add @ann:x,msisdn,123;remove @ann:x,email,a@x;");
   }
}

TEST_CASE("third-party rules callbacks left unset stay null") {
   Harness h;
   modkit::ThirdPartyRulesCallbacks cb;
   cb.on_new_event = [](const modkit::Event &, const modkit::StateMap &) {};
   h.api->register_third_party_rules_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_third_party_rules_callbacks>(MODKIT_THIRD_PARTY_RULES_ID);
   CHECK(is_set(c.on_new_event));
   CHECK_FALSE(is_set(c.check_event_allowed));
   CHECK_FALSE(is_set(c.on_create_room));
   CHECK_FALSE(is_set(c.check_threepid_can_be_invited));
   CHECK_FALSE(is_set(c.check_visibility_can_be_modified));
   CHECK_FALSE(is_set(c.check_can_shutdown_room));
   CHECK_FALSE(is_set(c.check_can_deactivate_user));
   CHECK_FALSE(is_set(c.on_profile_update));
   CHECK_FALSE(is_set(c.on_user_deactivation_status_changed));
   CHECK_FALSE(is_set(c.on_threepid_bind));
   CHECK_FALSE(is_set(c.on_add_user_third_party_identifier));
   CHECK_FALSE(is_set(c.on_remove_user_third_party_identifier));
}

TEST_CASE("a failing third-party rules callback is an error status and writes nothing") {
   Harness h;
   modkit::ThirdPartyRulesCallbacks cb;
   cb.check_event_allowed = [](const modkit::Event &event, const modkit::StateMap &) {
      if (event.type() == "m.room.topic") return modkit::ThirdPartyVerdict::replace(json::array());
      throw std::runtime_error("rules database unreachable");
   };
   cb.on_create_room = [](const modkit::Requester &, json &content, bool) {
      content = "not an object";
      return modkit::CreateRoomResult::allow;
   };
   cb.check_can_deactivate_user = [](std::string_view, bool) -> bool { throw modkit::Error(MODKIT_E_DENIED, "no"); };
   h.api->register_third_party_rules_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_third_party_rules_callbacks>(MODKIT_THIRD_PARTY_RULES_ID);
   void *ud = h.user_data(MODKIT_THIRD_PARTY_RULES_ID);
   TestEvent e;
   modkit_event_verdict verdict = -1;
   modkit_buffer replacement;

   CHECK(c.check_event_allowed(ud, &h.call, &e.event, str("[]"), &verdict, &replacement) == MODKIT_E_INTERNAL);
   CHECK(verdict == -1);
   CHECK(h.logged_error("check_event_allowed failed (internal): rules database unreachable"));

   e.event.type = str("m.room.topic");
   CHECK(c.check_event_allowed(ud, &h.call, &e.event, str("[]"), &verdict, &replacement) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(h.logged_error("a replacement event must be a JSON object"));
   CHECK(c.check_event_allowed(ud, &h.call, &e.event, str("[{\"type\": 1}]"), &verdict, &replacement) ==
         MODKIT_E_INVALID_ARGUMENT);
   CHECK(c.check_event_allowed(ud, &h.call, &e.event, str("[]"), &verdict, nullptr) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(verdict == -1);
   CHECK(replacement.data.empty());

   modkit_requester who{};
   who.struct_size = sizeof who;
   modkit_create_room_result result = -1;
   modkit_buffer edited;
   CHECK(c.on_create_room(ud, &h.call, &who, str("{}"), false, &result, &edited) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(result == -1);
   CHECK(h.logged_error("on_create_room failed (invalid_argument): an edited /createRoom body must stay a JSON object"));
   CHECK(c.on_create_room(ud, &h.call, nullptr, str("{}"), false, &result, &edited) == MODKIT_E_INVALID_ARGUMENT);

   bool allowed = true;
   CHECK(c.check_can_deactivate_user(ud, &h.call, str("@a:x"), false, &allowed) == MODKIT_E_DENIED);
   CHECK(allowed);
}
