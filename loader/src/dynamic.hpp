// dynamic.hpp - calling slots by name with JSON arguments, for hosts that were not compiled
// against a category's C types (the C API, the CLI, Python through ctypes).
#pragma once

#include "invoke/invoker.hpp"

#include <modkit/async.hpp>
#include <modkit/loader.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace modkit::loader {

class Registry;

// One invoker per slot of every category. Every signature is checked when the loader is
// created, so a malformed one is refused up front; a slot's libffi call interface is built on
// its first dynamic call, so a host that only dispatches typed never pays for it.
class DynamicSlots {
public:
   // Checks every slot of every category of registry, which must outlive this object.
   bool prepare(const Registry &registry, std::string &error);
   // The slot's invoker, prepared on the first call; nullptr (with error) when libffi cannot
   // prepare it. [thread-safe]: concurrent first calls prepare it once.
   const invoke::Invoker *find(size_t category, size_t slot, std::string &error) const;

private:
   struct Lazy {
      std::atomic<const invoke::Invoker *> ready{nullptr}; // set once invoker is prepared
      invoke::Invoker invoker;                            // written once, under mutex_
   };
   const Registry *registry_ = nullptr;
   std::vector<std::unique_ptr<Lazy[]>> slots_; // [category][slot]
   std::vector<uint32_t> counts_;               // slots per category
   mutable std::mutex mutex_;                   // serialises first preparations
};

// Module names by index and the log, for messages and per-module answers; the calling
// thread's reader, to count each call in the loader's metrics (null: not counted).
struct DispatchContext {
   std::function<const char *(uint32_t module_index)> module_name;
   std::function<void(const std::string &module, const std::string &line)> warn;
   modkit_loader_reader *reader = nullptr;
};

// Runs slot for every registrant under its combination and exception policies (the same
// building blocks as modkit/dispatch.hpp) and describes the result as JSON:
//   {"outcome": "decided"|"no_opinion"|"failed_closed"|"error", "status": "...",
//    "module": name|null, "answer": {outputs of the deciding module}|null,
//    "answers": [{"module", "status", "outputs"}...], "chain_to": slot|null}
// KEYED slots are dispatched to every registrant (a host that selects by key calls modules one
// by one with call_module); for CHAINED slots "chain_to" names the slot the host runs next when
// nobody objected. Returns MODKIT_E_INVALID_ARGUMENT (and {"error": ...}) when args do not fit
// the signature, the module's status when the outcome is "error", else MODKIT_OK.
modkit_status dispatch(const modkit_loader_slot &slot, const invoke::Invoker &invoker,
                       const nlohmann::json &args, modkit_call *call, const DispatchContext &context,
                       nlohmann::json &result);

// Receives a dynamic dispatch's status and result document.
using JsonDone = std::function<void(modkit_status, nlohmann::json)>;

// The same, letting modules suspend when async allows it: done runs once, maybe on another
// thread, with what dispatch would return and write. Returns MODKIT_E_INVALID_ARGUMENT (after
// calling done) when args do not fit; MODKIT_OK once started, with handle set.
modkit_status start_dispatch(const modkit_loader_slot &slot, const invoke::Invoker &invoker, const nlohmann::json &args,
                             const AsyncContext &async, const DispatchContext &context, JsonDone done,
                             AsyncHandle &handle);

// Calls one module's callback for slot: {"module", "status", "outputs"}.
modkit_status call_module(const modkit_loader_slot &slot, const invoke::Invoker &invoker, uint32_t module_index,
                          const nlohmann::json &args, modkit_call *call, const DispatchContext &context,
                          nlohmann::json &result);

} // namespace modkit::loader
