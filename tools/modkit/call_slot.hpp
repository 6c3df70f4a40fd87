// call_slot.hpp - the pieces of `modkit call`: naming a slot of a standard category on the
// command line, and the call itself, made in the child process while the module is loaded.
#pragma once

#include "child.hpp"

#include <modkit/category.h>
#include <modkit/loader.hpp>

#include <string>

namespace modkit::cli {

// How long `call` lets the child run past --timeout, the call's deadline: enough to load the
// module before the call and to unload it after, including pending_wait_ms for a module that
// never completes a call it suspended (the loader then reports it and leaves it loaded). A
// callback that blocks without returning is killed with the child once this is over too.
constexpr uint32_t call_pending_wait_ms = 1000;
constexpr double call_grace_seconds = 2 + call_pending_wait_ms / 1000.0;

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
// asynchronously (modkit_loader_dispatch_json_async), so that the module may suspend the call and
// complete it later from any thread; waits for the result until the deadline, deadline_seconds
// from now, where the loader ends the dispatch with status "timeout". Reports
//   {"event": "phase", "phase": "call"}
//   {"event": "called", "status": "ok"|..., "code": n, "result": the dispatch document}
void call_slot(Reporter &reporter, modkit::Loader &loader, const SlotTarget &target, const std::string &args_json,
               double deadline_seconds);

} // namespace modkit::cli
