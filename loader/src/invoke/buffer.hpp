// invoke/buffer.hpp - the host-owned output buffer behind a "*buf" parameter.
//
// Modules see it as the opaque modkit_buffer * and append to it only through
// modkit_host_api.buffer_append; buffer_append below is that function for these buffers.
#pragma once

#include <modkit/host.h>

#include <string>

// The one definition of the ABI's opaque buffer in this code base: the loader's host API, its
// C API and the invoker's "*buf" outputs all use it, so a module's buffer_append always meets
// the type it expects.
struct modkit_buffer {
   std::string bytes; // what the module appended, in order
};

namespace modkit::invoke {

using Buffer = ::modkit_buffer;

// The handle a module receives for buffer, and back. The handle is valid while buffer lives.
// [thread-safe]
inline modkit_buffer *buffer_handle(Buffer &buffer) noexcept { return &buffer; }
inline Buffer *buffer_from_handle(modkit_buffer *handle) noexcept { return handle; }

// Appends size bytes to the buffer behind handle. MODKIT_E_INVALID_ARGUMENT for a null handle,
// or null data with a non-zero size; MODKIT_E_NO_MEMORY when the buffer cannot grow.
// [thread-safe] for distinct buffers
modkit_status buffer_append(modkit_buffer *handle, const char *data, size_t size) noexcept;

} // namespace modkit::invoke
