// room_rules: house rules for rooms, through Synapse's third-party rules callbacks. Read-only
// rooms (by name) take messages from moderators only and no third-party invites, and never go
// public; masked words are starred out of messages; some /createRoom presets are refused and
// rooms without a topic get a default one; protected rooms cannot be shut down, protected users
// cannot be deactivated; profile and third-party identifier changes are logged.
#include <modkit/sdk/categories/third_party_rules.hpp>
#include <modkit/sdk/module.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Rules {
   std::vector<std::string> read_only_rooms;   // room names
   std::vector<std::string> moderators;        // user IDs who may still post in them
   std::vector<std::string> masked_words;      // lower case
   std::vector<std::string> forbidden_presets; // refused for users who are not admins
   std::string default_topic;                  // empty: none
   std::vector<std::string> protected_rooms;   // room names that cannot be shut down
   std::vector<std::string> protected_users;   // user IDs that cannot be deactivated
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Rules, read_only_rooms, moderators, masked_words, forbidden_presets,
                                   default_topic, protected_rooms, protected_users)

bool listed(const std::vector<std::string> &list, std::string_view value) {
   return std::find(list.begin(), list.end(), value) != list.end();
}

std::string lower(std::string_view text) {
   std::string out(text);
   for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
   return out;
}

nlohmann::json string_list() { return {{"type", "array"}, {"items", {{"type", "string"}, {"minLength", 1}}}}; }

} // namespace

class RoomRules {
public:
   static nlohmann::json config_schema() {
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"read_only_rooms", string_list()},
                {"moderators", string_list()},
                {"masked_words", string_list()},
                {"forbidden_presets", string_list()},
                {"default_topic", {{"type", "string"}}},
                {"protected_rooms", string_list()},
                {"protected_users", string_list()}}}};
   }

   static Rules parse_config(const nlohmann::json &raw) {
      Rules rules;
      rules.read_only_rooms = raw.value("read_only_rooms", rules.read_only_rooms);
      rules.moderators = user_ids(raw, "moderators");
      for (const auto &word : raw.value("masked_words", std::vector<std::string>{}))
         rules.masked_words.push_back(lower(word));
      rules.forbidden_presets = raw.value("forbidden_presets", rules.forbidden_presets);
      rules.default_topic = raw.value("default_topic", rules.default_topic);
      rules.protected_rooms = raw.value("protected_rooms", rules.protected_rooms);
      rules.protected_users = user_ids(raw, "protected_users");
      return rules;
   }

   RoomRules(Rules rules, modkit::Api &api) : rules_(std::move(rules)), log_(api.log()) {
      modkit::ThirdPartyRulesCallbacks callbacks;
      callbacks.check_event_allowed = {this, &RoomRules::check_event_allowed};
      callbacks.on_create_room = {this, &RoomRules::on_create_room};
      callbacks.check_threepid_can_be_invited = [this](std::string_view, std::string_view address,
                                                       const modkit::StateMap &state) {
         if (!read_only(state)) return true;
         log_.info("refused a third-party invite of {} into read-only room \"{}\"", address, room_name(state));
         return false;
      };
      callbacks.check_visibility_can_be_modified = [this](std::string_view room_id, const modkit::StateMap &state,
                                                          std::string_view visibility) {
         if (visibility != "public" || !read_only(state)) return true;
         log_.info("refused to publish read-only room {} in the room directory", room_id);
         return false;
      };
      callbacks.on_new_event = {this, &RoomRules::on_new_event};
      callbacks.check_can_shutdown_room = {this, &RoomRules::check_can_shutdown_room};
      callbacks.check_can_deactivate_user = [this](std::string_view user_id, bool by_admin) {
         if (!listed(rules_.protected_users, user_id)) return true;
         log_.info("refused to deactivate protected user {} (asked by {})", user_id, by_admin ? "an admin" : "the user");
         return false;
      };
      callbacks.on_profile_update = [this](std::string_view user_id, const modkit::UserProfile &profile, bool,
                                           bool deactivation) {
         if (!deactivation) log_.info("{} is now called \"{}\"", user_id, profile.display_name().value_or(""));
      };
      callbacks.on_user_deactivation_status_changed = [this](std::string_view user_id, bool deactivated, bool) {
         log_.info("{} was {}", user_id, deactivated ? "deactivated" : "reactivated");
      };
      callbacks.on_threepid_bind = [this](std::string_view user_id, std::string_view medium, std::string_view address) {
         log_.info("{} bound {} {} on an identity server", user_id, medium, address);
      };
      callbacks.on_add_user_third_party_identifier = [this](std::string_view user_id, std::string_view medium,
                                                            std::string_view address) {
         log_.info("{} added {} {}", user_id, medium, address);
      };
      callbacks.on_remove_user_third_party_identifier = [this](std::string_view user_id, std::string_view medium,
                                                               std::string_view address) {
         log_.info("{} removed {} {}", user_id, medium, address);
      };
      api.register_third_party_rules_callbacks(std::move(callbacks));
   }

private:
   static std::vector<std::string> user_ids(const nlohmann::json &raw, const char *key) {
      const std::vector<std::string> ids = raw.value(key, std::vector<std::string>{});
      for (std::size_t i = 0; i < ids.size(); ++i)
         if (ids[i].size() < 2 || ids[i][0] != '@' || ids[i].find(':') == std::string::npos)
            throw modkit::ConfigError("expected a Matrix user ID such as \"@alice:example.org\"",
                                      "/" + std::string(key) + "/" + std::to_string(i));
      return ids;
   }

   static std::string room_name(const modkit::StateMap &state) {
      return state.content("m.room.name").value("name", std::string());
   }
   bool read_only(const modkit::StateMap &state) const { return listed(rules_.read_only_rooms, room_name(state)); }

   modkit::ThirdPartyVerdict check_event_allowed(const modkit::Event &event, const modkit::StateMap &state) {
      if (event.type() != "m.room.message") return modkit::ThirdPartyVerdict::allow();
      if (read_only(state) && !listed(rules_.moderators, event.sender())) {
         log_.info("denied a message from {} in read-only room \"{}\"", event.sender(), room_name(state));
         return modkit::ThirdPartyVerdict::deny();
      }
      nlohmann::json content = event.content();
      if (!content.contains("body") || !content["body"].is_string()) return modkit::ThirdPartyVerdict::allow();
      std::string body = content["body"].get<std::string>();
      const std::size_t masked = mask(body);
      if (masked == 0) return modkit::ThirdPartyVerdict::allow();
      log_.info("masked {} word(s) in a message from {}", masked, event.sender());
      nlohmann::json replacement = event; // the whole event, as the replacement must be
      replacement["content"]["body"] = body;
      replacement["content"]["org.example.room_rules.masked"] = masked;
      return modkit::ThirdPartyVerdict::replace(std::move(replacement));
   }

   // Stars out every masked word in text; returns how many were found.
   std::size_t mask(std::string &text) const {
      const std::string haystack = lower(text);
      std::size_t count = 0;
      for (const auto &word : rules_.masked_words)
         for (std::size_t at = haystack.find(word); at != std::string::npos; at = haystack.find(word, at + 1)) {
            std::fill(text.begin() + static_cast<std::ptrdiff_t>(at),
                      text.begin() + static_cast<std::ptrdiff_t>(at + word.size()), '*');
            ++count;
         }
      return count;
   }

   modkit::CreateRoomResult on_create_room(const modkit::Requester &requester, nlohmann::json &request,
                                           bool is_admin) {
      const std::string preset = request.value("preset", std::string());
      if (!is_admin && listed(rules_.forbidden_presets, preset)) {
         log_.info("refused a room with preset \"{}\" for {}", preset, requester.user_id());
         return modkit::CreateRoomResult::deny;
      }
      if (!rules_.default_topic.empty() && !request.contains("topic")) {
         request["topic"] = rules_.default_topic; // later modules and the host see the edit
         log_.info("gave the new room of {} the default topic", requester.user_id());
      }
      return modkit::CreateRoomResult::allow;
   }

   // Remembers room names, so that a shutdown (which comes with a room ID only) can be judged.
   void on_new_event(const modkit::Event &event, const modkit::StateMap &state) {
      log_.debug("{} accepted in {}", event.type(), event.room_id());
      const std::string name = room_name(state);
      if (name.empty()) return;
      const std::lock_guard<std::mutex> lock(mutex_);
      names_[std::string(event.room_id())] = name;
   }

   bool check_can_shutdown_room(std::optional<std::string_view> user_id, std::string_view room_id) {
      std::string name;
      {
         const std::lock_guard<std::mutex> lock(mutex_);
         const auto it = names_.find(std::string(room_id));
         if (it != names_.end()) name = it->second;
      }
      if (!listed(rules_.protected_rooms, name)) return true;
      log_.info("refused to shut down protected room \"{}\" ({}), asked by {}", name, room_id,
                user_id.value_or("the server"));
      return false;
   }

   Rules rules_;
   modkit::Logger log_;
   std::mutex mutex_;
   std::map<std::string, std::string> names_; // room ID -> name, from accepted events
};

MODKIT_MODULE(RoomRules, "room_rules", "1.0.0",
              "House rules for rooms: read-only rooms, masked words, room creation and shutdown policy",
              "modkit.third_party_rules")
