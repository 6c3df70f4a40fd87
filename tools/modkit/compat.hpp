// compat.hpp - whether a module file can load into the host an `abi dump` describes, decided
// from the file alone (no code runs), and every reason it cannot.
#pragma once

#include "abi_model.hpp"
#include "module_file.hpp"

#include <string>
#include <vector>

namespace modkit::cli {

struct CompatReason {
   std::string check;   // "file", "elf.machine", "loader.<finding>", "abi.version", "category", "runtime"
   std::string message; // e.g. "needs GLIBCXX_3.4.30, host has 3.4.29"
};

struct CompatResult {
   std::vector<CompatReason> reasons; // empty: compatible
   std::vector<std::string> notes;    // what could not be compared, and why
};

// What the file is judged against: the description's target, ABI, categories and runtime.
HostJudgement compat_host(const AbiModel &host);

// file must have been read against compat_host(host).
CompatResult judge_compat(const ModuleFile &file, const AbiModel &host);

} // namespace modkit::cli
