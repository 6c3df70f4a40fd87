// manifest.hpp - the .note.modkit manifest and the ABI-version rule: the one grammar and the one
// set of messages for the loader's inspect stage and, through modkit/inspect.h, for the tools.
#pragma once

#include "elf/elf_policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modkit::loader {

struct AbiVersion {
   uint16_t major = 0;
   uint16_t minor = 0;
};

// "1.3" -> {1, 3}; nullopt unless two decimal numbers of at most 65535 separated by one dot.
std::optional<AbiVersion> parse_abi_version(const std::string &text);

// The loading rule, modkit_abi_compatible (modkit/version.h): the major versions equal and the
// module's minor at most the host's. Empty
// when a module built for `module` loads into a host providing `host`; otherwise why not, e.g.
// "built for ABI 1.7, host provides 1.5".
std::string abi_refusal(AbiVersion module, AbiVersion host);

struct Manifest {
   std::string name, version, abi, sdk, compiler;
   std::vector<std::string> registers; // category IDs, from the comma-separated list
   std::optional<AbiVersion> abi_version; // nullopt when abi is not MAJOR.MINOR
};

// "a, b,,c " -> {"a", "b", "c"}: how "registers" is split.
std::vector<std::string> split_registers(const std::string &list);

// Reads the note's JSON text. A JSON object with non-empty "name", "version" and "abi" strings
// parses (every other key is optional); otherwise returns nullopt and adds a "manifest.invalid"
// finding. An abi that is not MAJOR.MINOR parses too, with abi_version unset and a
// "manifest.abi" finding added.
std::optional<Manifest> parse_manifest(const std::string &text, std::vector<elf::Finding> &findings);

// One "manifest.registers" finding per category the manifest declares that is not in provided,
// naming it and listing what the host provides: a module may only register what it declares, so
// a declared category the host lacks is refused before any module code runs.
std::vector<elf::Finding> check_declared_categories(const std::vector<std::string> &registers,
                                                    const std::vector<std::string> &provided);

} // namespace modkit::loader
