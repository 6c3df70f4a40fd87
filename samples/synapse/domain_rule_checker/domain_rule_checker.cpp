// domain_rule_checker: matrix-org/synapse-domain-rule-checker, ported. Invites and joins are
// allowed or refused by the servers involved: which inviting server may invite which, servers
// kept out of published rooms, invites only while a room is new, joins only by invite, and
// third-party-identifier invites. The config is the original's, unchanged:
//
//   {"domain_mapping": {"inviter.org": ["invitee.org"]},
//    "can_invite_if_not_in_domain_mapping": false,          // required
//    "can_only_join_rooms_with_invite": false,
//    "can_only_invite_during_room_creation": false,
//    "domains_prevented_from_being_invited_to_published_rooms": [],
//    "can_invite_by_third_party_id": true}
//
// The checks that need the homeserver (room state, the public room directory) await it through
// chat.homeserver/1, as the original awaits Synapse's ModuleApi.
#include <chat_host/homeserver.hpp>
#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/task.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Config {
   bool can_invite_if_not_in_domain_mapping = false;
   std::map<std::string, std::vector<std::string>> domain_mapping;
   bool can_only_join_rooms_with_invite = false;
   bool can_only_invite_during_room_creation = false;
   bool can_invite_by_third_party_id = true;
   std::vector<std::string> domains_prevented_from_being_invited_to_published_rooms;
};

void to_json(nlohmann::json &j, const Config &c) {
   j = {{"can_invite_if_not_in_domain_mapping", c.can_invite_if_not_in_domain_mapping},
        {"domain_mapping", c.domain_mapping},
        {"can_only_join_rooms_with_invite", c.can_only_join_rooms_with_invite},
        {"can_only_invite_during_room_creation", c.can_only_invite_during_room_creation},
        {"can_invite_by_third_party_id", c.can_invite_by_third_party_id},
        {"domains_prevented_from_being_invited_to_published_rooms",
         c.domains_prevented_from_being_invited_to_published_rooms}};
}

// Types are checked by the schema first; null is "unset", as the original's None.
void from_json(const nlohmann::json &j, Config &c) {
   auto flag = [&](const char *key, bool &into) {
      if (j.contains(key) && !j[key].is_null()) into = j[key].get<bool>();
   };
   flag("can_invite_if_not_in_domain_mapping", c.can_invite_if_not_in_domain_mapping);
   flag("can_only_join_rooms_with_invite", c.can_only_join_rooms_with_invite);
   flag("can_only_invite_during_room_creation", c.can_only_invite_during_room_creation);
   flag("can_invite_by_third_party_id", c.can_invite_by_third_party_id);
   if (j.contains("domain_mapping") && !j["domain_mapping"].is_null()) j["domain_mapping"].get_to(c.domain_mapping);
   const char *prevented = "domains_prevented_from_being_invited_to_published_rooms";
   if (j.contains(prevented) && !j[prevented].is_null())
      j[prevented].get_to(c.domains_prevented_from_being_invited_to_published_rooms);
}

// The part after the first ':' ("@a:example.org" -> "example.org"), as the original takes it.
std::string domain_of(std::string_view id) {
   const auto colon = id.find(':');
   if (colon == std::string_view::npos) throw modkit::Error(MODKIT_E_INVALID_ARGUMENT, fmt::format("Invalid ID: '{}'", id));
   return std::string(id.substr(colon + 1));
}

bool contains(const std::vector<std::string> &list, const std::string &value) {
   return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

class DomainRuleChecker {
public:
   static nlohmann::json config_schema() {
      const nlohmann::json flag = {{"type", {"boolean", "null"}}};
      const nlohmann::json domains = {{"type", {"array", "null"}}, {"items", {{"type", "string"}}}};
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"can_invite_if_not_in_domain_mapping", {{"type", "boolean"}}},
                {"domain_mapping",
                 {{"type", {"object", "null"}}, {"additionalProperties", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
                {"can_only_join_rooms_with_invite", flag},
                {"can_only_invite_during_room_creation", flag},
                {"can_invite_by_third_party_id", flag},
                {"domains_prevented_from_being_invited_to_published_rooms", domains}}}};
   }

   static Config parse_config(const nlohmann::json &raw) {
      // The original's one check, with its message.
      if (!raw.contains("can_invite_if_not_in_domain_mapping"))
         throw modkit::ConfigError("DomainRuleChecker: can_invite_if_not_in_domain_mapping is required");
      return raw.get<Config>();
   }

   DomainRuleChecker(const Config &config, modkit::Api &api) : config_(config), hs_(api) {
      modkit::SpamCheckerCallbacks spam;
      spam.user_may_invite = [this](std::string_view inviter, std::string_view invitee,
                                    std::string_view room) -> modkit::task<modkit::SpamResult> {
         co_return verdict(co_await may_invite(std::string(room), std::string(inviter), std::string(invitee)));
      };
      spam.user_may_send_3pid_invite = [this](std::string_view inviter, std::string_view, std::string_view,
                                              std::string_view room) -> modkit::task<modkit::SpamResult> {
         co_return verdict(co_await may_invite(std::string(room), std::string(inviter), std::nullopt));
      };
      spam.user_may_join_room = [this](std::string_view, std::string_view, bool is_invited) {
         return verdict(!(config_.can_only_join_rooms_with_invite && !is_invited));
      };
      api.register_spam_checker_callbacks(std::move(spam));
   }

private:
   // The original answers booleans; False is M_FORBIDDEN.
   static modkit::SpamResult verdict(bool allowed) {
      return allowed ? modkit::SpamResult::not_spam : modkit::SpamResult::forbidden;
   }

   // Any invite, a third-party one when invitee is nullopt.
   modkit::task<bool> may_invite(std::string room, std::string inviter, std::optional<std::string> invitee) {
      const std::string inviter_domain = domain_of(inviter);
      // Only for rooms created here: whether a remote room is new cannot be told reliably.
      if (config_.can_only_invite_during_room_creation && inviter_domain == hs_.server_name()) {
         if (!co_await is_new_room(room)) co_return false;
      }
      if (!invitee) co_return config_.can_invite_by_third_party_id;
      const std::string invitee_domain = domain_of(*invitee);
      const nlohmann::json listed = co_await hs_.room_is_in_public_room_list(room);
      if (listed.value("public", false) &&
          contains(config_.domains_prevented_from_being_invited_to_published_rooms, invitee_domain))
         co_return false;
      const auto mapping = config_.domain_mapping.find(inviter_domain);
      if (mapping == config_.domain_mapping.end()) co_return config_.can_invite_if_not_in_domain_mapping;
      co_return contains(mapping->second, invitee_domain);
   }

   // New: its only members are the creator and users the creator invited. A room this server
   // has no state for (an invite received over federation) is not new.
   modkit::task<bool> is_new_room(std::string room) {
      const nlohmann::json filter = nlohmann::json::array({nlohmann::json::array({"m.room.create", nullptr}),
                                                          nlohmann::json::array({"m.room.member", nullptr})});
      nlohmann::json state;
      try {
         state = co_await hs_.get_room_state(room, filter);
      } catch (const modkit::Error &e) {
         if (e.code() != MODKIT_E_NOT_FOUND) throw;
         co_return false;
      }
      const nlohmann::json &events = state["events"];
      const auto create = std::find_if(events.begin(), events.end(), [](const nlohmann::json &e) {
         return e.value("type", "") == "m.room.create" && e.value("state_key", "") == "";
      });
      if (create == events.end()) co_return false;
      const std::string creator = create->value("sender", "");
      for (const nlohmann::json &e : events) {
         if (e.value("type", "") == "m.room.create") continue;
         if (e.value("state_key", "") != creator && e.value("sender", "") != creator &&
             e["content"].value("membership", "") != "invite")
            co_return false;
      }
      co_return true;
   }

   Config config_;
   chat_host::Homeserver hs_;
};

MODKIT_MODULE(DomainRuleChecker, "domain_rule_checker", "1.0.0",
              "Allows or refuses invites and joins by the servers involved (synapse-domain-rule-checker)",
              "modkit.spam_checker")
