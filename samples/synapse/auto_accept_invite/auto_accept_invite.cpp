// auto_accept_invite: matrix-org/synapse-auto-accept-invite, ported. When a local user is
// invited to a room, the module joins them to it, retrying with a growing pause when the join
// fails, and marks the room as a direct chat in their m.direct account data when the invite
// says is_direct. The config is the original's, unchanged:
//
//   {"accept_invites_only_for_direct_messages": false,
//    "accept_invites_only_from_local_users": false,
//    "worker_to_run_on": null}        // the worker that accepts; null is the main process
//
// Includes only the SDK headers it uses: a module that includes <modkit/sdk.hpp> builds a
// quarter slower.
#include <chat_host/homeserver.hpp>
#include <modkit/sdk/categories/third_party_rules.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/services/timers.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace {

struct Config {
   bool accept_invites_only_for_direct_messages = false;
   bool accept_invites_only_from_local_users = false;
   std::optional<std::string> worker_to_run_on;
};

void to_json(nlohmann::json &j, const Config &c) {
   j = {{"accept_invites_only_for_direct_messages", c.accept_invites_only_for_direct_messages},
        {"accept_invites_only_from_local_users", c.accept_invites_only_from_local_users},
        {"worker_to_run_on", c.worker_to_run_on ? nlohmann::json(*c.worker_to_run_on) : nlohmann::json()}};
}

// Types are checked by the schema first; absent and null are the original's defaults.
void from_json(const nlohmann::json &j, Config &c) {
   auto flag = [&](const char *key, bool &into) {
      if (j.contains(key) && !j[key].is_null()) into = j[key].get<bool>();
   };
   flag("accept_invites_only_for_direct_messages", c.accept_invites_only_for_direct_messages);
   flag("accept_invites_only_from_local_users", c.accept_invites_only_from_local_users);
   if (j.contains("worker_to_run_on") && j["worker_to_run_on"].is_string())
      c.worker_to_run_on = j["worker_to_run_on"].get<std::string>();
}

constexpr const char *direct_messages_type = "m.direct"; // the account data of direct chats
constexpr int max_join_attempts = 5;

// One invite's join: who joins where, and how many attempts have failed.
struct Join {
   std::string user_id;
   std::string room_id;
   int failures = 0;
};

} // namespace

class InviteAutoAccepter {
public:
   static nlohmann::json config_schema() {
      const nlohmann::json flag = {{"type", {"boolean", "null"}}};
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"accept_invites_only_for_direct_messages", flag},
                {"accept_invites_only_from_local_users", flag},
                {"worker_to_run_on", {{"type", {"string", "null"}}}}}}};
   }

   static Config parse_config(const nlohmann::json &raw) { return raw.get<Config>(); }

   InviteAutoAccepter(const Config &config, modkit::Api &api) : config_(config), api_(api), hs_(api) {
      const std::optional<std::string_view> here = hs_.worker_name();
      const auto name = [](auto &&worker) { return worker ? std::string(*worker) : std::string("the main process"); };
      if (config_.worker_to_run_on != here) {
         api.log().info("Not accepting invites on this worker (configured: {}, here: {})", name(config_.worker_to_run_on),
                        name(here));
         return;
      }
      api.log().info("Accepting invites on this worker (here: {})", name(here));
      modkit::ThirdPartyRulesCallbacks rules;
      rules.on_new_event = [this](const modkit::Event &event, const modkit::StateMap &) -> modkit::task<void> {
         return on_new_event(event);
      };
      api.register_third_party_rules_callbacks(std::move(rules));
   }

   // The host has stopped the timers by now; the handles are dropped outside the lock, as
   // destroying one may wait for a run that needs it.
   ~InviteAutoAccepter() {
      std::map<uint64_t, modkit::Timer> joins;
      std::lock_guard<std::mutex> lock(mutex_);
      joins.swap(joins_);
   }

private:
   // Not a coroutine itself: what it needs of the event is read before the first suspension.
   modkit::task<void> on_new_event(const modkit::Event &event) {
      const nlohmann::json content = event.content();
      const bool invite_for_local_user = event.type() == "m.room.member" && event.is_state() &&
                                         content.value("membership", nlohmann::json()) == "invite" &&
                                         hs_.is_mine(*event.state_key());
      const bool is_direct = content.value("is_direct", nlohmann::json(false)) == true;
      const bool allowed_as_direct = !config_.accept_invites_only_for_direct_messages || is_direct;
      const bool allowed_as_local = !config_.accept_invites_only_from_local_users || hs_.is_mine(event.sender());
      if (!(invite_for_local_user && allowed_as_direct && allowed_as_local)) return nothing();
      const std::string invitee(*event.state_key()), room(event.room_id()), inviter(event.sender());
      // In the background, as the original does: over federation the join can race the invite.
      schedule_join(Join{invitee, room, 0}, std::chrono::milliseconds(0));
      if (!is_direct) return nothing();
      return mark_room_as_direct_message(invitee, inviter, room);
   }

   static modkit::task<void> nothing() { co_return; }

   // Adds room to user_id's direct chats with dm_user_id, keeping the chats already listed.
   modkit::task<void> mark_room_as_direct_message(std::string user_id, std::string dm_user_id, std::string room_id) {
      const nlohmann::json stored = co_await hs_.get_account_data(user_id, std::nullopt, direct_messages_type);
      nlohmann::json dm_map = stored.value("content", nlohmann::json());
      if (!dm_map.is_object()) dm_map = nlohmann::json::object();
      nlohmann::json &rooms = dm_map[dm_user_id];
      if (rooms.is_null()) {
         rooms = nlohmann::json::array({room_id});
      } else if (!rooms.is_array()) {
         // Data this module does not understand is left as it is.
         api_.log().warning("Not marking room as DM for auto-accepted invitation; dm_map[{}] is a {} not a list.",
                            dm_user_id, rooms.type_name());
         co_return;
      } else {
         rooms.push_back(room_id);
      }
      co_await hs_.put_account_data(user_id, std::nullopt, direct_messages_type, dm_map);
   }

   // The original's _retry_make_join: attempt n waits 0 s, then 1, 2, 4 and 8 s, and after the
   // fifth failure the invite is left as it is. Each attempt is a one-shot timer, so unloading
   // the module never waits out a pause.
   void schedule_join(Join join, std::chrono::milliseconds delay) {
      std::lock_guard<std::mutex> lock(mutex_);
      const uint64_t id = ++next_join_;
      try {
         joins_.emplace(id, modkit::Timer::after(api_, delay, [this, id, join]() -> modkit::task<void> {
                           return attempt_join(id, join);
                        }));
      } catch (const modkit::Error &e) { // the module is being unloaded
         api_.log().warning("Could not schedule joining {} to {}: {}", join.user_id, join.room_id, e.what());
      }
   }

   modkit::task<void> attempt_join(uint64_t id, Join join) {
      forget(id); // a one-shot that fired; a run may drop its own timer
      bool joined = false;
      try {
         co_await hs_.update_room_membership(join.user_id, join.user_id, join.room_id, "join", nlohmann::json::object());
         joined = true;
      } catch (const modkit::Error &e) {
         api_.log().info("Update_room_membership raised the following exception: {}", e.what());
      }
      if (joined) co_return;
      if (++join.failures >= max_join_attempts) {
         api_.log().warning("Gave up joining {} to {} after {} attempts", join.user_id, join.room_id, join.failures);
         co_return;
      }
      schedule_join(join, std::chrono::seconds(1 << (join.failures - 1)));
   }

   void forget(uint64_t id) {
      modkit::Timer fired;
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = joins_.find(id);
      if (it == joins_.end()) return;
      fired = std::move(it->second);
      joins_.erase(it);
   }

   Config config_;
   modkit::Api &api_;
   chat_host::Homeserver hs_;
   std::mutex mutex_;                          // guards joins_ and next_join_
   std::map<uint64_t, modkit::Timer> joins_;   // attempts waiting for their timer
   uint64_t next_join_ = 0;
};

MODKIT_MODULE(InviteAutoAccepter, "auto_accept_invite", "1.0.0",
              "Joins local users to the rooms they are invited to (synapse-auto-accept-invite)",
              "modkit.third_party_rules")
