// presence_buddies: a presence router. Users in one buddy group see each other's presence even
// without a shared room; users listed in see_everyone receive everybody's presence.
#include <modkit/sdk/categories/presence_router.hpp>
#include <modkit/sdk/module.hpp>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Config {
   std::vector<std::vector<std::string>> buddies; // groups of user IDs
   std::vector<std::string> see_everyone;         // user IDs
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Config, buddies, see_everyone)

void check_user_id(const std::string &id, const std::string &pointer) {
   if (id.size() < 2 || id[0] != '@' || id.find(':') == std::string::npos)
      throw modkit::ConfigError("expected a Matrix user ID such as \"@alice:example.org\"", pointer);
}

} // namespace

class PresenceBuddies {
public:
   static nlohmann::json config_schema() {
      const nlohmann::json ids = {{"type", "array"}, {"items", {{"type", "string"}}}};
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties", {{"buddies", {{"type", "array"}, {"items", ids}}}, {"see_everyone", ids}}}};
   }

   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      config.buddies = raw.value("buddies", config.buddies);
      config.see_everyone = raw.value("see_everyone", config.see_everyone);
      for (std::size_t g = 0; g < config.buddies.size(); ++g) {
         const std::string group = "/buddies/" + std::to_string(g);
         if (config.buddies[g].size() < 2) throw modkit::ConfigError("a buddy group needs two users or more", group);
         for (std::size_t i = 0; i < config.buddies[g].size(); ++i)
            check_user_id(config.buddies[g][i], group + "/" + std::to_string(i));
      }
      for (std::size_t i = 0; i < config.see_everyone.size(); ++i)
         check_user_id(config.see_everyone[i], "/see_everyone/" + std::to_string(i));
      return config;
   }

   PresenceBuddies(Config config, modkit::Api &api)
      : see_everyone_(config.see_everyone.begin(), config.see_everyone.end()), log_(api.log()) {
      for (const auto &group : config.buddies)
         for (const auto &user : group)
            for (const auto &buddy : group)
               if (buddy != user) buddies_[user].insert(buddy);
      // The two directions of one routing, registered together as the category requires.
      modkit::PresenceRouterCallbacks callbacks;
      callbacks.get_users_for_states = {this, &PresenceBuddies::get_users_for_states};
      callbacks.get_interested_users = {this, &PresenceBuddies::get_interested_users};
      api.register_presence_router_callbacks(std::move(callbacks));
   }

private:
   // Read-only after the constructor, so safe from every host thread at once.
   modkit::UsersForStates get_users_for_states(const std::vector<modkit::PresenceState> &updates) const {
      modkit::UsersForStates routes;
      for (std::size_t i = 0; i < updates.size(); ++i) {
         const auto group = buddies_.find(updates[i].user_id);
         if (group != buddies_.end()) {
            for (const auto &buddy : group->second) routes[buddy].insert(i);
            log_.info("routed the presence of {} ({}) to {} buddies", updates[i].user_id, updates[i].state,
                      group->second.size());
         }
         for (const auto &watcher : see_everyone_)
            if (watcher != updates[i].user_id) routes[watcher].insert(i);
      }
      return routes;
   }

   modkit::InterestedUsers get_interested_users(std::string_view user_id) const {
      if (see_everyone_.count(std::string(user_id))) {
         log_.info("{} receives everyone's presence", user_id);
         return modkit::InterestedUsers::all();
      }
      const auto group = buddies_.find(std::string(user_id));
      if (group == buddies_.end()) return {};
      log_.info("{} receives the presence of {} buddies", user_id, group->second.size());
      return group->second;
   }

   std::map<std::string, std::set<std::string>> buddies_; // user -> the other members of their groups
   std::set<std::string> see_everyone_;
   modkit::Logger log_;
};

MODKIT_MODULE(PresenceBuddies, "presence_buddies", "1.0.0",
              "Shares presence between configured buddies, and everyone's with presence admins",
              "modkit.presence_router")
