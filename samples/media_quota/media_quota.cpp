// media_quota: per-user media rules through Synapse's media repository callbacks (a size cap,
// upload limits over time, the media config clients see), plus rate limit overrides for
// trusted users.
#include <modkit/sdk/categories/media_repository.hpp>
#include <modkit/sdk/categories/ratelimit.hpp>
#include <modkit/sdk/module.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Limit {
   uint64_t max_bytes = 0;
   int64_t time_period_ms = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Limit, max_bytes, time_period_ms)

struct UserRules {
   uint64_t max_upload_bytes = 0;     // 0: the module-wide cap
   bool has_upload_limits = false;    // upload_limits was given (an empty list lifts every limit)
   std::vector<Limit> upload_limits;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UserRules, max_upload_bytes, has_upload_limits, upload_limits)

struct Override {
   double per_second = 0.0;
   int64_t burst_count = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Override, per_second, burst_count)

struct Config {
   uint64_t max_upload_bytes = 0; // 0: no cap of the module's
   std::map<std::string, UserRules> users;
   std::map<std::string, Override> ratelimit_overrides;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Config, max_upload_bytes, users, ratelimit_overrides)

} // namespace

class MediaQuota {
public:
   static nlohmann::json config_schema() {
      const nlohmann::json bytes = {{"type", "integer"}, {"minimum", 0}};
      const nlohmann::json limit = {{"type", "object"},
                                    {"required", {"max_bytes", "time_period_ms"}},
                                    {"additionalProperties", false},
                                    {"properties", {{"max_bytes", bytes}, {"time_period_ms", {{"type", "integer"}, {"minimum", 1}}}}}};
      const nlohmann::json user = {{"type", "object"},
                                   {"additionalProperties", false},
                                   {"properties", {{"max_upload_bytes", bytes}, {"upload_limits", {{"type", "array"}, {"items", limit}}}}}};
      const nlohmann::json override_ = {{"type", "object"},
                                        {"required", {"per_second", "burst_count"}},
                                        {"additionalProperties", false},
                                        {"properties", {{"per_second", {{"type", "number"}, {"minimum", 0}}}, {"burst_count", bytes}}}};
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"max_upload_bytes", bytes},
                {"users", {{"type", "object"}, {"additionalProperties", user}}},
                {"ratelimit_overrides", {{"type", "object"}, {"additionalProperties", override_}}}}}};
   }

   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      config.max_upload_bytes = raw.value("max_upload_bytes", uint64_t{0});
      const nlohmann::json users = raw.value("users", nlohmann::json::object());
      for (const auto &[user_id, rules] : users.items()) {
         UserRules &user = config.users[user_id];
         user.max_upload_bytes = rules.value("max_upload_bytes", uint64_t{0});
         user.has_upload_limits = rules.contains("upload_limits");
         user.upload_limits = rules.value("upload_limits", user.upload_limits);
      }
      const nlohmann::json overrides = raw.value("ratelimit_overrides", nlohmann::json::object());
      for (const auto &[user_id, limit] : overrides.items())
         config.ratelimit_overrides[user_id] = limit.get<Override>();
      return config;
   }

   MediaQuota(Config config, modkit::Api &api) : config_(std::move(config)), log_(api.log()) {
      modkit::MediaRepositoryCallbacks media;
      media.get_media_config_for_user = [this](std::string_view user_id) -> std::optional<nlohmann::json> {
         const UserRules *rules = user(user_id);
         if (rules == nullptr || rules->max_upload_bytes == 0) return std::nullopt;
         log_.info("{} sees an upload size of {} bytes", user_id, rules->max_upload_bytes);
         return nlohmann::json{{"m.upload.size", rules->max_upload_bytes}};
      };
      media.is_user_allowed_to_upload_media_of_size = {this, &MediaQuota::may_upload};
      media.get_media_upload_limits_for_user = {this, &MediaQuota::upload_limits};
      media.on_media_upload_limit_exceeded = [this](std::string_view user_id, const modkit::MediaUploadLimit &limit,
                                                    uint64_t sent, uint64_t attempted) {
         log_.warning("{} hit the limit of {} bytes per {} ms: {} sent, {} more refused", user_id, limit.max_bytes,
                      limit.time_period.count(), sent, attempted);
      };
      api.register_media_repository_callbacks(std::move(media));

      modkit::RatelimitCallbacks ratelimit;
      ratelimit.get_ratelimit_override_for_user = {this, &MediaQuota::ratelimit_override};
      api.register_ratelimit_callbacks(std::move(ratelimit));
   }

private:
   const UserRules *user(std::string_view user_id) const {
      const auto it = config_.users.find(std::string(user_id));
      return it == config_.users.end() ? nullptr : &it->second;
   }

   bool may_upload(std::string_view user_id, uint64_t size) const {
      const UserRules *rules = user(user_id);
      const uint64_t cap = rules != nullptr && rules->max_upload_bytes > 0 ? rules->max_upload_bytes
                                                                         : config_.max_upload_bytes;
      if (cap == 0 || size <= cap) return true;
      log_.info("refused an upload of {} bytes by {} (the cap is {})", size, user_id, cap);
      return false;
   }

   std::optional<std::vector<modkit::MediaUploadLimit>> upload_limits(std::string_view user_id) const {
      const UserRules *rules = user(user_id);
      if (rules == nullptr || !rules->has_upload_limits) return std::nullopt;
      std::vector<modkit::MediaUploadLimit> limits;
      for (const Limit &l : rules->upload_limits)
         limits.emplace_back(l.max_bytes, std::chrono::milliseconds(l.time_period_ms));
      if (limits.empty())
         log_.info("{} uploads without limits", user_id);
      else
         log_.info("{} has {} upload limit(s) of their own", user_id, limits.size());
      return limits;
   }

   std::optional<modkit::RatelimitOverride> ratelimit_override(std::string_view user_id,
                                                               std::string_view limiter) const {
      const auto it = config_.ratelimit_overrides.find(std::string(user_id));
      if (it == config_.ratelimit_overrides.end()) return std::nullopt;
      log_.info("{} gets {} actions/s, bursts of {}, from {}", user_id, it->second.per_second,
                it->second.burst_count, limiter);
      return modkit::RatelimitOverride{it->second.per_second, it->second.burst_count};
   }

   Config config_;
   modkit::Logger log_;
};

MODKIT_MODULE(MediaQuota, "media_quota", "1.0.0",
              "Per-user media upload caps and limits, and rate limit overrides for trusted users",
              "modkit.media_repository,modkit.ratelimit")
