// password_policy: an account policy. As a password auth provider it offers a token login type
// ("org.example.token"), email logins checked against the same tokens, user names and display
// names taken from a validated email at registration, and a ban on email domains. Through two
// spam checker callbacks, Synapse's place for such rules, it refuses user names that break the
// naming rules and logins through auth providers it does not allow.
#include <modkit/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Policy {
   std::size_t min_length = 3;
   std::size_t max_length = 32;
   std::vector<std::string> reserved;                 // names nobody may register
   std::string on_violation = "deny";                 // or "shadow_ban"
   std::vector<std::string> login_providers;          // empty: any; "password" is the password login
   std::map<std::string, std::string> login_tokens;   // user ID -> the token that logs it in
   std::map<std::string, std::string> emails;         // email address -> user ID
   std::vector<std::string> blocked_email_domains;    // lower case
   bool names_from_email = false;                     // new accounts are named after their email
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Policy, min_length, max_length, reserved, on_violation, login_providers,
                                   login_tokens, emails, blocked_email_domains, names_from_email)

// Matrix user ID localparts: lower-case letters, digits and ._=-/
bool valid_localpart_char(char c) {
   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || std::string_view("._=-/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
   std::string out(text);
   for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
   return out;
}

// Compares secrets in time that depends on their lengths only, not on where they differ.
bool same_secret(std::string_view a, std::string_view b) {
   unsigned char diff = a.size() == b.size() ? 0 : 1;
   for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
   return diff == 0;
}

// key as one JSON pointer token (RFC 6901): '~' and '/' are escaped.
std::string pointer_token(const std::string &key) {
   std::string token;
   for (const char c : key) token += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
   return token;
}

// The validated email of a registration's user-interactive auth, or "".
std::string registered_email(const nlohmann::json &uia_results) {
   const auto stage = uia_results.find("m.login.email.identity");
   if (stage == uia_results.end() || !stage->is_object()) return {};
   return stage->value("address", std::string());
}

} // namespace

class PasswordPolicy {
public:
   static nlohmann::json config_schema() {
      const nlohmann::json strings = {{"type", "array"}, {"items", {{"type", "string"}}}};
      const nlohmann::json string_map = {{"type", "object"}, {"additionalProperties", {{"type", "string"}, {"minLength", 1}}}};
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"min_length", {{"type", "integer"}, {"minimum", 1}}},
                {"max_length", {{"type", "integer"}, {"minimum", 1}}},
                {"reserved", strings},
                {"on_violation", {{"enum", {"deny", "shadow_ban"}}}},
                {"login_providers", strings},
                {"login_tokens", string_map},
                {"emails", string_map},
                {"blocked_email_domains", strings},
                {"names_from_email", {{"type", "boolean"}}}}}};
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
      policy.login_tokens = raw.value("login_tokens", policy.login_tokens);
      for (const auto &[user_id, token] : policy.login_tokens)
         if (user_id.size() < 4 || user_id[0] != '@' || user_id.find(':') == std::string::npos)
            throw modkit::ConfigError("expected a Matrix user ID such as \"@alice:example.org\"",
                                      "/login_tokens/" + pointer_token(user_id));
      for (const auto &[address, user_id] : raw.value("emails", policy.emails)) {
         if (!policy.login_tokens.count(user_id))
            throw modkit::ConfigError("\"" + user_id + "\" has no login token to check email logins against",
                                      "/emails/" + pointer_token(address));
         policy.emails[lower(address)] = user_id;
      }
      for (const auto &domain : raw.value("blocked_email_domains", std::vector<std::string>{}))
         policy.blocked_email_domains.push_back(lower(domain));
      policy.names_from_email = raw.value("names_from_email", policy.names_from_email);
      return policy;
   }

   PasswordPolicy(Policy policy, modkit::Api &api) : policy_(std::move(policy)), log_(api.log()) {
      modkit::SpamCheckerCallbacks spam;
      spam.check_registration_for_spam = {this, &PasswordPolicy::check_registration};
      spam.check_login_for_spam = {this, &PasswordPolicy::check_login};
      api.register_spam_checker_callbacks(std::move(spam));

      // Only what the config asks for, so that hosts skip this module for everything else.
      modkit::PasswordAuthProviderCallbacks auth;
      if (!policy_.login_tokens.empty()) {
         auth.auth_checkers = {{"org.example.token", {"token"}}, {this, &PasswordPolicy::check_token}};
         auth.check_3pid_auth = {this, &PasswordPolicy::check_email_login};
         auth.on_login_response = [this](const nlohmann::json &response) {
            log_.info("{} logged in with a token on device {}", response.value("user_id", ""),
                      response.value("device_id", ""));
         };
         auth.on_logged_out = [this](std::string_view user_id, std::optional<std::string_view> device_id,
                                     std::string_view) {
            log_.info("{} logged out of device {}", user_id, device_id.value_or("(none)"));
         };
      }
      if (!policy_.blocked_email_domains.empty()) auth.is_3pid_allowed = {this, &PasswordPolicy::is_3pid_allowed};
      if (policy_.names_from_email) {
         auth.get_username_for_registration = {this, &PasswordPolicy::username_from_email};
         auth.get_displayname_for_registration = [](const nlohmann::json &uia_results,
                                                    const nlohmann::json &) -> std::optional<std::string> {
            const std::string email = registered_email(uia_results);
            if (email.empty()) return std::nullopt;
            return email.substr(0, email.find('@'));
         };
      }
      if (auth.auth_checkers || auth.is_3pid_allowed || auth.get_username_for_registration)
         api.register_password_auth_provider_callbacks(std::move(auth));
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

   // "user" may be the full user ID or its localpart.
   std::optional<std::string> check_token(std::string_view username, std::string_view, const nlohmann::json &login) const {
      const std::string token = login.value("token", std::string());
      for (const auto &[user_id, expected] : policy_.login_tokens) {
         const bool named = user_id == username || user_id.substr(1, user_id.find(':') - 1) == username;
         if (!named) continue;
         if (same_secret(token, expected)) {
            log_.info("token login of {} accepted", user_id);
            return user_id;
         }
         log_.info("token login of {} refused: wrong token", user_id);
         return std::nullopt;
      }
      return std::nullopt; // not one of ours: the host or another module may know the user
   }

   // An email login's password is the account's login token.
   std::optional<std::string> check_email_login(std::string_view medium, std::string_view address,
                                                std::string_view password) const {
      if (medium != "email") return std::nullopt;
      const auto account = policy_.emails.find(lower(address));
      if (account == policy_.emails.end()) return std::nullopt;
      if (!same_secret(password, policy_.login_tokens.at(account->second))) {
         log_.info("email login as {} refused: wrong password", account->second);
         return std::nullopt;
      }
      log_.info("email login of {} as {} accepted", address, account->second);
      return account->second;
   }

   bool is_3pid_allowed(std::string_view medium, std::string_view address, bool registration) const {
      if (medium != "email") return true;
      const std::string domain = lower(address.substr(address.rfind('@') + 1));
      const auto &blocked = policy_.blocked_email_domains;
      if (std::find(blocked.begin(), blocked.end(), domain) == blocked.end()) return true;
      log_.info("refused email {}{}: domain {} is blocked", address, registration ? " at registration" : "", domain);
      return false;
   }

   // alice.smith@example.org registers as "alice.smith"; other characters are dropped.
   std::optional<std::string> username_from_email(const nlohmann::json &uia_results, const nlohmann::json &) const {
      const std::string email = registered_email(uia_results);
      std::string name;
      for (const char c : lower(email.substr(0, email.find('@'))))
         if (valid_localpart_char(c)) name += c;
      if (name.size() < policy_.min_length) return std::nullopt;
      log_.info("new account with email {} is named \"{}\"", email, name);
      return name;
   }

   Policy policy_;
   modkit::Logger log_;
};

MODKIT_MODULE(PasswordPolicy, "password_policy", "1.0.0",
              "Enforces user name rules at registration and allowed login providers",
              "modkit.password_auth_provider,modkit.spam_checker")
