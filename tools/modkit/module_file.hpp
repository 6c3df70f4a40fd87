// module_file.hpp - what `inspect` (and the static half of `check`, `call` and `compat`) learns
// from a module file without running any of it: the report of the loader's inspection API
// (modkit/inspect.h), so that the tools and the loader judge a file by one set of rules.
#pragma once

#include "abi_model.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace modkit::cli {

// The host a file is judged against; what is left unset is this process's (target, ABI) or
// not judged (categories, runtime).
struct HostJudgement {
   std::optional<TargetInfo> target;
   std::string abi; // "MAJOR.MINOR"; empty: this loader's
   std::optional<std::vector<std::string>> categories;
   std::optional<std::vector<RuntimeVersion>> runtime;
};

struct ModuleFile {
   std::string path; // as given
   // modkit_inspect_file's document; ordered, so per-family versions keep the runtime order.
   nlohmann::ordered_json report;
   enum class Error { none, io, parse } error = Error::none;
   std::string error_message; // for io and parse

   // exit_usage for an unreadable file, exit_refused for a parse error or any finding,
   // exit_ok otherwise.
   int exit_code() const;
   // No finding the loader refuses and no error: worth loading.
   bool loadable() const;
   // The manifest as parsed, or null.
   const nlohmann::ordered_json *manifest() const;
};

// Reads path without executing anything from it (modkit_inspect_file). Throws UsageError when
// host.abi is not MAJOR.MINOR.
ModuleFile read_module_file(const std::string &path, const HostJudgement &host = {});

// The "files" entry of `inspect --json` (docs/cli.md).
nlohmann::json module_file_json(const ModuleFile &file);

// The human report `inspect` prints for one file, ending with its verdict when asked.
std::string module_file_text(const ModuleFile &file, bool verdict = true);

} // namespace modkit::cli
