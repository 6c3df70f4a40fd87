// schema.hpp - validates a module's raw config against the JSON Schema it ships.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace modkit::loader {

struct SchemaViolation {
   std::string pointer; // relative to the module's config, e.g. "/max_size"
   std::string message; // e.g. "expected integer >= 1, got string \"big\""
};

// False with schema_error set when schema_text is not a usable schema; otherwise fills
// violations (empty when the config is valid), one per offending value.
bool validate_against_schema(const char *schema_text, const nlohmann::json &config,
                             std::vector<SchemaViolation> &violations, std::string &schema_error);

} // namespace modkit::loader
