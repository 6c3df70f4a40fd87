// check_load.hpp - what `check` and `call` share: the module, its config and the child's limits
// from the command line, the work their child process runs (a full load of one module through
// modkit::Loader into a host that offers every standard category, then the unload), and the
// summary of how that child ended.
#pragma once

#include "child.hpp"
#include "commands.hpp"
#include "module_file.hpp"

#include <modkit/loader.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace modkit::cli {

// A ModuleRun checked and read: throws UsageError for a bad limit, an unreadable or invalid
// config file, or a host_abi that is not MAJOR.MINOR. The module file is read (without running
// it) into file, judged against the host the child creates (every standard category) and, when
// given, the ABI version host_abi.
struct PreparedRun {
   ChildLimits limits;
   std::optional<nlohmann::json> config;
   ModuleFile file;
   std::string path; // absolute and normalised, as the loader takes it
   std::vector<std::string> reasons; // why the file itself is refused: unreadable, findings
};
PreparedRun prepare_run(const ModuleRun &run, const std::string &host_abi = "");

// Loads module_path (absolute) with config as the module's config (none: the loader passes
// "{}"), reports what it registered, runs while_loaded (if any), and unloads it. Events:
//   {"event": "phase", "phase": "load"}
//   {"event": "log", "level": ..., "module": ..., "message": ...}      any number, any time
//   {"event": "load_failed", "errors": [...]}                          or
//   {"event": "loaded", "module": {...}, "registrations": {...}},
//   what while_loaded reports (it sets its own phase),
//   {"event": "phase", "phase": "unload"}, {"event": "unloaded"}
// pending_wait_ms bounds how long the unload waits for calls the module suspended and never
// completed (modkit_loader_options.pending_wait_ms; 0: the loader's default).
void load_and_unload(Reporter &reporter, const std::string &module_path,
                     const std::optional<nlohmann::json> &config,
                     const std::function<void(modkit::Loader &)> &while_loaded = {}, uint32_t pending_wait_ms = 0);

// The host config check builds: {"modules": [{"module": path, "config": config}]}.
nlohmann::json host_config(const std::string &module_path, const std::optional<nlohmann::json> &config);

// How the child of load_and_unload ended.
struct LoadReport {
   nlohmann::json doc;               // the "load" object of --json (docs/cli.md)
   bool ok = false;                  // loaded, ran, deinitialised and unloaded
   std::vector<std::string> reasons; // why not, for the verdict
};
LoadReport summarise(const ChildResult &result, const ChildLimits &limits);

// The first event named name, or null.
const nlohmann::json *find_event(const std::vector<nlohmann::json> &events, const char *name);

// The "load" object as the human report shows it; registrations listed when asked.
std::string load_text(const nlohmann::json &load, bool with_registrations = true);

} // namespace modkit::cli
