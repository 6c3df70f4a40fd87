// modkit/manifest.h - the static manifest every module embeds as an ELF note.
//
// Tools and the loader read it from the file without running any module code; it survives
// strip because it lives in a PT_NOTE segment. The note's owner is "modkit", its type
// MODKIT_NOTE_TYPE_MANIFEST, and its descriptor is NUL-terminated JSON text:
//   {"name":..., "version":..., "abi":"1.0", "sdk":..., "compiler":..., "registers":"a,b"}
// "registers" is a comma-separated list of the category IDs the module may register; the
// loader refuses a registration into a category not listed there.
#pragma once

#include "module.h"
#include "private/macros.h"
#include "version.h"

#define MODKIT_NOTE_OWNER "modkit"
#define MODKIT_NOTE_TYPE_MANIFEST 0x4d4b0001u /* "MK", manifest format 1 */

#if defined(__clang__) || defined(__GNUC__)
#   define MODKIT_COMPILER_TAG __VERSION__
#else
#   define MODKIT_COMPILER_TAG "unknown"
#endif

// clang's AddressSanitizer pads instrumented globals with a redzone and aligns them to 32,
// which would leave zero bytes inside the note section and break its 4-byte record chain.
// (GCC leaves globals in named sections alone.)
#if defined(__clang__)
#   define MODKIT_NOTE_UNSANITIZED __attribute__((no_sanitize("address")))
#else
#   define MODKIT_NOTE_UNSANITIZED
#endif

// The manifest JSON for a module. Every argument is a string literal without '"' or '\'.
#define MODKIT_MANIFEST_JSON(name, version, sdk, registers)                                   \
   "{\"name\":\"" name "\",\"version\":\"" version "\",\"abi\":\"" MODKIT_ABI_VERSION_STRING \
   "\",\"sdk\":\"" sdk "\",\"compiler\":\"" MODKIT_COMPILER_TAG "\",\"registers\":\"" registers "\"}"

// The note record; 4-byte words only, so no padding creeps in (the descriptor is padded to 4).
#define MODKIT_MANIFEST_NOTE_TYPE(json)       \
   struct {                                   \
      uint32_t namesz, descsz, type;          \
      char owner[8];                          \
      char desc[(sizeof(json) + 3u) & ~3u];   \
   }

#define MODKIT_MANIFEST_NOTE_DEFINE(symbol, json)                                      \
   __attribute__((section(".note.modkit"), aligned(4), used)) MODKIT_NOTE_UNSANITIZED    \
   static const MODKIT_MANIFEST_NOTE_TYPE(json) symbol = {                              \
      sizeof(MODKIT_NOTE_OWNER), sizeof(json), MODKIT_NOTE_TYPE_MANIFEST, MODKIT_NOTE_OWNER, json}

// Declares a C module: embeds the manifest and defines modkit_module_entry returning
// descriptor (a const modkit_module object). registers lists the category IDs, comma-separated.
//   MODKIT_DECLARE_MODULE(my_module, "my_module", "1.0.0", "modkit.spam_checker");
#define MODKIT_DECLARE_MODULE(descriptor, name, version, registers) \
   MODKIT_DECLARE_MODULE_SDK(descriptor, name, version, "c-" MODKIT_ABI_VERSION_STRING, registers)

// The same, naming the SDK that built the module (the C++ SDK passes its own tag).
#define MODKIT_DECLARE_MODULE_SDK(descriptor, name, version, sdk, registers)                 \
   MODKIT_MANIFEST_NOTE_DEFINE(modkit_manifest_note_,                                        \
                               MODKIT_MANIFEST_JSON(name, version, sdk, registers));         \
   MODKIT_EXTERN_C_BEGIN                                                                     \
   MODKIT_EXPORT const modkit_module *modkit_module_entry(uint16_t host_abi_major,           \
                                                          uint16_t host_abi_minor);          \
   MODKIT_EXTERN_C_END                                                                       \
   MODKIT_EXTERN_C_BEGIN                                                                     \
   MODKIT_EXPORT const modkit_module *modkit_module_entry(uint16_t host_abi_major,           \
                                                          uint16_t host_abi_minor) {         \
      (void)host_abi_minor;                                                                  \
      return host_abi_major == MODKIT_ABI_VERSION_MAJOR ? &(descriptor) : (const modkit_module *)0; \
   }                                                                                         \
   MODKIT_EXTERN_C_END                                                                       \
   typedef int modkit_declare_module_requires_semicolon_
