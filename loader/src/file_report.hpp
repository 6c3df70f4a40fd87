// file_report.hpp - what modkit_inspect_file reports about a module file, read without running
// any of it: its ELF facts, manifest and findings, and, when asked, how it compares with a host
// (ABI version, declared categories, C and C++ runtime versions). docs/host-integration.md has
// the document's keys.
#pragma once

#include "elf/elf_policy.hpp"
#include "elf/symbol_versions.hpp"
#include "manifest.hpp"

#include <modkit/version.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace modkit::loader {

struct ReportOptions {
   elf::HostFacts target = elf::HostFacts::current(); // the ELF identity the file must have
   AbiVersion host_abi{MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR};
   std::optional<std::vector<std::string>> categories;       // judged when set
   std::optional<std::vector<elf::RuntimeVersion>> runtime; // compared when set
};

// Ordered, so that per-family version maps keep runtime_families()' order for text output.
nlohmann::ordered_json file_report(const std::string &path, const ReportOptions &options);

// This process as a host: its ABI version, ELF target and C and C++ runtimes.
nlohmann::ordered_json host_report();

} // namespace modkit::loader
