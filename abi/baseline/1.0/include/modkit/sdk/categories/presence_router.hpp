// modkit/sdk/categories/presence_router.hpp - typed registration for "modkit.presence_router".
//
// Synapse's presence router callbacks, with the same names. They come as a pair, one for each
// direction of the same routing: set both and pass the struct to
// api.register_presence_router_callbacks(), which refuses one without the other, as Synapse
// does. MODKIT_MODULE's last argument must list "modkit.presence_router". Every module runs and
// the host unions the answers; an answer of all users ends the dispatch.
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/callback.hpp>
#include <modkit/sdk/category.hpp>

#include <modkit/categories/presence_router.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace modkit {

// One user's presence (Synapse's UserPresenceState). Thread rule: a plain value.
struct PresenceState {
   std::string user_id;
   std::string state; // "online", "unavailable", "offline", ...
   int64_t last_active_ts = 0; // milliseconds since the epoch, as the other timestamps
   int64_t last_federation_update_ts = 0;
   int64_t last_user_sync_ts = 0;
   std::optional<std::string> status_msg;
   bool currently_active = false;
};

// get_users_for_states' answer: user ID (local or remote) -> indices into the state updates
// the callback received, the updates that user must also be sent. Thread rule: a plain value.
using UsersForStates = std::map<std::string, std::set<std::size_t>>;

// get_interested_users' answer: a set of user IDs, or everyone (Synapse's PRESENCE_ALL_USERS).
// Thread rule: a plain value.
class InterestedUsers {
public:
   InterestedUsers() = default; // nobody beyond the usual recipients
   InterestedUsers(std::set<std::string> users) : users_(std::move(users)) {}

   static InterestedUsers all() {
      InterestedUsers everyone;
      everyone.all_ = true;
      return everyone;
   }

   bool is_all() const noexcept { return all_; }
   // Empty when is_all().
   const std::set<std::string> &users() const noexcept { return users_; }

private:
   bool all_ = false;
   std::set<std::string> users_;
};

// Thread rule: fill it in the constructor and hand it to register_presence_router_callbacks;
// the host then calls the callbacks from several threads at once.
struct PresenceRouterCallbacks {
   // Who, beyond the usual recipients, must receive these updates?
   Callback<UsersForStates(const std::vector<PresenceState> &state_updates)> get_users_for_states;
   // Whose presence should the local user user_id receive, beyond the users sharing a room?
   Callback<InterestedUsers(std::string_view user_id)> get_interested_users;
};

namespace detail {

// The presence states arrive as a JSON array of objects (presence_router.h).
template <>
struct FromC<std::vector<PresenceState>> {
   static std::vector<PresenceState> get(modkit_str s) {
      const nlohmann::json updates = FromC<nlohmann::json>::get(s);
      if (!updates.is_array())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed presence states that are not a JSON array");
      std::vector<PresenceState> states;
      states.reserve(updates.size());
      for (const auto &u : updates) {
         if (!u.is_object() || !u.contains("user_id") || !u["user_id"].is_string())
            throw Error(MODKIT_E_INVALID_ARGUMENT, "the host passed a presence state without a user_id");
         PresenceState state;
         state.user_id = u["user_id"].get<std::string>();
         state.state = u.value("state", std::string());
         state.last_active_ts = u.value("last_active_ts", int64_t{0});
         state.last_federation_update_ts = u.value("last_federation_update_ts", int64_t{0});
         state.last_user_sync_ts = u.value("last_user_sync_ts", int64_t{0});
         if (u.contains("status_msg") && u["status_msg"].is_string())
            state.status_msg = u["status_msg"].get<std::string>();
         state.currently_active = u.value("currently_active", false);
         states.push_back(std::move(state));
      }
      return states;
   }
};

// get_interested_users: everyone is a flag alone; a set is the JSON array of its user IDs.
struct InterestedUsersWriter {
   static void put(const modkit_host_api *api, InterestedUsers &&users, bool *all_users,
                   modkit_buffer *user_ids) {
      if (!users.is_all()) ToC<modkit_buffer>::put(api, user_ids, nlohmann::json(users.users()));
      *all_users = users.is_all();
   }
};

} // namespace detail

template <>
struct CategoryTraits<PresenceRouterCallbacks> {
   using callbacks = PresenceRouterCallbacks;
   using c_callbacks = modkit_presence_router_callbacks;
   static const char *id() noexcept { return MODKIT_PRESENCE_ROUTER_ID; }
   static constexpr uint16_t major = MODKIT_PRESENCE_ROUTER_MAJOR;
   static constexpr uint16_t minor = MODKIT_PRESENCE_ROUTER_MINOR;
   // In the C struct's order.
   static constexpr auto slots =
      std::make_tuple(MODKIT_SDK_SLOT(get_users_for_states),
                      MODKIT_SDK_SLOT_WRITE(get_interested_users, detail::InterestedUsersWriter));
   static_assert(std::tuple_size_v<decltype(slots)> == MODKIT_PRESENCE_ROUTER_SLOT_COUNT,
                 "every slot of the C category has a C++ callback");

   // Synapse raises on a router with one of the two; so does the SDK, at init.
   static std::string validate(const PresenceRouterCallbacks &callbacks) {
      const bool states = static_cast<bool>(callbacks.get_users_for_states);
      const bool users = static_cast<bool>(callbacks.get_interested_users);
      if (states == users) return {};
      return std::string("get_users_for_states and get_interested_users come as a pair, but only ") +
             (states ? "get_users_for_states" : "get_interested_users") + " is set; set both";
   }
};

// [init-only]
inline void Api::register_presence_router_callbacks(PresenceRouterCallbacks callbacks) {
   register_callbacks(std::move(callbacks));
}

} // namespace modkit
