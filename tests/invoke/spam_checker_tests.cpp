// Every spam-checker slot, prepared from the real category and called through the invoker,
// against callbacks that record what they received; then the same inputs through the typed
// function pointer must give the same record, status and outputs.
#include "invoke/invoker.hpp"
#include "recorder.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <functional>
#include <set>

namespace {

using json = nlohmann::json;
using modkit::invoke::Frame;
using modkit::invoke::Invoker;
using modkit::invoke::test::Recorder;
using modkit::invoke::test::recorder;

modkit_str s(const char *text) { return modkit_str_from_cstr(text); } // NULL: absent

// ---- the callbacks: record every argument, then answer ----

modkit_status check_event_for_spam(void *ud, modkit_call *call, const modkit_event *event,
                                   modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.event("event", event);
   return r.answer_i32("result", result);
}
modkit_status should_drop_federated_event(void *ud, modkit_call *call, const modkit_event *event,
                                          bool *drop) {
   Recorder &r = recorder(ud, call);
   r.event("event", event);
   return r.answer_bool("drop", drop);
}
modkit_status user_may_join_room(void *ud, modkit_call *call, modkit_str user_id,
                                 modkit_str room_id, bool is_invited, modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("user_id", user_id);
   r.str("room_id", room_id);
   r.value("is_invited", is_invited);
   return r.answer_i32("result", result);
}
modkit_status user_may_invite(void *ud, modkit_call *call, modkit_str inviter, modkit_str invitee,
                              modkit_str room_id, modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("inviter", inviter);
   r.str("invitee", invitee);
   r.str("room_id", room_id);
   return r.answer_i32("result", result);
}
modkit_status federated_user_may_invite(void *ud, modkit_call *call, const modkit_event *event,
                                        modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.event("event", event);
   return r.answer_i32("result", result);
}
modkit_status user_may_send_3pid_invite(void *ud, modkit_call *call, modkit_str inviter,
                                        modkit_str medium, modkit_str address, modkit_str room_id,
                                        modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("inviter", inviter);
   r.str("medium", medium);
   r.str("address", address);
   r.str("room_id", room_id);
   return r.answer_i32("result", result);
}
modkit_status user_may_create_room(void *ud, modkit_call *call, modkit_str user_id,
                                   modkit_str room_config_json, modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("user_id", user_id);
   r.str("room_config", room_config_json);
   return r.answer_i32("result", result);
}
modkit_status user_may_create_room_alias(void *ud, modkit_call *call, modkit_str user_id,
                                         modkit_str room_alias, modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("user_id", user_id);
   r.str("room_alias", room_alias);
   return r.answer_i32("result", result);
}
modkit_status user_may_publish_room(void *ud, modkit_call *call, modkit_str user_id,
                                    modkit_str room_id, modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("user_id", user_id);
   r.str("room_id", room_id);
   return r.answer_i32("result", result);
}
modkit_status user_may_send_state_event(void *ud, modkit_call *call, modkit_str user_id,
                                        modkit_str room_id, modkit_str event_type,
                                        modkit_str state_key, modkit_str content_json,
                                        modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("user_id", user_id);
   r.str("room_id", room_id);
   r.str("event_type", event_type);
   r.str("state_key", state_key);
   r.str("content", content_json);
   return r.answer_i32("result", result);
}
modkit_status check_username_for_spam(void *ud, modkit_call *call,
                                      const modkit_user_profile *user_profile,
                                      modkit_str requester_id, bool *is_spam) {
   Recorder &r = recorder(ud, call);
   r.profile("user_profile", user_profile);
   r.str("requester_id", requester_id);
   return r.answer_bool("is_spam", is_spam);
}
modkit_status check_registration_for_spam(void *ud, modkit_call *call,
                                          modkit_str email_threepid_json, modkit_str username,
                                          modkit_str request_info_json, modkit_str auth_provider_id,
                                          modkit_registration_behaviour *behaviour) {
   Recorder &r = recorder(ud, call);
   r.str("email_threepid", email_threepid_json);
   r.str("username", username);
   r.str("request_info", request_info_json);
   r.str("auth_provider_id", auth_provider_id);
   return r.answer_i32("behaviour", behaviour);
}
modkit_status check_media_file_for_spam(void *ud, modkit_call *call, modkit_str content,
                                        const modkit_media_file_info *file_info,
                                        modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("content", content);
   r.file_info("file_info", file_info);
   return r.answer_i32("result", result);
}
modkit_status check_login_for_spam(void *ud, modkit_call *call, modkit_str user_id,
                                   modkit_str device_id, modkit_str initial_display_name,
                                   modkit_str request_info_json, modkit_str auth_provider_id,
                                   modkit_spam_result *result) {
   Recorder &r = recorder(ud, call);
   r.str("user_id", user_id);
   r.str("device_id", device_id);
   r.str("initial_display_name", initial_display_name);
   r.str("request_info", request_info_json);
   r.str("auth_provider_id", auth_provider_id);
   return r.answer_i32("result", result);
}

const modkit_spam_checker_callbacks callbacks = {
   sizeof(modkit_spam_checker_callbacks),
   check_event_for_spam,
   should_drop_federated_event,
   user_may_join_room,
   user_may_invite,
   federated_user_may_invite,
   user_may_send_3pid_invite,
   user_may_create_room,
   user_may_create_room_alias,
   user_may_publish_room,
   user_may_send_state_event,
   check_username_for_spam,
   check_registration_for_spam,
   check_media_file_for_spam,
   check_login_for_spam,
};

// The slot's function as a host finds it: at the slot's offset in the callbacks struct.
void (*slot_fn(const modkit_slot_desc &slot))(void) {
   void (*fn)(void) = nullptr;
   std::memcpy(&fn, reinterpret_cast<const char *>(&callbacks) + slot.offset, sizeof fn);
   return fn;
}

// ---- one case per slot: JSON arguments, what the callback must see, the typed twin ----

struct Case {
   std::uint32_t slot;
   const char *name;
   json args;
   std::vector<std::string> seen; // with Recorder::answer = 2 and Recorder::flag = true
   json outputs;
   // The same inputs through the typed pointer; writes the output into outputs.
   std::function<modkit_status(Recorder &, modkit_call *, json &)> typed;
};

std::string size_of(const char *name, std::size_t size) {
   return fmt::format("{}.struct_size={}", name, size);
}

std::vector<Case> cases() {
   std::vector<Case> c;
   c.push_back({MODKIT_SPAM_CHECKER_CHECK_EVENT_FOR_SPAM,
                "check_event_for_spam",
                {{"event",
                  {{"event_id", "$e1"},
                   {"room_id", "!r:x"},
                   {"sender", "@s:x"},
                   {"type", "m.room.message"},
                   {"content_json", {{"msgtype", "m.text"}, {"body", "buy now"}}},
                   {"origin_server_ts", 1700000000123}}}},
                {size_of("event", sizeof(modkit_event)), R"(event_id="$e1")", R"(room_id="!r:x")",
                 R"(sender="@s:x")", R"(type="m.room.message")", "state_key=absent",
                 R"(content_json="{"body":"buy now","msgtype":"m.text"}")", "unsigned_json=absent",
                 "origin_server_ts=1700000000123", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_event e{sizeof e,
                                  s("$e1"),
                                  s("!r:x"),
                                  s("@s:x"),
                                  s("m.room.message"),
                                  s(nullptr),
                                  s(R"({"body":"buy now","msgtype":"m.text"})"),
                                  s(nullptr),
                                  1700000000123};
                   modkit_spam_result result = 0;
                   const modkit_status st = callbacks.check_event_for_spam(&r, call, &e, &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_SHOULD_DROP_FEDERATED_EVENT,
                "should_drop_federated_event",
                {{"event",
                  {{"event_id", "$e2"},
                   {"room_id", "!r:y"},
                   {"sender", "@remote:y"},
                   {"type", "m.room.topic"},
                   {"state_key", ""},
                   {"content_json", {{"topic", "caf\u00e9"}}},
                   {"unsigned_json", {{"age", 5}}},
                   {"origin_server_ts", -1}}}},
                {size_of("event", sizeof(modkit_event)), R"(event_id="$e2")", R"(room_id="!r:y")",
                 R"(sender="@remote:y")", R"(type="m.room.topic")", R"(state_key="")",
                 "content_json=\"{\"topic\":\"caf\u00e9\"}\"", R"(unsigned_json="{"age":5}")",
                 "origin_server_ts=-1", "drop@entry=false"},
                {{"drop", true}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_event e{sizeof e,
                                  s("$e2"),
                                  s("!r:y"),
                                  s("@remote:y"),
                                  s("m.room.topic"),
                                  s(""),
                                  s("{\"topic\":\"caf\u00e9\"}"),
                                  s(R"({"age":5})"),
                                  -1};
                   bool drop = false;
                   const modkit_status st =
                      callbacks.should_drop_federated_event(&r, call, &e, &drop);
                   out = {{"drop", drop}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_USER_MAY_JOIN_ROOM,
                "user_may_join_room",
                json::array({"@u:x", "!r:x", true}), // positional arguments
                {R"(user_id="@u:x")", R"(room_id="!r:x")", "is_invited=true", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_spam_result result = 0;
                   const modkit_status st =
                      callbacks.user_may_join_room(&r, call, s("@u:x"), s("!r:x"), true, &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_USER_MAY_INVITE,
                "user_may_invite",
                {{"room_id", "!r:x"}, {"invitee", "@b:x"}, {"inviter", "@a:x"}},
                {R"(inviter="@a:x")", R"(invitee="@b:x")", R"(room_id="!r:x")", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_spam_result result = 0;
                   const modkit_status st =
                      callbacks.user_may_invite(&r, call, s("@a:x"), s("@b:x"), s("!r:x"), &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_FEDERATED_USER_MAY_INVITE,
                "federated_user_may_invite",
                {{"event",
                  {{"event_id", "$inv"},
                   {"room_id", "!r:z"},
                   {"sender", "@a:z"},
                   {"type", "m.room.member"},
                   {"state_key", "@b:x"},
                   {"content_json", {{"membership", "invite"}}}}}},
                {size_of("event", sizeof(modkit_event)), R"(event_id="$inv")", R"(room_id="!r:z")",
                 R"(sender="@a:z")", R"(type="m.room.member")", R"(state_key="@b:x")",
                 R"(content_json="{"membership":"invite"}")", "unsigned_json=absent",
                 "origin_server_ts=0", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_event e{sizeof e,
                                  s("$inv"),
                                  s("!r:z"),
                                  s("@a:z"),
                                  s("m.room.member"),
                                  s("@b:x"),
                                  s(R"({"membership":"invite"})"),
                                  s(nullptr),
                                  0};
                   modkit_spam_result result = 0;
                   const modkit_status st =
                      callbacks.federated_user_may_invite(&r, call, &e, &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back(
      {MODKIT_SPAM_CHECKER_USER_MAY_SEND_3PID_INVITE,
       "user_may_send_3pid_invite",
       {{"inviter", "@a:x"}, {"medium", "email"}, {"address", "b@c.d"}, {"room_id", "!r:x"}},
       {R"(inviter="@a:x")", R"(medium="email")", R"(address="b@c.d")", R"(room_id="!r:x")",
        "result@entry=0"},
       {{"result", 2}},
       [](Recorder &r, modkit_call *call, json &out) {
          modkit_spam_result result = 0;
          const modkit_status st = callbacks.user_may_send_3pid_invite(
             &r, call, s("@a:x"), s("email"), s("b@c.d"), s("!r:x"), &result);
          out = {{"result", result}};
          return st;
       }});
   c.push_back(
      {MODKIT_SPAM_CHECKER_USER_MAY_CREATE_ROOM,
       "user_may_create_room",
       {{"user_id", "@u:x"}, {"room_config", {{"preset", "public_chat"}, {"name", "Lobby"}}}},
       {R"(user_id="@u:x")", R"(room_config="{"name":"Lobby","preset":"public_chat"}")",
        "result@entry=0"},
       {{"result", 2}},
       [](Recorder &r, modkit_call *call, json &out) {
          modkit_spam_result result = 0;
          const modkit_status st = callbacks.user_may_create_room(
             &r, call, s("@u:x"), s(R"({"name":"Lobby","preset":"public_chat"})"), &result);
          out = {{"result", result}};
          return st;
       }});
   c.push_back({MODKIT_SPAM_CHECKER_USER_MAY_CREATE_ROOM_ALIAS,
                "user_may_create_room_alias",
                {{"user_id", "@u:x"}, {"room_alias", "#lobby:x"}},
                {R"(user_id="@u:x")", R"(room_alias="#lobby:x")", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_spam_result result = 0;
                   const modkit_status st = callbacks.user_may_create_room_alias(
                      &r, call, s("@u:x"), s("#lobby:x"), &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_USER_MAY_PUBLISH_ROOM,
                "user_may_publish_room",
                {{"user_id", "@u:x"}, {"room_id", ""}},
                {R"(user_id="@u:x")", R"(room_id="")", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_spam_result result = 0;
                   const modkit_status st =
                      callbacks.user_may_publish_room(&r, call, s("@u:x"), s(""), &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_USER_MAY_SEND_STATE_EVENT,
                "user_may_send_state_event",
                {{"user_id", "@u:x"},
                 {"room_id", "!r:x"},
                 {"event_type", "m.room.name"},
                 {"state_key", ""},
                 {"content", json::object()}},
                {R"(user_id="@u:x")", R"(room_id="!r:x")", R"(event_type="m.room.name")",
                 R"(state_key="")", R"(content="{}")", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_spam_result result = 0;
                   const modkit_status st = callbacks.user_may_send_state_event(
                      &r, call, s("@u:x"), s("!r:x"), s("m.room.name"), s(""), s("{}"), &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_CHECK_USERNAME_FOR_SPAM,
                "check_username_for_spam",
                {{"user_profile",
                  {{"user_id", "@u:x"}, {"display_name", nullptr}, {"avatar_url", "mxc://x/a"}}},
                 {"requester_id", "@q:x"}},
                {size_of("user_profile", sizeof(modkit_user_profile)), R"(user_id="@u:x")",
                 "display_name=absent", R"(avatar_url="mxc://x/a")", R"(requester_id="@q:x")",
                 "is_spam@entry=false"},
                {{"is_spam", true}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_user_profile p{sizeof p, s("@u:x"), s(nullptr), s("mxc://x/a")};
                   bool is_spam = false;
                   const modkit_status st =
                      callbacks.check_username_for_spam(&r, call, &p, s("@q:x"), &is_spam);
                   out = {{"is_spam", is_spam}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_CHECK_REGISTRATION_FOR_SPAM,
                "check_registration_for_spam",
                {{"email_threepid", nullptr},
                 {"username", "newbie"},
                 {"request_info", json::array({{{"user_agent", "curl/8"}, {"ip", "10.0.0.1"}}})},
                 {"auth_provider_id", ""}},
                {"email_threepid=absent", R"(username="newbie")",
                 R"(request_info="[{"ip":"10.0.0.1","user_agent":"curl/8"}]")",
                 R"(auth_provider_id="")", "behaviour@entry=0"},
                {{"behaviour", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_registration_behaviour behaviour = 0;
                   const modkit_status st = callbacks.check_registration_for_spam(
                      &r, call, s(nullptr), s("newbie"),
                      s(R"([{"ip":"10.0.0.1","user_agent":"curl/8"}])"), s(""), &behaviour);
                   out = {{"behaviour", behaviour}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_CHECK_MEDIA_FILE_FOR_SPAM,
                "check_media_file_for_spam",
                {{"content", std::string("GIF89a\0\1", 8)},
                 {"file_info",
                  {{"server_name", nullptr},
                   {"media_id", "abc"},
                   {"media_type", "image/gif"},
                   {"media_length", 8},
                   {"is_thumbnail", true}}}},
                {std::string("content=\"GIF89a\0\1\"", 18),
                 size_of("file_info", sizeof(modkit_media_file_info)), "server_name=absent",
                 R"(media_id="abc")", "upload_name=absent", R"(media_type="image/gif")",
                 "media_length=8", "is_thumbnail=true", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_media_file_info f{sizeof f,       s(nullptr), s("abc"), s(nullptr),
                                            s("image/gif"), 8,          true};
                   modkit_spam_result result = 0;
                   const modkit_str content = {"GIF89a\0\1", 8};
                   const modkit_status st =
                      callbacks.check_media_file_for_spam(&r, call, content, &f, &result);
                   out = {{"result", result}};
                   return st;
                }});
   c.push_back({MODKIT_SPAM_CHECKER_CHECK_LOGIN_FOR_SPAM,
                "check_login_for_spam",
                {{"user_id", "@u:x"},
                 {"device_id", nullptr},
                 {"initial_display_name", "Phone"},
                 {"request_info", json::array()},
                 {"auth_provider_id", "oidc"}},
                {R"(user_id="@u:x")", "device_id=absent", R"(initial_display_name="Phone")",
                 R"(request_info="[]")", R"(auth_provider_id="oidc")", "result@entry=0"},
                {{"result", 2}},
                [](Recorder &r, modkit_call *call, json &out) {
                   modkit_spam_result result = 0;
                   const modkit_status st = callbacks.check_login_for_spam(
                      &r, call, s("@u:x"), s(nullptr), s("Phone"), s("[]"), s("oidc"), &result);
                   out = {{"result", result}};
                   return st;
                }});
   return c;
}

// A call handle: opaque to the invoker, so any address proves it is passed through.
modkit_call *handle(int &storage) { return reinterpret_cast<modkit_call *>(&storage); }

} // namespace

TEST_CASE("every spam-checker slot is called through the invoker as through its typed pointer") {
   const modkit_category &category = *modkit_spam_checker_category();
   const std::vector<Case> all = cases();
   std::set<std::uint32_t> covered;
   for (const Case &c : all)
      covered.insert(c.slot);
   REQUIRE(covered.size() == MODKIT_SPAM_CHECKER_SLOT_COUNT);
   REQUIRE(category.slot_count == MODKIT_SPAM_CHECKER_SLOT_COUNT);

   int call_storage = 0;
   modkit_call *call = handle(call_storage);
   for (const Case &c : all) {
      INFO(std::string(c.name));
      Invoker invoker;
      std::string error;
      REQUIRE_MESSAGE(Invoker::prepare(category, c.slot, invoker, error), error);
      CHECK(std::string(invoker.slot()->name) == c.name);

      Frame frame;
      REQUIRE_MESSAGE(invoker.bind(c.args, frame, error), error);
      Recorder dynamic;
      dynamic.answer = 2;
      dynamic.flag = true;
      CHECK(invoker.call(slot_fn(*invoker.slot()), &dynamic, call, frame) == MODKIT_OK);
      CHECK(dynamic.call == call);
      CHECK(dynamic.seen == c.seen);
      CHECK(invoker.outputs(frame) == c.outputs);

      Recorder typed;
      typed.answer = 2;
      typed.flag = true;
      json typed_outputs;
      CHECK(c.typed(typed, call, typed_outputs) == MODKIT_OK);
      CHECK(typed.seen == dynamic.seen);
      CHECK(typed_outputs == invoker.outputs(frame));

      // An error status comes back as the callback returned it, on both paths.
      dynamic.seen.clear();
      typed.seen.clear();
      dynamic.status = typed.status = MODKIT_E_DENIED;
      CHECK(invoker.call(slot_fn(*invoker.slot()), &dynamic, call, frame) == MODKIT_E_DENIED);
      CHECK(c.typed(typed, call, typed_outputs) == MODKIT_E_DENIED);
      CHECK(typed.seen == dynamic.seen);
   }
}

TEST_CASE("the spam checker's slot table and struct descriptors pass the invoker's checks") {
   const modkit_category &category = *modkit_spam_checker_category();
   for (std::uint32_t i = 0; i < category.slot_count; ++i) {
      Invoker invoker;
      std::string error;
      CHECK_MESSAGE(Invoker::prepare(category, i, invoker, error), error);
      // Every slot answers through exactly one output, its last parameter.
      REQUIRE_FALSE(invoker.params().empty());
      CHECK(invoker.params().back().out);
      CHECK(invoker.input_count() == invoker.params().size() - 1);
   }
}
