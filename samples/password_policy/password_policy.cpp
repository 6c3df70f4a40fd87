// password_policy: an account policy enforced through spam-checker callbacks. Registration is
// refused (or shadow-banned) for user names that break the policy; logins are refused through
// auth providers the policy does not allow.
#include <modkit/sdk.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Policy {
   std::size_t min_length = 3;
   std::size_t max_length = 32;
   std::vector<std::string> reserved;        // names nobody may register
   std::string on_violation = "deny";        // or "shadow_ban"
   std::vector<std::string> login_providers; // empty: any; "password" is the password login
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Policy, min_length, max_length, reserved, on_violation, login_providers)

// Matrix user ID localparts: lower-case letters, digits and ._=-/
bool valid_localpart_char(char c) {
   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || std::string_view("._=-/").find(c) != std::string_view::npos;
}

} // namespace

class PasswordPolicy {
public:
   static nlohmann::json config_schema() {
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"min_length", {{"type", "integer"}, {"minimum", 1}}},
                {"max_length", {{"type", "integer"}, {"minimum", 1}}},
                {"reserved", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                {"on_violation", {{"enum", {"deny", "shadow_ban"}}}},
                {"login_providers", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
   }

   static Policy parse_config(const nlohmann::json &raw) {
      Policy policy;
      policy.min_length = raw.value("min_length", policy.min_length);
      policy.max_length = raw.value("max_length", policy.max_length);
      if (policy.max_length < policy.min_length)
         throw modkit::ConfigError("max_length is smaller than min_length", "/max_length");
      policy.reserved = raw.value("reserved", policy.reserved);
      policy.on_violation = raw.value("on_violation", policy.on_violation);
      if (policy.on_violation != "deny" && policy.on_violation != "shadow_ban")
         throw modkit::ConfigError("expected \"deny\" or \"shadow_ban\"", "/on_violation");
      policy.login_providers = raw.value("login_providers", policy.login_providers);
      return policy;
   }

   PasswordPolicy(Policy policy, modkit::Api &api) : policy_(std::move(policy)), log_(api.log()) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_registration_for_spam = {this, &PasswordPolicy::check_registration};
      callbacks.check_login_for_spam = {this, &PasswordPolicy::check_login};
      api.register_spam_checker_callbacks(std::move(callbacks));
   }

private:
   modkit::RegistrationBehaviour check_registration(const nlohmann::json &, std::optional<std::string_view> username,
                                                    const nlohmann::json &, std::optional<std::string_view>) const {
      if (!username) return modkit::RegistrationBehaviour::allow; // the server picks one
      const std::string_view name = *username;
      const bool ok = name.size() >= policy_.min_length && name.size() <= policy_.max_length &&
                      std::all_of(name.begin(), name.end(), valid_localpart_char) &&
                      std::find(policy_.reserved.begin(), policy_.reserved.end(), name) == policy_.reserved.end();
      if (ok) return modkit::RegistrationBehaviour::allow;
      log_.info("registration of \"{}\" breaks the policy", name);
      return policy_.on_violation == "deny" ? modkit::RegistrationBehaviour::deny
                                            : modkit::RegistrationBehaviour::shadow_ban;
   }

   modkit::SpamResult check_login(std::string_view user_id, std::optional<std::string_view>,
                                  std::optional<std::string_view>, const nlohmann::json &,
                                  std::optional<std::string_view> auth_provider_id) const {
      if (policy_.login_providers.empty()) return modkit::SpamResult::not_spam;
      const std::string_view provider = auth_provider_id.value_or("password");
      const auto &allowed = policy_.login_providers;
      if (std::find(allowed.begin(), allowed.end(), provider) != allowed.end())
         return modkit::SpamResult::not_spam;
      log_.warning("login of {} through \"{}\" refused", user_id, provider);
      return modkit::SpamResult::forbidden;
   }

   Policy policy_;
   modkit::Logger log_;
};

MODKIT_MODULE(PasswordPolicy, "password_policy", "1.0.0",
              "Enforces user name rules at registration and allowed login providers",
              "modkit.spam_checker")
