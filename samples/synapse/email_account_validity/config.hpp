// config.hpp - synapse-email-account-validity's config: its keys, defaults and errors.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace eav {

struct Config {
   int64_t period_ms = 0;   // how long an account stays valid without renewal
   int64_t renew_at_ms = 0; // how long before expiry the renewal mail goes out
   std::optional<std::string> renew_email_subject;
   bool send_links = true; // a link to click, else a short code to type into a client
};

// A duration as Synapse's config reads one: an integer of milliseconds, or a string of digits
// with an optional suffix s, m, h, d, w or y. Throws modkit::ConfigError at /field.
int64_t parse_duration(const nlohmann::json &value, const std::string &field);

nlohmann::json config_schema();
// The original's parse_config, with its messages. Throws modkit::ConfigError.
Config parse(const nlohmann::json &raw);

void to_json(nlohmann::json &j, const Config &c);
void from_json(const nlohmann::json &j, Config &c);

} // namespace eav
