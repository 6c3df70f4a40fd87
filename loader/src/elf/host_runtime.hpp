// elf/host_runtime.hpp - the C and C++ runtimes this process actually runs on, as the newest
// symbol version each defines: what a module's version requirements must not exceed.
#pragma once

#include "elf/symbol_versions.hpp"

#include <vector>

namespace modkit::elf {

// For each family of runtime_families() whose library is loaded into this process (found with
// dl_iterate_phdr), the newest version the library's version definitions name, read from the
// file with the ELF reader. A family whose library is not loaded, or cannot be read, is left out.
// Read on the first call and kept for the life of the process: the runtimes a process started
// with cannot be replaced while it runs, and reading them (parsing libc and libstdc++ whole)
// takes about 10 ms.
// [thread-safe]
const std::vector<RuntimeVersion> &host_runtime_versions();

} // namespace modkit::elf
