// elf/symbol_versions.hpp - symbol versions of the C and C++ runtimes ("GLIBC_2.34",
// "GLIBCXX_3.4.30"): which family a version belongs to, and which of two is newer. Shared by the
// loader, which refuses a module needing a newer runtime than the host's, and its inspection
// report (modkit/inspect.h), which lists them and compares them with another host's.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace modkit::elf {

// The runtime families whose versions are judged, with the library that defines each.
struct RuntimeFamily {
   const char *family;  // "GLIBC"
   const char *library; // "libc.so.6"
};
const std::vector<RuntimeFamily> &runtime_families();

struct SymbolVersion {
   std::string family;           // "GLIBCXX"
   std::vector<unsigned> number; // {3, 4, 30}
   std::string text() const;     // "3.4.30"
   std::string name() const;     // "GLIBCXX_3.4.30"
};

// The newest version of one family that a runtime library defines.
struct RuntimeVersion {
   std::string family;  // "GLIBC", "GLIBCXX", "CXXABI", "GCC"
   std::string highest; // e.g. "3.4.30"
   std::string library; // the file that defines it, as the dynamic linker loaded it
};

// "GLIBCXX_3.4.30" -> {"GLIBCXX", {3, 4, 30}}; nullopt for a name without a dotted number after
// its last '_' ("GLIBC_PRIVATE", "GLIBC_ABI_DT_RELR").
std::optional<SymbolVersion> parse_symbol_version(const std::string &name);

// "3.4.30" -> {3, 4, 30}; nullopt unless it is dot-separated decimal numbers.
std::optional<std::vector<unsigned>> parse_dotted(const std::string &text);

// Negative, zero or positive as a is older than, equal to or newer than b ("2.2.5" < "2.14").
int compare_versions(const std::vector<unsigned> &a, const std::vector<unsigned> &b);

// The newest version of each family in names, in runtime_families() order, families without a
// version left out.
std::vector<SymbolVersion> highest_versions(const std::vector<std::string> &names);

} // namespace modkit::elf
