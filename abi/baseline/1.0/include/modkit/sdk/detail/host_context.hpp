// modkit/sdk/detail/host_context.hpp - what every SDK object needs to reach the host.
#pragma once

#include <modkit/host.h>

namespace modkit::detail {

// The host's table and this module instance's handle, plus the static strings from
// MODKIT_MODULE used in messages. Plain pointers: the host keeps api and host valid until
// deinit returns, and the strings are literals.
// Thread rule: an immutable value once built; safe to copy and read from any thread.
struct HostContext {
   const modkit_host_api *api = nullptr;
   modkit_host *host = nullptr;  // NULL in parse_config, which has no instance
   const char *module_name = "";
   const char *registers = "";   // the manifest's "registers" list, comma-separated
};

// True when api is a 1.x table long enough to hold every function the SDK calls.
inline bool host_api_usable(const modkit_host_api *api) noexcept {
   return api != nullptr && api->abi_major == MODKIT_ABI_VERSION_MAJOR &&
          MODKIT_HAS_FIELD(api, modkit_host_api, get_extension);
}

} // namespace modkit::detail
