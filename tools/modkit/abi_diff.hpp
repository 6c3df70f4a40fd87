// abi_diff.hpp - every difference between two ABI descriptions, classified by the compatibility
// rules of docs/abi.md ("Compatibility rules as the tools enforce them").
#pragma once

#include "abi_model.hpp"

#include <string>
#include <vector>

namespace modkit::cli {

struct AbiChange {
   enum class Class {
      compatible, // modules built against the old ABI keep loading
      breaking,   // they may not
      note,       // neither, but worth saying (e.g. additions without a version bump)
   };
   Class cls;
   std::string subject; // "struct modkit_host_api", "constant MODKIT_OK", "category modkit.x"
   std::string message; // what changed, with the old and new values
};

// In the order of the new description. The runtime section is not compared: it describes a
// machine, not the ABI.
std::vector<AbiChange> diff_abi(const AbiModel &old_abi, const AbiModel &new_abi);

const char *class_name(AbiChange::Class cls);

} // namespace modkit::cli
