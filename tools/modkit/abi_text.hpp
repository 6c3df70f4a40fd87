// abi_text.hpp - the ABI description as the text `modkit abi dump` writes, declared without the
// JSON library, for programs that only need to print it (the ABI break test's dump program).
#pragma once

#include "abi_model.hpp"

#include <string>

namespace modkit::cli {

// The `abi dump` document, pretty-printed and newline-terminated.
std::string abi_to_text(const AbiModel &model);

} // namespace modkit::cli
