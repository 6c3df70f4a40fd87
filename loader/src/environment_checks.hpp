// environment_checks.hpp - static checks that depend on where the module is and on what this
// process and system have, not only on the file: its library search path, whether the
// libraries it needs exist, and whether this process's runtimes are new enough for it. Nothing
// is loaded; the file's facts are compared with the system.
#pragma once

#include "elf/elf_facts.hpp"
#include "elf/elf_policy.hpp"

#include <string>
#include <vector>

namespace modkit::loader {

// RPATH/RUNPATH entries must stay inside the module's own directory ($ORIGIN and below): a
// search path elsewhere lets whoever controls that directory supply the module's libraries.
// Check ID "hygiene.runpath".
std::vector<elf::Finding> check_search_path(const elf::Facts &facts, const std::string &module_dir);

// Every DT_NEEDED library must be one the dynamic linker would find: already loaded in this
// process, or present in the module's RUNPATH, LD_LIBRARY_PATH, the directories of
// /etc/ld.so.conf, or the default directories. Check ID "hygiene.needed_libraries".
std::vector<elf::Finding> check_needed_libraries(const elf::Facts &facts, const std::string &module_dir);

// The versions of the C and C++ runtimes the module requires (GLIBC_2.x, GLIBCXX_3.4.x, ...)
// must not be newer than those of the runtimes this process runs on, read once per process.
// Check ID "hygiene.symbol_versions".
std::vector<elf::Finding> check_symbol_versions(const elf::Facts &facts);

} // namespace modkit::loader
