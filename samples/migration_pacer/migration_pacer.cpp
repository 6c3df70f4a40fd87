// migration_pacer: a background update controller. Database migrations run in short iterations
// with small batches, so they do not starve the server; each update can be tuned on its own.
#include <modkit/sdk/categories/background_update_controller.hpp>
#include <modkit/sdk/module.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace {

// How one update, or every update by default, is paced. 0 leaves the host's default.
struct Pace {
   int32_t iteration_ms = 0;
   int32_t batch_size = 0;
   int32_t min_batch_size = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Pace, iteration_ms, batch_size, min_batch_size)

struct Config {
   Pace defaults;
   std::map<std::string, Pace> updates; // update name -> its own pace
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Config, defaults, updates)

nlohmann::json pace_schema() {
   const nlohmann::json positive = {{"type", "integer"}, {"minimum", 1}, {"maximum", 2147483647}};
   return {{"type", "object"},
           {"additionalProperties", false},
           {"properties", {{"iteration_ms", positive}, {"batch_size", positive}, {"min_batch_size", positive}}}};
}

Pace read_pace(const nlohmann::json &raw, const std::string &pointer) {
   Pace pace;
   pace.iteration_ms = raw.value("iteration_ms", 0);
   pace.batch_size = raw.value("batch_size", 0);
   pace.min_batch_size = raw.value("min_batch_size", 0);
   if (pace.batch_size > 0 && pace.min_batch_size > pace.batch_size)
      throw modkit::ConfigError("min_batch_size is larger than batch_size", pointer + "/min_batch_size");
   return pace;
}

// name as one JSON pointer token (RFC 6901): '~' and '/' are escaped.
std::string pointer_token(const std::string &name) {
   std::string token;
   for (const char c : name) token += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
   return token;
}

std::optional<int32_t> unless_zero(int32_t value) {
   return value > 0 ? std::optional<int32_t>(value) : std::nullopt;
}

} // namespace

class MigrationPacer {
public:
   static nlohmann::json config_schema() {
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"defaults", pace_schema()}, {"updates", {{"type", "object"}, {"additionalProperties", pace_schema()}}}}}};
   }

   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      config.defaults = read_pace(raw.value("defaults", nlohmann::json::object()), "/defaults");
      const nlohmann::json updates = raw.value("updates", nlohmann::json::object());
      for (const auto &[name, pace] : updates.items())
         config.updates[name] = read_pace(pace, "/updates/" + pointer_token(name));
      return config;
   }

   MigrationPacer(Config config, modkit::Api &api) : config_(std::move(config)), log_(api.log()) {
      modkit::BackgroundUpdateControllerCallbacks callbacks;
      callbacks.on_update = {this, &MigrationPacer::on_update};
      callbacks.default_batch_size = [this](std::string_view update, std::string_view database) {
         const std::optional<int32_t> size = unless_zero(pace(update).batch_size);
         if (size) log_.info("{} on {} starts with batches of {}", update, database, *size);
         return size;
      };
      callbacks.min_batch_size = [this](std::string_view update, std::string_view) {
         return unless_zero(pace(update).min_batch_size);
      };
      api.register_background_update_controller_callbacks(std::move(callbacks));
   }

private:
   // An update's own pace, its unset fields filled from the defaults.
   Pace pace(std::string_view update) const {
      Pace pace = config_.defaults;
      const auto own = config_.updates.find(std::string(update));
      if (own == config_.updates.end()) return pace;
      if (own->second.iteration_ms > 0) pace.iteration_ms = own->second.iteration_ms;
      if (own->second.batch_size > 0) pace.batch_size = own->second.batch_size;
      if (own->second.min_batch_size > 0) pace.min_batch_size = own->second.min_batch_size;
      return pace;
   }

   std::optional<std::chrono::milliseconds> on_update(std::string_view update, std::string_view database,
                                                      bool one_shot) const {
      if (one_shot) {
         log_.info("{} on {} runs in one go", update, database);
         return std::nullopt; // the host ignores a duration for one-shot updates
      }
      const int32_t ms = pace(update).iteration_ms;
      if (ms == 0) return std::nullopt;
      log_.info("paced {} on {}: iterations of {} ms", update, database, ms);
      return std::chrono::milliseconds(ms);
   }

   Config config_;
   modkit::Logger log_;
};

MODKIT_MODULE(MigrationPacer, "migration_pacer", "1.0.0",
              "Paces the host's background database updates: iteration length and batch sizes",
              "modkit.background_update_controller")
