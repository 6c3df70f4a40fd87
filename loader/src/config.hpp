// config.hpp - the host config: {"module_path": [dirs], "modules": [{"module", "config"}]}.
#pragma once

#include "errors.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace modkit::loader {

struct ModuleSpec {
   std::string module;     // a bare name looked up in module_path, or an absolute path
   nlohmann::json config;  // the module's raw config ({} when absent or null)
   std::string pointer;    // "/modules/<i>"
   size_t position = 0;    // i
};

struct HostConfig {
   std::vector<std::string> module_path;
   std::vector<ModuleSpec> modules;
};

// Parses and checks the shape of a host config. Every problem is appended to errors (all of
// them, not just the first); returns false if there was any.
bool parse_host_config(const std::string &text, HostConfig &out, Errors &errors);

// A JSON value's type for messages: "integer", "string", "object", ...
std::string json_type_name(const nlohmann::json &value);

// A short rendering of a value for "got ..." in messages (truncated when long).
std::string json_excerpt(const nlohmann::json &value);

} // namespace modkit::loader
