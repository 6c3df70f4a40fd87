// check_load.hpp - the work `modkit check` runs in its child process: a full load of one module
// through modkit::Loader, into a host that offers every standard category, then the unload.
#pragma once

#include "child.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace modkit::cli {

// Loads module_path (absolute) with config as the module's config (none: the loader passes
// "{}"), reports what it registered, and unloads it. Events, in order:
//   {"event": "phase", "phase": "load"}
//   {"event": "log", "level": ..., "module": ..., "message": ...}      any number, any time
//   {"event": "load_failed", "errors": [...]}                          or
//   {"event": "loaded", "module": {...}, "registrations": {...}},
//   {"event": "phase", "phase": "unload"}, {"event": "unloaded"}
void load_and_unload(Reporter &reporter, const std::string &module_path,
                     const std::optional<nlohmann::json> &config);

// The host config check builds: {"modules": [{"module": path, "config": config}]}.
nlohmann::json host_config(const std::string &module_path, const std::optional<nlohmann::json> &config);

} // namespace modkit::cli
