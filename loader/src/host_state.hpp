// host_state.hpp - definitions of the ABI's opaque host handles, as this loader implements them.
#pragma once

#include "invoke/buffer.hpp"
#include "services/module_services.hpp"

#include <modkit/modkit.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace modkit::loader {
class Loader;

// What a module asked to register during init; committed to the registry only if init
// succeeds, so a failed init leaves nothing behind.
struct StagedCallbacks {
   size_t category = 0;               // index in the registry's categories
   std::vector<void (*)(void)> slots; // one per slot of the host's category (null: not set)
   void *user_data = nullptr;
};
struct StagedWebResource {
   std::string path;
   modkit_web_handler handler = nullptr;
   void *user_data = nullptr;
};
struct StagedCache {
   std::string name;
   modkit_cache_invalidate_fn invalidate = nullptr;
   void *user_data = nullptr;
};
struct Staged {
   std::vector<StagedCallbacks> callbacks;
   std::vector<StagedWebResource> web_resources;
   std::vector<StagedCache> caches;
   std::vector<std::string> refusals; // registrations refused for a reason that fails init
};

// The host's answer to a registration: a status and, when refused, why.
struct Refusal {
   modkit_status code = MODKIT_OK;
   std::string why;
};

} // namespace modkit::loader

// One per module instance; handed to the module as its modkit_host *.
struct modkit_host {
   enum class State { configuring, initialising, running, unloading };
   modkit::loader::Loader *loader = nullptr;
   // The module's position in the writer's module list; renumbered by unload, so read and
   // written by the thread that changes the module set only (others find a module by this
   // struct's address in a snapshot).
   size_t module_index = 0;
   State state = State::configuring;
   std::string name;                       // the module's descriptor name
   uint64_t instance_id = 0;               // unique in the process (modkit_loader_host_instance_id)
   std::vector<std::string> registers;     // categories its manifest declares
   modkit::loader::Staged staged;
   // Its cached functions, fixed once init succeeded: a module invalidating its own cache is
   // served from here, by the handle it calls with, whatever snapshot other threads see.
   std::vector<modkit::loader::StagedCache> caches;
   // What it started through the standard services (services/services.hpp).
   std::unique_ptr<modkit::loader::services::ModuleServices> services;
};

struct modkit_error_sink {
   struct Entry {
      modkit_status code;
      std::string pointer;
      std::string message;
   };
   std::vector<Entry> entries;
};

struct modkit_http_response {
   int32_t status = 200;
   std::vector<std::pair<std::string, std::string>> headers;
   std::string body;
};

namespace modkit::loader {
// The host API table every module receives; static, shared by all loaders.
const modkit_host_api *host_api_table();
} // namespace modkit::loader
