// host_runtime.hpp - the C and C++ runtimes this process actually runs on, as the newest symbol
// version each defines: what a module's version requirements must not exceed.
#pragma once

#include "abi_model.hpp"

#include <vector>

namespace modkit::cli {

// For each family of runtime_families() whose library is loaded into this process (found with
// dl_iterate_phdr), the newest version the library's version definitions name, read from the
// file with the ELF reader. A family whose library is not loaded, or cannot be read, is left out.
std::vector<RuntimeVersion> host_runtime_versions();

} // namespace modkit::cli
