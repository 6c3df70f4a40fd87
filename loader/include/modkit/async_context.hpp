// modkit/async_context.hpp - where an asynchronous dispatch runs (modkit/async.hpp).
#pragma once

#include <modkit/loader.h>

#include <cstdint>
#include <string_view>

namespace modkit {

// Where an asynchronous dispatch runs: made by modkit::Loader::async_context from a ReadGuard,
// or filled in from the C API (a snapshot obtained in the caller's current read section).
struct AsyncContext {
   modkit_loader *loader = nullptr;
   const modkit_loader_snapshot *snapshot = nullptr;
   std::string_view request_id;
   int64_t deadline_ns = 0;     // CLOCK_MONOTONIC; 0: none
   bool can_suspend = true;     // false: modules answer synchronously, as in ABI 1.0
   modkit_call *call = nullptr; // with can_suspend false: the host's own handle, passed as is
   // Counts every call in the loader's per-callback metrics (modkit/loader.h): on this reader
   // (the starting thread's) while the dispatch runs there, on the completing thread's after.
   modkit_loader_reader *reader = nullptr;
   // Where the modules' call_set_error goes (modkit_call.on_error), on the thread that calls it;
   // error_user_data must stay valid until the dispatch's last module let go of its call (the
   // dispatch's done or invoke can own it). NULL: modules are told the host keeps no errors.
   modkit_loader_call_error_fn on_error = nullptr;
   void *error_user_data = nullptr;
};

} // namespace modkit
