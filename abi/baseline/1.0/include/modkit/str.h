// modkit/str.h - the string view that crosses the boundary.
#pragma once

#include "private/macros.h"

MODKIT_EXTERN_C_BEGIN

// A borrowed, UTF-8 byte range; not NUL-terminated. The side that passes it owns the bytes;
// the receiver may read them only for the duration of the call it received them in and must
// copy what it keeps. {NULL, 0} means "absent" (a missing optional value); {"", 0} is empty.
typedef struct modkit_str {
   const char *data;
   size_t size;
} modkit_str;

// Wraps a NUL-terminated string; NULL gives the absent string.
// [thread-safe]
static inline modkit_str modkit_str_from_cstr(const char *s) {
   modkit_str r = {s, 0};
   if (s) {
      while (s[r.size] != '\0') ++r.size;
   }
   return r;
}

// A modkit_str from a string literal, without a length scan.
#define MODKIT_STR_LIT(lit) {(lit), sizeof(lit) - 1}

MODKIT_EXTERN_C_END
