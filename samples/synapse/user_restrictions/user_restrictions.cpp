// user_restrictions: matrix-org/synapse-user-restrictions, ported. Users whose Matrix ID matches
// a rule's regular expression are allowed or denied room creation and invites; the first rule
// that decides wins, then default_deny. The config is the original's, unchanged:
//
//   {"rules": [{"match": "@admin.*:example.org", "allow": ["invite", "create_room"]},
//              {"match": "@assistant.*:example.org", "allow": ["invite"]}],
//    "default_deny": ["invite", "create_room"]}
#include "rules.hpp"

#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/module.hpp>

namespace user_restrictions {

// The SDK hands the parsed config to init as JSON: these carry it there and back.
inline void to_json(nlohmann::json &j, const Config &c) { j = user_restrictions::to_json(c); }
inline void from_json(const nlohmann::json &j, Config &c) { c = parse(j); }

} // namespace user_restrictions

class UserRestrictionsModule {
public:
   // No schema: the original's own checks and messages decide (rules.cpp).
   static nlohmann::json config_schema() { return {{"type", "object"}}; }

   static user_restrictions::Config parse_config(const nlohmann::json &raw) {
      try {
         return user_restrictions::parse(raw);
      } catch (const user_restrictions::ConfigProblem &e) {
         throw modkit::ConfigError(e.what(), e.pointer());
      }
   }

   UserRestrictionsModule(const user_restrictions::Config &config, modkit::Api &api) : config_(config) {
      modkit::SpamCheckerCallbacks spam;
      spam.user_may_create_room = [this](std::string_view user, const nlohmann::json &) {
         return verdict(user, user_restrictions::create_room);
      };
      spam.user_may_invite = [this](std::string_view inviter, std::string_view, std::string_view) {
         return verdict(inviter, user_restrictions::invite);
      };
      api.register_spam_checker_callbacks(std::move(spam));
   }

private:
   // The original answers a boolean (False: M_FORBIDDEN); the ABI has no boolean answers.
   modkit::SpamResult verdict(std::string_view user, const char *permission) const {
      return user_restrictions::allowed(config_, std::string(user), permission) ? modkit::SpamResult::not_spam
                                                                                  : modkit::SpamResult::forbidden;
   }

   user_restrictions::Config config_;
};

MODKIT_MODULE(UserRestrictionsModule, "user_restrictions", "1.0.0",
              "Allows or denies room creation and invites by rules on user IDs (synapse-user-restrictions)",
              "modkit.spam_checker")
