// loader_probe.cpp - the loader's ABI probe: a shared library that exists only so that
// libabigail can see the types and signatures of modkit/loader.h. The loader library itself
// will not do: the builds CI runs carry line tables only (-g1) or no debug info at all, and
// its inline read-section functions reach types no exported function names. Built from
// loader_abi_list.inc, it exports one empty function per entry:
//
//   modkit_loader_abi_probe_<struct>(<struct> *)               the struct as a whole
//   modkit_loader_abi_probe_<struct>_field_<field>(<field type> *, char (*)[offsetof + 1])
//   modkit_loader_abi_probe_<handle or function type>(<type> *)
//   modkit_loader_abi_probe_fn_<function>(<pointer to the function's type>)
//
// The per-field functions are there because the suppression that lets size-prefixed structs
// grow (abi/baseline/loader.suppr) hides every other change to them in libabigail 2.2 too; a
// field's own function still changes when its type or offset does. The per-function ones
// pin each exported function's signature; that the library still exports it is checked on
// the library itself (tests/cli/abidiff.cmake).
#include <modkit/loader.h>

#include <cstddef>

#define MODKIT_PROBE_EXPORT extern "C" __attribute__((visibility("default"), used))

#define MODKIT_LOADER_ABI_STRUCT(type) \
   MODKIT_PROBE_EXPORT void modkit_loader_abi_probe_##type(type *) {}
#define MODKIT_LOADER_ABI_FIELD(type, field)                                         \
   MODKIT_PROBE_EXPORT void modkit_loader_abi_probe_##type##_field_##field(          \
      decltype(type::field) *, char (*)[offsetof(type, field) + 1]) {}
#define MODKIT_LOADER_ABI_OPAQUE(type) MODKIT_LOADER_ABI_STRUCT(type)
#define MODKIT_LOADER_ABI_FUNCTION_TYPE(type) MODKIT_LOADER_ABI_STRUCT(type)
#define MODKIT_LOADER_ABI_FUNCTION(name) \
   MODKIT_PROBE_EXPORT void modkit_loader_abi_probe_fn_##name(decltype(&name)) {}

#include "loader_abi_list.inc"
