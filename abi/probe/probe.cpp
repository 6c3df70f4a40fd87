// probe.cpp - the ABI probe: a shared library that exists only so that libabigail can see the
// ABI's types. A header-only ABI emits no debug info for types nothing uses, so this exports
// one empty function per public type (research/abi-tooling-security.md section 1.1, option a),
// all generated from abi_list.inc:
//
//   modkit_abi_probe_<struct>(<struct> *)                    the struct as a whole
//   modkit_abi_probe_<struct>_field_<field>(<field type> *, char (*)[offsetof + 1])
//   modkit_abi_probe_<handle>(<handle> *)                    opaque handles, function types
//   modkit_abi_probe_constant_<NAME>(char (*)[NAME + 1])     integer constants
//
// The per-field and per-constant functions are there because the suppression that lets
// size-prefixed structs grow (abi/baseline/abi.suppr, has_data_member_inserted_at = end) hides
// every other change to those structs in libabigail 2.2 as well: a reordered field or a
// parameter added to a function pointer member. A field's own function still changes when its
// type or offset does (the offset is the length of an array type), and constants in anonymous
// enums are reachable from no type at all, so they are encoded the same way.
#include <modkit/all.h>
#include <modkit/loader.h>

#include <cstddef>

#define MODKIT_PROBE_EXPORT extern "C" __attribute__((visibility("default"), used))

#define MODKIT_ABI_STRUCT(type, header) \
   MODKIT_PROBE_EXPORT void modkit_abi_probe_##type(type *) {}
#define MODKIT_ABI_FIELD(type, field)                                                \
   MODKIT_PROBE_EXPORT void modkit_abi_probe_##type##_field_##field(                 \
      decltype(type::field) *, char (*)[offsetof(type, field) + 1]) {}
#define MODKIT_ABI_OPAQUE(type, header) \
   MODKIT_PROBE_EXPORT void modkit_abi_probe_##type(type *) {}
#define MODKIT_ABI_FUNCTION_TYPE(type, header) \
   MODKIT_PROBE_EXPORT void modkit_abi_probe_##type(type *) {}
#define MODKIT_ABI_CONSTANT(group, name)                                                \
   static_assert((name) >= 0 && (name) < 0x10000, #name ": the probe encodes 0..65535"); \
   MODKIT_PROBE_EXPORT void modkit_abi_probe_constant_##name(char (*)[(name) + 1]) {}

#include "abi_list.inc"
