// config.cpp - see config.hpp.
#include "config.hpp"

#include <modkit/sdk/error.hpp>

#include <cctype>
#include <limits>

namespace eav {

using json = nlohmann::json;

int64_t parse_duration(const json &value, const std::string &field) {
   if (value.is_number_integer()) return value.get<int64_t>();
   const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
   constexpr int64_t second = 1000, minute = 60 * second, hour = 60 * minute, day = 24 * hour;
   int64_t size = 1;
   std::string digits = text;
   if (!digits.empty()) {
      switch (digits.back()) {
      case 's': size = second; break;
      case 'm': size = minute; break;
      case 'h': size = hour; break;
      case 'd': size = day; break;
      case 'w': size = 7 * day; break;
      case 'y': size = 365 * day; break;
      default: break;
      }
      if (size != 1) digits.pop_back();
   }
   // Python's int(): digits, perhaps signed.
   size_t start = !digits.empty() && (digits[0] == '-' || digits[0] == '+') ? 1 : 0;
   bool valid = value.is_string() && digits.size() > start && digits.size() - start <= 15;
   for (size_t i = start; valid && i < digits.size(); ++i) valid = std::isdigit(static_cast<unsigned char>(digits[i])) != 0;
   if (!valid)
      throw modkit::ConfigError("invalid literal for int() with base 10: '" + digits + "'", "/" + field);
   return std::stoll(digits) * size;
}

json config_schema() {
   const json duration = {{"type", {"string", "integer"}}};
   return {{"type", "object"},
           {"additionalProperties", false},
           {"properties",
            {{"period", duration},
             {"renew_at", duration},
             {"renew_email_subject", {{"type", {"string", "null"}}}},
             {"send_links", {{"type", "boolean"}}}}}};
}

Config parse(const json &raw) {
   if (!raw.contains("period")) throw modkit::ConfigError("'period' is required when using email account validity");
   if (!raw.contains("renew_at")) throw modkit::ConfigError("'renew_at' is required when using email account validity");
   Config c;
   c.period_ms = parse_duration(raw["period"], "period");
   c.renew_at_ms = parse_duration(raw["renew_at"], "renew_at");
   if (raw.contains("renew_email_subject") && raw["renew_email_subject"].is_string())
      c.renew_email_subject = raw["renew_email_subject"].get<std::string>();
   c.send_links = raw.value("send_links", true);
   return c;
}

void to_json(json &j, const Config &c) {
   j = {{"period", c.period_ms},
        {"renew_at", c.renew_at_ms},
        {"renew_email_subject", c.renew_email_subject ? json(*c.renew_email_subject) : json()},
        {"send_links", c.send_links}};
}

// The parsed config: durations in milliseconds already.
void from_json(const json &j, Config &c) {
   c.period_ms = j.at("period").get<int64_t>();
   c.renew_at_ms = j.at("renew_at").get<int64_t>();
   if (j.contains("renew_email_subject") && j["renew_email_subject"].is_string())
      c.renew_email_subject = j["renew_email_subject"].get<std::string>();
   c.send_links = j.value("send_links", true);
}

} // namespace eav
