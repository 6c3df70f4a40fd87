// abi_table.hpp - the ABI of this build, read from the headers by the compiler.
#pragma once

#include "abi_model.hpp"

#include <cstdint>
#include <string>

namespace modkit::cli {

// Every struct, handle, function type and constant of abi/probe/abi_list.inc, every standard
// category, and the target. No runtime section: that is this_host.hpp's.
AbiModel current_abi_model();

// "first_non_zero", "fail_open", ...; "unknown (<n>)" for a value the headers do not define.
std::string combine_name(int32_t combine);
std::string on_error_name(int32_t on_error);

} // namespace modkit::cli
