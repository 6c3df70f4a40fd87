// elf/elf_policy.hpp - what a module file must be before anything loads it.
//
// Pure functions over Facts: no I/O, no dl* calls. Each finding has a stable check ID (for
// configuration switches, --json output and tests) and says what was expected and what was found.
#pragma once

#include "elf/elf_facts.hpp"
#include "elf/symbol_versions.hpp"

#include <elf.h>

#include <string>
#include <vector>

namespace modkit::elf {

// The ELF identity modules must have to load into this process.
struct HostFacts {
   unsigned elf_class; // ELFCLASS64 / ELFCLASS32
   unsigned machine;   // EM_*
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
   unsigned data = ELFDATA2MSB;
#else
   unsigned data = ELFDATA2LSB;
#endif
   // This build's own values, fixed at compile time.
   static HostFacts current();
};

struct Finding {
   // Stable ID: "elf.class", "elf.data", "elf.version", "elf.osabi", "elf.machine", "elf.type",
   // "elf.interp", "elf.dynamic", "manifest.missing", "manifest.duplicate", "entry.missing",
   // "entry.type", "entry.ifunc", "hygiene.exec_stack", "hygiene.static_tls",
   // "hygiene.unique_symbols", "hygiene.textrel", "hygiene.ifunc", "hygiene.symbol_versions".
   std::string check;
   std::string expected;
   std::string found;
   std::string subject; // what was checked, e.g. "machine"; message() uses check when empty
   // "<subject>: expected <expected>, found <found>"
   std::string message() const;
};

// The identity checks: class, data encoding, ELF version, OS ABI (NONE or GNU), machine. Also
// meaningful on the partial Facts a failed read_facts leaves behind when their elf_class != 0.
std::vector<Finding> check_ident(const Facts &facts, const HostFacts &host);

// Everything that must hold before anything is loaded: check_ident, then a shared object
// (ET_DYN without PT_INTERP; PIE and non-PIE executables get distinct messages) with
// PT_DYNAMIC, exactly one modkit manifest note, and modkit_module_entry exported as a defined
// STT_FUNC (not an IFUNC, not data). A file that is not a shared object gets no findings past
// its type: no module can be made of it, whatever else it holds.
std::vector<Finding> check_structure(const Facts &facts, const HostFacts &host);

// Load-time side effects a module must not have: executable stack, static TLS, STB_GNU_UNIQUE
// symbols, text relocations, IFUNC resolvers. One finding per check, so each can be switched
// off on its own; symbol findings list every offending name.
std::vector<Finding> check_hygiene(const Facts &facts);

// Versions of the C and C++ runtimes (runtime_families()) the module requires that are newer
// than the newest its host's runtime defines: the dynamic linker would refuse them inside dlopen
// ("version `GLIBC_2.99' not found"), after the module's other dependencies had been loaded and
// their constructors run. One finding naming, per family, the newest required version and the
// host's. A family the host has no version for is not judged: its library is not in the process,
// and dlopen would load the system's copy.
std::vector<Finding> check_symbol_versions(const Facts &facts, const std::vector<RuntimeVersion> &host);

// Human names: "x86-64 (EM_X86_64)", "64-bit (ELFCLASS64)", "shared object (ET_DYN)", ...
// Unknown values give "unknown <kind> (<value>)".
std::string machine_name(unsigned machine);
std::string class_name(unsigned elf_class);
std::string data_name(unsigned data);
std::string type_name(unsigned type);
std::string osabi_name(unsigned osabi);
std::string symbol_type_name(unsigned type);

} // namespace modkit::elf
