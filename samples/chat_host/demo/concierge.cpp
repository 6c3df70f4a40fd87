// concierge: the demo's module that acts on the homeserver (chat.homeserver/1, through
// chat_host/homeserver.hpp), written as C++20 coroutines. A bot account answers invites by
// joining and saying hello, then welcomes by display name whoever joins a room it is in, and
// keeps the list of its rooms in its account data. Every action goes through the same pipeline
// as a client's: the spam checkers and the room rules see the bot's messages too.
//
// Config: {"bot": "@concierge:example.org", "welcome": "Welcome, {}!"}
// The bot is an ordinary local account (registered beforehand).
#include <chat_host/homeserver.hpp>
#include <modkit/sdk/categories/third_party_rules.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/task.hpp>

#include <fmt/format.h>

#include <string>

namespace {

struct Config {
   std::string bot;
   std::string welcome = "Welcome, {}!";
};

void from_json(const nlohmann::json &j, Config &c) {
   j.at("bot").get_to(c.bot);
   if (j.contains("welcome")) j.at("welcome").get_to(c.welcome);
}

nlohmann::json text_message(const std::string &room, const std::string &sender, const std::string &body) {
   return {{"type", "m.room.message"},
           {"room_id", room},
           {"sender", sender},
           {"content", {{"msgtype", "m.notice"}, {"body", body}}}};
}

} // namespace

class Concierge {
public:
   static nlohmann::json config_schema() {
      return {{"type", "object"},
              {"required", {"bot"}},
              {"additionalProperties", false},
              {"properties",
               {{"bot", {{"type", "string"}, {"pattern", "^@[^:]+:.+$"}}},
                {"welcome", {{"type", "string"}, {"pattern", "\\{\\}"}}}}}};
   }
   static Config parse_config(const nlohmann::json &raw) { return raw.get<Config>(); }

   Concierge(const Config &config, modkit::Api &api) : config_(config), hs_(api), log_(api.log()) {
      if (!hs_.is_mine(config_.bot))
         throw modkit::ConfigError(fmt::format("{} is not a user of {}", config_.bot, hs_.server_name()), "/bot");
      modkit::ThirdPartyRulesCallbacks rules;
      rules.on_new_event = [this](const modkit::Event &event, const modkit::StateMap &state) -> modkit::task<void> {
         if (event.type() != "m.room.member" || !event.state_key()) co_return;
         // Copied before the first co_await: the coroutine outlives nothing it does not own.
         const std::string room(event.room_id()), target(*event.state_key());
         const std::string membership = event.content().value("membership", "");
         // The room's state after the event says whether the bot is in: no action needed to know.
         const bool bot_joined = state.content("m.room.member", config_.bot).value("membership", "") == "join";
         try {
            if (membership == "invite" && target == config_.bot) co_await accept(room);
            else if (membership == "join" && target != config_.bot && bot_joined) co_await welcome(room, target);
         } catch (const modkit::Error &e) {
            // A refused action is the bot's problem, not the event's: logged, nothing else.
            log_.warning("concierge in {}: {}", room, e.what());
         }
      };
      api.register_third_party_rules_callbacks(std::move(rules));
   }

private:
   // Joins as the bot, says hello, and records the room in the bot's account data. (No string
   // literal appears inside a co_await expression: GCC 12 cannot keep one in a coroutine frame.)
   modkit::task<void> accept(std::string room) {
      const std::string join = "join", type = "org.example.concierge";
      const nlohmann::json hello = text_message(room, config_.bot, "Hello! I'm the concierge: I greet whoever joins.");
      co_await hs_.update_room_membership(config_.bot, config_.bot, room, join, nlohmann::json::object());
      co_await hs_.create_and_send_event_into_room(hello);
      const nlohmann::json held = co_await hs_.get_account_data(config_.bot, std::nullopt, type);
      nlohmann::json rooms = nlohmann::json::array();
      if (held["content"].is_object() && held["content"].contains("rooms")) rooms = held["content"]["rooms"];
      rooms.push_back(room);
      nlohmann::json content = nlohmann::json::object();
      content["rooms"] = rooms;
      co_await hs_.put_account_data(config_.bot, std::nullopt, type, content);
      log_.info("concierge joined {}", room);
   }

   // Greets user_id by display name.
   modkit::task<void> welcome(std::string room, std::string user_id) {
      const nlohmann::json profile = co_await hs_.get_profile_for_user(user_id);
      const std::string name = profile["displayname"].is_string() ? profile["displayname"].get<std::string>() : user_id;
      const nlohmann::json message = text_message(room, config_.bot, fmt::format(fmt::runtime(config_.welcome), name));
      co_await hs_.create_and_send_event_into_room(message);
   }

   Config config_;
   chat_host::Homeserver hs_;
   modkit::Logger log_;
};

MODKIT_MODULE(Concierge, "concierge", "1.0.0",
              "A bot that joins rooms it is invited to and welcomes whoever joins (the homeserver API)",
              "modkit.third_party_rules")
