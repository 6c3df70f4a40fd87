// spam_filter: refuses messages, room aliases and display names that contain blocked words.
#include <modkit/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Config {
   std::vector<std::string> blocked_words; // lower case
   std::chrono::milliseconds ttl{0};       // how long a verdict stays cached; 0: no expiry
   std::size_t max_cached = 1000;
};

// The normalised config crosses to the host as JSON ("ttl": "5m" becomes "ttl_ms": 300000).
void to_json(nlohmann::json &j, const Config &c) {
   j = {{"blocked_words", c.blocked_words}, {"ttl_ms", c.ttl.count()}, {"max_cached", c.max_cached}};
}
void from_json(const nlohmann::json &j, Config &c) {
   j.at("blocked_words").get_to(c.blocked_words);
   c.ttl = std::chrono::milliseconds(j.at("ttl_ms").get<int64_t>());
   j.at("max_cached").get_to(c.max_cached);
}

std::string lower(std::string_view text) {
   std::string out(text);
   for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
   return out;
}

// "250ms", "30s", "5m", "2h" or "1d" to milliseconds.
std::chrono::milliseconds parse_duration(const std::string &text) {
   std::size_t digits = 0;
   while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
   const std::string unit = text.substr(digits);
   if (digits == 0 || digits > 9) throw modkit::ConfigError("expected a duration such as \"5m\"", "/ttl");
   const int64_t n = std::stoll(text.substr(0, digits));
   if (unit == "ms") return std::chrono::milliseconds(n);
   if (unit == "s") return std::chrono::seconds(n);
   if (unit == "m") return std::chrono::minutes(n);
   if (unit == "h") return std::chrono::hours(n);
   if (unit == "d") return std::chrono::hours(24 * n);
   throw modkit::ConfigError("unknown duration unit \"" + unit + "\" (use ms, s, m, h or d)", "/ttl");
}

} // namespace

class SpamFilter {
public:
   static nlohmann::json config_schema() {
      return {
         {"type", "object"},
         {"required", {"blocked_words"}},
         {"additionalProperties", false},
         {"properties",
          {{"blocked_words", {{"type", "array"}, {"items", {{"type", "string"}, {"minLength", 1}}}}},
           {"ttl", {{"type", "string"}}},
           {"max_cached", {{"type", "integer"}, {"minimum", 1}}}}},
      };
   }

   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      const auto &words = raw.at("blocked_words");
      for (std::size_t i = 0; i < words.size(); ++i) {
         const std::string word = lower(words[i].get<std::string>());
         if (word.find(' ') != std::string::npos)
            throw modkit::ConfigError("a blocked word cannot contain a space",
                                      "/blocked_words/" + std::to_string(i));
         config.blocked_words.push_back(word);
      }
      if (raw.contains("ttl")) config.ttl = parse_duration(raw["ttl"].get<std::string>());
      config.max_cached = raw.value("max_cached", std::size_t{1000});
      return config;
   }

   SpamFilter(Config config, modkit::Api &api)
      : config_(std::move(config)),
        verdicts_(api, "contains_blocked_word", cache_options(config_), this,
                  &SpamFilter::contains_blocked_word) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_event_for_spam = {this, &SpamFilter::check_event_for_spam};
      callbacks.user_may_create_room_alias = [this](std::string_view, std::string_view alias) {
         return verdicts_(alias) ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
      };
      callbacks.check_username_for_spam = [this](const modkit::UserProfile &profile, std::string_view) {
         return verdicts_(profile.display_name().value_or(""));
      };
      api.register_spam_checker_callbacks(std::move(callbacks));
      api.log().info("loaded {} blocked words", config_.blocked_words.size());
   }

private:
   static modkit::CacheOptions cache_options(const Config &config) {
      modkit::CacheOptions options;
      options.max_entries = config.max_cached;
      if (config.ttl.count() > 0) options.ttl = config.ttl;
      return options;
   }

   modkit::SpamResult check_event_for_spam(const modkit::Event &event) {
      if (event.type() != "m.room.message") return modkit::SpamResult::not_spam;
      const nlohmann::json content = event.content();
      const auto body = content.find("body");
      if (body == content.end() || !body->is_string()) return modkit::SpamResult::not_spam;
      return verdicts_(body->get<std::string>()) ? modkit::SpamResult::forbidden
                                                 : modkit::SpamResult::not_spam;
   }

   // Cached by text: the same message is often sent to many rooms.
   bool contains_blocked_word(std::string_view text) {
      const std::string haystack = lower(text);
      return std::any_of(config_.blocked_words.begin(), config_.blocked_words.end(),
                         [&](const std::string &word) { return haystack.find(word) != std::string::npos; });
   }

   Config config_;
   modkit::cached<bool(std::string_view)> verdicts_;
};

MODKIT_MODULE(SpamFilter, "spam_filter", "1.0.0", "Refuses messages that contain blocked words",
              "modkit.spam_checker")
