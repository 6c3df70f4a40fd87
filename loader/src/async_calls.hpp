// async_calls.hpp - the module's side of asynchronous completion, for the host API table.
#pragma once

#include <modkit/loader.h>

namespace modkit::loader {

// modkit_host_api.call_can_suspend and .call_complete (see modkit/host.h).
bool call_can_suspend(const modkit_call *call);
modkit_status call_complete(modkit_call *call, modkit_status status);

// The host's side, exported by api.cpp: modkit_loader_call_settle, _pin and _unpin.
modkit_status call_settle(modkit_call *call, modkit_status status);
void pin(const modkit_loader_snapshot *snapshot, uint32_t module_index);
void unpin(const modkit_loader_snapshot *snapshot, uint32_t module_index);

} // namespace modkit::loader
