// auto_accept_invite_tests.cpp - matrix-org/synapse-auto-accept-invite's test suite
// (tests/test_accept_invite.py), case by case with the same names, inputs and expected outputs,
// against the port (samples/synapse/auto_accept_invite). The original's mocked ModuleApi is a
// chat.homeserver/1 table (is_mine: the server part is "test"; a worker name; a scripted
// update_room_membership; account data), and its mocked sleep, which returns at once, is a
// timers table that runs every timer when the test says, recording the pause each asked for.
#include "mock_homeserver.hpp"
#include "port.hpp"

#include <modkit/categories/third_party_rules.h>
#include <modkit/services/timers.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// Each file in a namespace of its own: the suite is built as a unity build.
namespace auto_accept_invite_port {

using nlohmann::json;

namespace {

// The original's MockEvent: room_id defaults to "!someroom", state_key to None.
struct MockEvent {
   std::string sender;
   std::string type;
   json content;
   std::string room_id = "!someroom";
   std::optional<std::string> state_key;
};

struct MembershipCall {
   std::string sender, target, room_id, new_membership;
};

// The ModuleApi of the original's create_module.
class MockModuleApi : public port::MockHomeserver {
public:
   explicit MockModuleApi(std::optional<std::string> worker_name) : worker_name_(std::move(worker_name)) {
      api().is_mine = [](const chat_homeserver_api *, modkit_host *, modkit_str id) {
         // a.split(":")[1] == "test"
         const std::string s = str(id);
         const auto colon = s.find(':');
         return colon != std::string::npos && s.substr(colon + 1, s.find(':', colon + 1) - colon - 1) == "test";
      };
      api().worker_name = [](const chat_homeserver_api *self, modkit_host *) {
         const MockModuleApi &mock = of<MockModuleApi>(self);
         return mock.worker_name_ ? mock.worker_name_->c_str() : nullptr;
      };
      api().update_room_membership = [](const chat_homeserver_api *self, modkit_host *, modkit_str sender,
                                        modkit_str target, modkit_str room_id, modkit_str membership, modkit_str,
                                        chat_homeserver_done_fn done, void *user_data) {
         MockModuleApi &mock = of<MockModuleApi>(self);
         mock.update_membership_calls.push_back({str(sender), str(target), str(room_id), str(membership)});
         bool joins = mock.update_membership_joins;
         if (!mock.update_membership_side_effect.empty()) {
            joins = mock.update_membership_side_effect.front();
            mock.update_membership_side_effect.pop_front();
         }
         if (!joins) return mock.fail(done, user_data, MODKIT_E_INTERNAL, "Exception()");
         return mock.answer(done, user_data, {{"event_id", "$join"}});
      };
      api().get_account_data = [](const chat_homeserver_api *self, modkit_host *, modkit_str user_id, modkit_str room_id,
                                  modkit_str type, chat_homeserver_done_fn done, void *user_data) {
         MockModuleApi &mock = of<MockModuleApi>(self);
         REQUIRE(room_id.data == nullptr); // get_global
         mock.get_global_calls.push_back({str(user_id), str(type)});
         return mock.answer(done, user_data, {{"content", mock.global_account_data}});
      };
      api().put_account_data = [](const chat_homeserver_api *self, modkit_host *, modkit_str user_id, modkit_str room_id,
                                  modkit_str type, modkit_str content, chat_homeserver_done_fn done, void *user_data) {
         MockModuleApi &mock = of<MockModuleApi>(self);
         REQUIRE(room_id.data == nullptr); // put_global
         mock.put_global_calls.push_back({str(user_id), str(type), json::parse(str(content))});
         return mock.answer(done, user_data, json::object());
      };
   }

   // update_room_membership: return_value (true: a join event) or, while it lasts,
   // side_effect (false: raises).
   bool update_membership_joins = true;
   std::deque<bool> update_membership_side_effect;
   std::vector<MembershipCall> update_membership_calls;

   json global_account_data; // get_global's answer; null is None
   std::vector<std::pair<std::string, std::string>> get_global_calls;
   struct Put {
      std::string user_id, type;
      json content;
   };
   std::vector<Put> put_global_calls;

private:
   std::optional<std::string> worker_name_;
};

// modkit.timers/1, for the module's pauses between attempts: a timer runs when the test calls
// run_started(), whatever its delay, as the original's mocked sleep returns at once.
class FakeTimers {
public:
   FakeTimers() {
      table_.struct_size = sizeof table_;
      table_.start = &start;
      table_.cancel = &cancel;
      table_.is_background_instance = [](modkit_host *) { return true; };
   }
   ~FakeTimers() {
      if (host_) owners().erase(host_);
   }
   FakeTimers(const FakeTimers &) = delete;
   FakeTimers &operator=(const FakeTimers &) = delete;

   void attach(FakeHost &host) {
      host_ = host.host();
      owners()[host_] = this;
      host.extensions[MODKIT_TIMERS_ID] = &table_;
   }

   // Runs the timers started so far; false when none was waiting.
   bool run_started() {
      std::vector<Timer> due;
      due.swap(waiting_);
      for (const Timer &t : due) {
         runs_.push_back(std::make_unique<modkit_call>());
         modkit_call &call = *runs_.back();
         call.arm();
         call.returned(t.fn(t.user_data, &call));
      }
      return !due.empty();
   }
   bool pending() const { return !waiting_.empty(); }

   std::vector<uint32_t> delays_ms; // of every timer started, in order

private:
   struct Timer {
      uint64_t id;
      modkit_timer_fn fn;
      void *user_data;
   };
   static std::map<modkit_host *, FakeTimers *> &owners() {
      static std::map<modkit_host *, FakeTimers *> map;
      return map;
   }
   static modkit_status MODKIT_ABI start(modkit_host *host, uint32_t delay_ms, uint32_t period_ms, modkit_timer_fn fn,
                                         void *user_data, uint64_t *out_id) {
      FakeTimers &self = *owners().at(host);
      REQUIRE(period_ms == 0); // the module's timers are one-shots
      self.delays_ms.push_back(delay_ms);
      self.waiting_.push_back({++self.next_id_, fn, user_data});
      if (out_id) *out_id = self.next_id_;
      return MODKIT_OK;
   }
   static modkit_status MODKIT_ABI cancel(modkit_host *host, uint64_t id) {
      FakeTimers &self = *owners().at(host);
      for (auto it = self.waiting_.begin(); it != self.waiting_.end(); ++it)
         if (it->id == id) {
            self.waiting_.erase(it);
            return MODKIT_OK;
         }
      return MODKIT_E_NOT_FOUND;
   }

   modkit_timers_api table_{};
   modkit_host *host_ = nullptr;
   std::vector<Timer> waiting_;
   std::vector<std::unique_ptr<modkit_call>> runs_; // a suspended run's call lives on
   uint64_t next_id_ = 0;
};

// create_module(config_override, worker_name): the module, its ModuleApi and its clock.
class Module {
public:
   explicit Module(const json &config_override = json::object(), std::optional<std::string> worker_name = std::nullopt)
      : api(std::move(worker_name)), port_(MODKIT_PORT_AUTO_ACCEPT_INVITE, config_override, [this](FakeHost &host) {
           host.categories.insert(MODKIT_THIRD_PARTY_RULES_ID);
           host.extensions[CHAT_HOMESERVER_ID] = api.table();
           timers_.attach(host);
           host.module_name = "auto_accept_invite";
        }) {}

   // register_third_party_rules_callbacks was called.
   bool registered() const { return port_.registration(MODKIT_THIRD_PARTY_RULES_ID) != nullptr; }

   // await module.on_new_event(event=...), then what it started in the background, to its end.
   void on_new_event(const MockEvent &e) {
      const Registration *r = port_.registration(MODKIT_THIRD_PARTY_RULES_ID);
      REQUIRE(r != nullptr);
      const auto callbacks = r->as<modkit_third_party_rules_callbacks>();
      const std::string content = e.content.dump();
      modkit_event event{};
      event.struct_size = sizeof event;
      event.event_id = str("$invite");
      event.room_id = str(e.room_id);
      event.sender = str(e.sender);
      event.type = str(e.type);
      event.state_key = e.state_key ? str(*e.state_key) : modkit_str{nullptr, 0};
      event.content_json = str(content);
      modkit_call call;
      call.arm();
      const modkit_status status = call.returned(callbacks.on_new_event(r->user_data, &call, &event, str("[]")));
      settle();
      if (status == MODKIT_PENDING) {
         const auto final = call.final_status();
         REQUIRE(final.has_value());
         CHECK(*final == MODKIT_OK);
      } else {
         CHECK(status == MODKIT_OK);
      }
   }

   MockModuleApi api; // before port_: the module holds its table until deinit

private:
   // Answers and timers, until neither is left.
   void settle() {
      for (int round = 0; timers_.pending() || api.pending(); ++round) {
         REQUIRE(round < 50);
         timers_.run_started();
         api.deliver();
      }
   }

   FakeTimers timers_;
   port::Port port_;

public:
   const std::vector<uint32_t> &pauses_ms() const { return timers_.delays_ms; }
};

const std::string user_id = "@peter:test";
const std::string invitee = "@lesley:test";
const std::string remote_invitee = "@thomas:remote";

// retry_assertions(mock, call_count, sender=..., target=..., room_id=..., new_membership="join"):
// the last call's arguments and the number of calls.
void retry_assertions(const std::vector<MembershipCall> &calls, size_t call_count, const MockEvent &invite) {
   REQUIRE(!calls.empty());
   CHECK(calls.back().sender == *invite.state_key);
   CHECK(calls.back().target == *invite.state_key);
   CHECK(calls.back().room_id == invite.room_id);
   CHECK(calls.back().new_membership == "join");
   CHECK(calls.size() == call_count);
}

MockEvent invite_event(const std::string &sender, const std::optional<std::string> &state_key, json content,
                       const std::string &room_id = "!someroom") {
   return MockEvent{sender, "m.room.member", std::move(content), room_id, state_key};
}

} // namespace

TEST_SUITE("InviteAutoAccepterTestCase") {

TEST_CASE("test_simple_accept_invite") {
   Module module;
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}});
   module.api.update_membership_joins = true;
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 1, invite);
}

TEST_CASE("test_accept_invite_with_failures") {
   Module module;
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}});
   // the first two calls raise an exception while the third call is successful
   module.api.update_membership_side_effect = {false, false, true};
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 3, invite);
   CHECK(module.pauses_ms() == std::vector<uint32_t>{0, 1000, 2000}); // sleep(0), then 2**retries
}

TEST_CASE("test_accept_invite_failures") {
   Module module;
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}});
   module.api.update_membership_joins = false; // side_effect = Exception()
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 5, invite);
   CHECK(module.pauses_ms() == std::vector<uint32_t>{0, 1000, 2000, 4000, 8000});
}

TEST_CASE("test_accept_invite_direct_message") {
   Module module;
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}, {"is_direct", true}}, "!the:room");
   module.api.update_membership_joins = true;
   module.api.global_account_data = {{"@someone:random", {"!somewhere:random"}}};
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 1, invite);
   REQUIRE(module.api.get_global_calls.size() == 1);
   CHECK(module.api.get_global_calls[0] == std::pair<std::string, std::string>(invitee, "m.direct"));
   // The account data is updated without overwriting the existing associations.
   REQUIRE(module.api.put_global_calls.size() == 1);
   CHECK(module.api.put_global_calls[0].user_id == invitee);
   CHECK(module.api.put_global_calls[0].type == "m.direct");
   CHECK(module.api.put_global_calls[0].content ==
         json{{"@someone:random", {"!somewhere:random"}}, {user_id, {"!the:room"}}});
}

TEST_CASE("test_invite_remote_user") {
   Module module;
   module.on_new_event(invite_event(user_id, remote_invitee, {{"membership", "invite"}}));
   CHECK(module.api.update_membership_calls.empty());
}

TEST_CASE("test_invite_from_remote_user") {
   Module module;
   const MockEvent invite = invite_event(remote_invitee, invitee, {{"membership", "invite"}});
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 1, invite);
}

TEST_CASE("test_not_state") {
   Module module;
   module.on_new_event(invite_event(user_id, std::nullopt, {{"membership", "invite"}}));
   CHECK(module.api.update_membership_calls.empty());
}

TEST_CASE("test_not_invite") {
   Module module;
   module.on_new_event(invite_event(user_id, user_id, {{"membership", "join"}}));
   CHECK(module.api.update_membership_calls.empty());
}

TEST_CASE("test_not_membership") {
   Module module;
   module.on_new_event(MockEvent{user_id, "org.matrix.test", {{"foo", "bar"}}, "!someroom", user_id});
   CHECK(module.api.update_membership_calls.empty());
}

TEST_CASE("test_accept_invite_direct_message_if_only_enabled_for_direct_messages") {
   Module module(json{{"accept_invites_only_for_direct_messages", true}});
   module.api.global_account_data = json::object();
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}, {"is_direct", true}});
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 1, invite);
}

TEST_CASE("test_ignore_invite_if_only_enabled_for_direct_messages") {
   Module module(json{{"accept_invites_only_for_direct_messages", true}});
   module.on_new_event(invite_event(user_id, invitee, {{"membership", "invite"}}));
   CHECK(module.api.update_membership_calls.empty());
}

TEST_CASE("test_accept_invite_local_user_if_only_enabled_from_local_users") {
   Module module(json{{"accept_invites_only_from_local_users", true}});
   module.api.global_account_data = json::object();
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}, {"is_direct", true}});
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 1, invite);
}

TEST_CASE("test_ignore_invite_if_only_enabled_from_local_users") {
   Module module(json{{"accept_invites_only_from_local_users", true}});
   module.on_new_event(invite_event(remote_invitee, invitee, {{"membership", "invite"}}));
   CHECK(module.api.update_membership_calls.empty());
}

TEST_CASE("test_config_parse") {
   const json parsed = port::parse(MODKIT_PORT_AUTO_ACCEPT_INVITE, {{"accept_invites_only_for_direct_messages", true},
                                                                    {"accept_invites_only_from_local_users", true}});
   CHECK(parsed["accept_invites_only_for_direct_messages"] == true);
   CHECK(parsed["accept_invites_only_from_local_users"] == true);
}

TEST_CASE("test_runs_on_only_one_worker") {
   // By default, we run on the main process...
   CHECK(Module(json::object(), std::nullopt).registered());
   // ...and not on other workers (like synchrotrons)...
   CHECK_FALSE(Module(json::object(), "synchrotron42").registered());
   // ...unless we configured them to be the designated worker.
   CHECK(Module({{"worker_to_run_on", "account_data1"}}, "account_data1").registered());
}

} // TEST_SUITE

// Beyond the original's cases: what the port adds or answers differently.
TEST_SUITE("auto_accept_invite port") {

TEST_CASE("m.direct data the module does not understand is left as it is, and the invite is still accepted") {
   Module module;
   module.api.global_account_data = {{user_id, "!not-a-list"}};
   const MockEvent invite = invite_event(user_id, invitee, {{"membership", "invite"}, {"is_direct", true}});
   module.on_new_event(invite);
   retry_assertions(module.api.update_membership_calls, 1, invite);
   CHECK(module.api.put_global_calls.empty());
}

TEST_CASE("a host whose homeserver table predates worker_name is the main process") {
   MockModuleApi api("account_data1");
   api.api().struct_size = offsetof(chat_homeserver_api, worker_name);
   auto registered = [&](const json &config) {
      port::Port port(MODKIT_PORT_AUTO_ACCEPT_INVITE, config, [&](FakeHost &host) {
         host.categories.insert(MODKIT_THIRD_PARTY_RULES_ID);
         host.extensions[CHAT_HOMESERVER_ID] = api.table();
      });
      return port.registration(MODKIT_THIRD_PARTY_RULES_ID) != nullptr;
   };
   CHECK(registered(json::object()));
   CHECK_FALSE(registered({{"worker_to_run_on", "account_data1"}}));
}

} // TEST_SUITE

} // namespace auto_accept_invite_port
