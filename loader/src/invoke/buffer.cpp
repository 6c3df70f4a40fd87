// invoke/buffer.cpp - modkit_host_api.buffer_append for invoker output buffers.
#include "invoke/buffer.hpp"

#include <new>
#include <stdexcept>

namespace modkit::invoke {

modkit_status buffer_append(modkit_buffer *handle, const char *data, size_t size) noexcept {
   Buffer *buffer = buffer_from_handle(handle);
   if (buffer == nullptr || (data == nullptr && size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   if (size == 0) return MODKIT_OK;
   try {
      buffer->bytes.append(data, size);
   } catch (const std::bad_alloc &) {
      return MODKIT_E_NO_MEMORY;
   } catch (const std::length_error &) {
      return MODKIT_E_NO_MEMORY;
   }
   return MODKIT_OK;
}

} // namespace modkit::invoke
