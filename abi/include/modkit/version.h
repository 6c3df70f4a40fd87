// modkit/version.h - the ABI version and the rule that decides compatibility.
#pragma once

#include "private/macros.h"

// Major: bumped only for a breaking change; modules must be rebuilt.
// Minor: bumped when something is appended (a field, a host function, a category slot).
#define MODKIT_ABI_VERSION_MAJOR 1
#define MODKIT_ABI_VERSION_MINOR 1
#define MODKIT_ABI_VERSION_STRING "1.1"

MODKIT_EXTERN_C_BEGIN

// True when a module built for ABI module_major.module_minor may load into a host
// that provides host_major.host_minor: the majors are equal and the host is not older.
static inline bool modkit_abi_compatible(uint16_t module_major, uint16_t module_minor,
                                         uint16_t host_major, uint16_t host_minor) {
   return module_major == host_major && module_minor <= host_minor;
}

MODKIT_EXTERN_C_END
