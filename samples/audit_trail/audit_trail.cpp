// audit_trail: an audit log of what leaves users' hands. Account data changes and events
// delivered to other servers are logged, and events served to clients carry a marker in their
// "unsigned" section saying they passed through the audit.
#include <modkit/sdk/categories/account_data.hpp>
#include <modkit/sdk/categories/extra_unsigned_fields.hpp>
#include <modkit/sdk/categories/federation.hpp>
#include <modkit/sdk/module.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Config {
   std::string unsigned_field = "org.example.audited"; // the key added to events' unsigned
   std::vector<std::string> event_types;              // events that get it; empty: every event
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Config, unsigned_field, event_types)

} // namespace

class AuditTrail {
public:
   static nlohmann::json config_schema() {
      return {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"unsigned_field", {{"type", "string"}, {"minLength", 1}}},
                {"event_types", {{"type", "array"}, {"items", {{"type", "string"}, {"minLength", 1}}}}}}}};
   }

   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      config.unsigned_field = raw.value("unsigned_field", config.unsigned_field);
      config.event_types = raw.value("event_types", config.event_types);
      // The host's own unsigned keys would be dropped silently; say so now instead.
      for (const char *reserved : {"age", "prev_content", "redacted_because", "transaction_id", "m.relations"})
         if (config.unsigned_field == reserved)
            throw modkit::ConfigError("\"" + config.unsigned_field + "\" is set by the host itself", "/unsigned_field");
      return config;
   }

   AuditTrail(Config config, modkit::Api &api) : config_(std::move(config)), log_(api.log()) {
      modkit::AccountDataCallbacks account_data;
      account_data.on_account_data_updated = {this, &AuditTrail::on_account_data_updated};
      api.register_account_data_callbacks(std::move(account_data));

      modkit::FederationCallbacks federation;
      federation.on_event_delivered_over_federation = {this, &AuditTrail::on_delivered};
      api.register_federation_callbacks(std::move(federation));

      modkit::ExtraUnsignedFieldsCallbacks unsigned_fields;
      unsigned_fields.add_field_to_unsigned = {this, &AuditTrail::add_field_to_unsigned};
      api.register_extra_unsigned_fields_callbacks(std::move(unsigned_fields));
   }

private:
   void on_account_data_updated(std::string_view user_id, std::optional<std::string_view> room_id,
                                std::string_view type, const nlohmann::json &content) const {
      const std::string where = room_id ? "room " + std::string(*room_id) : std::string("global");
      if (content.empty())
         log_.info("audit: {} deleted {} account data {}", user_id, where, type);
      else
         log_.info("audit: {} wrote {} account data {} ({} keys)", user_id, where, type, content.size());
   }

   void on_delivered(const modkit::FederationDelivery &delivery) {
      const std::size_t count = delivery.events().size();
      uint64_t total = 0;
      {
         const std::lock_guard<std::mutex> lock(mutex_);
         total = delivered_[std::string(delivery.server_name())] += count;
      }
      log_.info("audit: {} event(s) reached {} by {}{} ({} in all)", count, delivery.server_name(),
                delivery.method_name(), delivery.acknowledged() ? ", acknowledged" : "", total);
   }

   // Runs for every event served to a client, so it logs at debug level only.
   nlohmann::json add_field_to_unsigned(const modkit::Event &event) const {
      if (!config_.event_types.empty() &&
          std::find(config_.event_types.begin(), config_.event_types.end(), event.type()) == config_.event_types.end())
         return nullptr;
      log_.debug("audit: marked {} as audited", event.event_id());
      return {{config_.unsigned_field, true}};
   }

   Config config_;
   modkit::Logger log_;
   std::mutex mutex_;
   std::map<std::string, uint64_t> delivered_; // destination server -> events delivered so far
};

MODKIT_MODULE(AuditTrail, "audit_trail", "1.0.0",
              "Logs account data changes and federation deliveries; marks served events as audited",
              "modkit.account_data,modkit.federation,modkit.extra_unsigned_fields")
