// host_runtime.hpp - the C and C++ runtimes this process runs on (elf/host_runtime.hpp, read
// once per process), in the shape of the ABI description's runtime section.
#pragma once

#include "abi_model.hpp"

#include "elf/host_runtime.hpp"

#include <vector>

namespace modkit::cli {

inline std::vector<RuntimeVersion> host_runtime_versions() {
   std::vector<RuntimeVersion> out;
   for (const elf::RuntimeVersion &v : elf::host_runtime_versions()) out.push_back({v.family, v.highest, v.library});
   return out;
}

} // namespace modkit::cli
