// settings.hpp - the host config's "services" object and each module's service grants: what
// the standard services may do, and for whom.
#pragma once

#include "../errors.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace modkit::loader::services {

// Limits that apply per module; the host-wide "services" gives the defaults, a module's own
// "services" overrides them.
struct ModuleLimits {
   uint32_t task_concurrency = 4; // its tasks running at once
   uint32_t task_queue = 1000;    // its tasks waiting; more are refused
   uint32_t max_series = 1000;    // metric series
};

struct Settings {
   uint32_t event_threads = 2;    // run timers and service completions
   uint32_t task_threads = 4;     // run offloaded tasks
   bool background_instance = true;
   std::string storage_path;      // "" : modkit-storage.sqlite3 beside the host config
   ModuleLimits limits;
};

// A module's own entry: "permissions" and "services" beside its "config".
struct ModuleGrants {
   std::vector<std::string> http; // URL prefixes it may reach
   ModuleLimits limits;
};

// Reads the host config's "services" (at pointer "/services"); every problem goes to errors.
void parse_settings(const nlohmann::json &services, Settings &out, Errors &errors);
// Reads one module's "permissions" and "services" (pointer is "/modules/<i>"), starting from the
// host-wide limits.
void parse_grants(const nlohmann::json *permissions, const nlohmann::json *services, const std::string &pointer,
                  const ModuleLimits &defaults, ModuleGrants &out, Errors &errors);

} // namespace modkit::loader::services
