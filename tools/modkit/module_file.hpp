// module_file.hpp - what `inspect` (and the static half of `check` and `compat`) learns from a
// module file without running any of it: its ELF facts, manifest and findings.
#pragma once

#include "manifest.hpp"

#include "elf/elf_facts.hpp"
#include "elf/elf_policy.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace modkit::cli {

struct Finding {
   std::string check;    // stable ID: "elf.machine", "hygiene.exec_stack", "hygiene.rpath", ...
   std::string subject;  // what was checked, e.g. "machine"
   std::string expected;
   std::string found;
   // The loader refuses the file for this finding, so `check` does not try to load it. The
   // tools' own stricter checks (RPATH, RUNPATH) are reported without stopping the load.
   bool loader_refuses = true;
   std::string message() const; // "<subject>: expected <expected>, found <found>"
};

struct ModuleFile {
   std::string path; // as given
   enum class Error { none, io, parse } error = Error::none;
   std::string error_message;      // for io and parse
   elf::ParseError parse_error;    // for parse
   bool has_facts = false;         // facts holds at least the ELF header's fields
   elf::Facts facts;
   std::optional<Manifest> manifest;
   std::vector<Finding> findings;

   // exit_usage for an unreadable file, exit_refused for a parse error or any finding,
   // exit_ok otherwise.
   int exit_code() const;
   // No finding the loader refuses and no error: worth loading.
   bool loadable() const;
};

// Reads path without executing anything from it: open, fstat, pread, parse. The identity
// checks (class, byte order, machine) are made against host: this process unless told otherwise.
ModuleFile read_module_file(const std::string &path, const elf::HostFacts &host = elf::HostFacts::current());

// The library search path, as the loader judges it: every DT_RPATH and DT_RUNPATH entry, with
// $ORIGIN expanded to module_dir (absolute) and "." and ".." resolved, must lie inside
// module_dir ("hygiene.runpath"). And one check of the tools' own, which the loader does not
// enforce: no DT_RPATH at all ("hygiene.rpath"), since it also steers the search for every
// library the module's dependencies load, and comes before LD_LIBRARY_PATH.
std::vector<Finding> check_search_paths(const elf::Facts &facts, const std::string &module_dir);

// The "files" entry of `inspect --json` (docs/cli.md).
nlohmann::json module_file_json(const ModuleFile &file);

// The human report `inspect` prints for one file, ending with its verdict when asked.
std::string module_file_text(const ModuleFile &file, bool verdict = true);

// "global", "weak", "unique", or the number.
std::string binding_name(unsigned bind);

} // namespace modkit::cli
