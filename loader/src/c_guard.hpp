// c_guard.hpp - the one exception barrier of the exported C functions: nothing unwinds out.
#pragma once

#include <modkit/status.h>

#include <new>

namespace modkit::loader {

// Runs f and returns its status; an exception becomes MODKIT_E_NO_MEMORY or MODKIT_E_INTERNAL.
template <class F>
modkit_status c_guard(F &&f) noexcept {
   try {
      return f();
   } catch (const std::bad_alloc &) {
      return MODKIT_E_NO_MEMORY;
   } catch (...) {
      return MODKIT_E_INTERNAL;
   }
}

} // namespace modkit::loader
