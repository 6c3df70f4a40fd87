// config.hpp - the host config: {"module_path": [dirs], "services": {...},
// "modules": [{"module", "config", "permissions", "services"}]}.
#pragma once

#include "errors.hpp"
#include "services/settings.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace modkit::loader {

struct ModuleSpec {
   std::string module;     // a bare name looked up in module_path, or an absolute path
   nlohmann::json config;  // the module's raw config ({} when absent or null)
   std::string pointer;    // "/modules/<i>"
   size_t position = 0;    // i
   std::string sha256;     // lowercase hex pin of the file's content; empty: not pinned
   // Hygiene checks switched off for this module ("static_tls" ...), each with the reason the
   // operator gave; the loader logs the reason every time it loads the module.
   std::map<std::string, std::string> hygiene_exceptions;
   // What its "permissions" grant it and its "services" limits (the host-wide ones if absent).
   services::ModuleGrants grants;
};

// The hygiene checks a host config may switch off per module.
const std::vector<std::string> &hygiene_check_names();

struct HostConfig {
   std::vector<std::string> module_path;
   std::vector<ModuleSpec> modules;
   services::Settings services; // "services": the standard services' settings
};

// Parses and checks the shape of a host config. Every problem is appended to errors (all of
// them, not just the first); returns false if there was any.
bool parse_host_config(const std::string &text, HostConfig &out, Errors &errors);

// A JSON value's type for messages: "integer", "string", "object", ...
std::string json_type_name(const nlohmann::json &value);

// An error in the host config at pointer.
Error config_error(std::string pointer, std::string message);
// "expected <expected>, got <type> <excerpt>".
std::string expected_got(const char *expected, const nlohmann::json &found);

// A short rendering of a value for "got ..." in messages (truncated when long).
std::string json_excerpt(const nlohmann::json &value);

} // namespace modkit::loader
