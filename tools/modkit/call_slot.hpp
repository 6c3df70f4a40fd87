// call_slot.hpp - the pieces of `modkit call`: naming a slot of a standard category on the
// command line, and the call itself, made in the child process while the module is loaded.
#pragma once

#include "child.hpp"

#include <modkit/category.h>
#include <modkit/loader.hpp>

#include <string>

namespace modkit::cli {

struct SlotTarget {
   const modkit_category *category = nullptr;
   const modkit_slot_desc *slot = nullptr;
   std::string name() const; // "modkit.spam_checker.check_event_for_spam"
};

// Resolves "CATEGORY.SLOT" against the standard categories. The category is its ID
// ("modkit.spam_checker") or the ID without "modkit." ("spam_checker"). Throws UsageError
// naming what was not found and listing what exists.
SlotTarget resolve_target(const std::string &target);

// Dispatches target's slot with args_json through the loader's dynamic path, as a host would,
// under a call handle whose deadline is deadline_seconds from now. Reports
//   {"event": "phase", "phase": "call"}
//   {"event": "called", "status": "ok"|..., "code": n, "result": the dispatch document}
void call_slot(Reporter &reporter, modkit::Loader &loader, const SlotTarget &target, const std::string &args_json,
               double deadline_seconds);

} // namespace modkit::cli
