// account_expiry: account validity through Synapse's callbacks. Accounts whose user ID matches a
// configured pattern are expired unless renewed; the module also takes over the host's legacy
// renewal endpoints: it issues renewal tokens, honours them once, and answers the admin API.
#include <modkit/sdk/categories/account_validity.hpp>
#include <modkit/sdk/module.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Config {
   std::vector<std::string> expired_patterns; // ECMAScript regular expressions on the user ID
   std::vector<std::string> exempt_users;     // never expired
   int64_t renewal_period_days = 30;          // how long a renewal lasts
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Config, expired_patterns, exempt_users, renewal_period_days)

int64_t now_ms() {
   return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

class AccountExpiry {
public:
   static nlohmann::json config_schema() {
      const nlohmann::json strings = {{"type", "array"}, {"items", {{"type", "string"}, {"minLength", 1}}}};
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"expired_patterns", strings},
                {"exempt_users", strings},
                {"renewal_period_days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 3650}}}}}};
   }

   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      config.expired_patterns = raw.value("expired_patterns", config.expired_patterns);
      config.exempt_users = raw.value("exempt_users", config.exempt_users);
      config.renewal_period_days = raw.value("renewal_period_days", config.renewal_period_days);
      for (std::size_t i = 0; i < config.expired_patterns.size(); ++i) {
         try {
            std::regex(config.expired_patterns[i], std::regex::ECMAScript);
         } catch (const std::regex_error &e) {
            throw modkit::ConfigError(std::string("not a regular expression: ") + e.what(),
                                      "/expired_patterns/" + std::to_string(i));
         }
      }
      return config;
   }

   AccountExpiry(Config config, modkit::Api &api)
      : config_(std::move(config)), period_ms_(config_.renewal_period_days * 86400000), log_(api.log()) {
      for (const auto &pattern : config_.expired_patterns) patterns_.emplace_back(pattern, std::regex::ECMAScript);
      modkit::AccountValidityCallbacks callbacks;
      callbacks.is_user_expired = {this, &AccountExpiry::is_user_expired};
      callbacks.on_user_registration = [this](std::string_view user_id) {
         log_.info("new account {}{}", user_id, matching(user_id) ? ", which will expire unless renewed" : "");
      };
      callbacks.on_user_login = [this](std::string_view user_id, std::optional<std::string_view> type,
                                       std::optional<std::string_view>) {
         log_.info("{} logged in ({})", user_id, type.value_or("single sign-on"));
      };
      callbacks.on_legacy_send_mail = {this, &AccountExpiry::send_renewal_mail};
      callbacks.on_legacy_renew = {this, &AccountExpiry::renew};
      callbacks.on_legacy_admin_request = {this, &AccountExpiry::admin_request};
      api.register_account_validity_callbacks(std::move(callbacks));
   }

private:
   struct Token {
      std::string user_id;
      bool used = false;
   };

   bool matching(std::string_view user_id) const {
      const std::string id(user_id);
      for (const auto &pattern : patterns_)
         if (std::regex_search(id, pattern)) return true;
      return false;
   }

   // Called on every authenticated request: a map lookup and the patterns, nothing slower.
   std::optional<bool> is_user_expired(std::string_view user_id) {
      const std::string id(user_id);
      for (const auto &exempt : config_.exempt_users)
         if (exempt == id) return false;
      {
         const std::lock_guard<std::mutex> lock(mutex_);
         const auto renewed = expiration_.find(id);
         if (renewed != expiration_.end()) {
            const bool expired = now_ms() >= renewed->second;
            if (expired) log_.info("{} expired: its renewal ran out", id);
            return expired;
         }
      }
      if (!matching(user_id)) return std::nullopt;
      log_.info("{} is expired: it matches an expired pattern and was never renewed", id);
      return true;
   }

   // A real module would email the link; this one logs the token a renewal link would carry.
   void send_renewal_mail(std::string_view user_id) {
      std::string token(24, '0');
      {
         const std::lock_guard<std::mutex> lock(mutex_);
         for (char &c : token) c = "0123456789abcdef"[random_() % 16];
         tokens_[token] = Token{std::string(user_id), false};
      }
      log_.info("renewal email for {}: token {}", user_id, token);
   }

   modkit::LegacyRenewal renew(std::string_view renewal_token) {
      const std::lock_guard<std::mutex> lock(mutex_);
      const auto it = tokens_.find(std::string(renewal_token));
      if (it == tokens_.end()) {
         log_.info("refused an unknown renewal token");
         return {};
      }
      modkit::LegacyRenewal renewal;
      renewal.token_valid = true;
      renewal.token_stale = it->second.used;
      if (!it->second.used) {
         it->second.used = true;
         expiration_[it->second.user_id] = now_ms() + period_ms_;
         log_.info("renewed {} for {} days", it->second.user_id, config_.renewal_period_days);
      }
      renewal.expiration_ts = expiration_[it->second.user_id];
      return renewal;
   }

   // Body: {"user_id": ..., "expiration_ts": ms (optional; default: one renewal period from now)}.
   int64_t admin_request(const modkit::Request &request) {
      const nlohmann::json body = nlohmann::json::parse(request.body(), nullptr, false);
      if (!body.is_object() || !body.contains("user_id") || !body["user_id"].is_string())
         throw modkit::Error(MODKIT_E_INVALID_ARGUMENT, "the request body needs a string user_id");
      const std::string user_id = body["user_id"].get<std::string>();
      const int64_t expiration = body.value("expiration_ts", now_ms() + period_ms_);
      const std::lock_guard<std::mutex> lock(mutex_);
      expiration_[user_id] = expiration;
      log_.info("an admin set the expiration of {} to {}", user_id, expiration);
      return expiration;
   }

   Config config_;
   int64_t period_ms_;
   std::vector<std::regex> patterns_;
   modkit::Logger log_;
   std::mutex mutex_; // guards what follows
   std::map<std::string, int64_t> expiration_; // user ID -> ms since the epoch, once renewed or set
   std::map<std::string, Token> tokens_;
   std::mt19937_64 random_{std::random_device{}()};
};

MODKIT_MODULE(AccountExpiry, "account_expiry", "1.0.0",
              "Expires accounts matching configured patterns until they are renewed",
              "modkit.account_validity")
