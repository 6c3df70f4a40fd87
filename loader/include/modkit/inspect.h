// modkit/inspect.h - what a module file is and whether it would load, read without running any
// of it: the facts and verdicts behind the loader's inspect stage, for tools and hosts that
// want them before (or instead of) loading. Nothing from the file is mapped or executed: the
// file is read with pread and parsed by the loader's bounds-checked ELF reader.
//
// Answers are JSON documents written into a caller-owned modkit_buffer (modkit_loader_buffer_*
// in modkit/loader.h); the keys are in docs/host-integration.md. Neither function keeps any
// pointer it was given after it returns.
#pragma once

#include <modkit/loader.h>

MODKIT_EXTERN_C_BEGIN

// What modkit_inspect_file judges besides the file itself; bits of modkit_inspect_options.judge.
enum {
   // The ELF identity against elf_class, machine and byte_order instead of this process's.
   MODKIT_INSPECT_TARGET = 1u << 0,
   // The manifest's ABI version against abi instead of this loader's.
   MODKIT_INSPECT_ABI = 1u << 1,
   // The manifest's "registers" against categories: each declared category the host lacks is a
   // "manifest.registers" finding, which the loader refuses at its inspect stage.
   MODKIT_INSPECT_CATEGORIES = 1u << 2,
   // The C and C++ runtime versions the file needs against runtime.
   MODKIT_INSPECT_RUNTIME = 1u << 3,
};

// The newest symbol version one runtime family of the host defines.
typedef struct modkit_inspect_runtime {
   const char *family;  // "GLIBC", "GLIBCXX", "CXXABI" or "GCC"
   const char *highest; // e.g. "2.36"
} modkit_inspect_runtime;

// The host a file is judged against. Zero-initialise it, set struct_size, then the bits of
// judge and the fields they name; fields whose bit is clear are not read.
typedef struct modkit_inspect_options {
   uint32_t struct_size; // sizeof(modkit_inspect_options)
   uint32_t judge;       // MODKIT_INSPECT_* bits

   // MODKIT_INSPECT_TARGET: ELFCLASS32/ELFCLASS64, EM_*, ELFDATA2LSB/ELFDATA2MSB.
   uint32_t elf_class;
   uint32_t machine;
   uint32_t byte_order;

   // MODKIT_INSPECT_ABI: the host's ABI version, "MAJOR.MINOR" (NUL-terminated), read with the
   // loader's own grammar. Borrowed for the call.
   const char *abi;

   // MODKIT_INSPECT_CATEGORIES: the IDs of the categories the host provides (NUL-terminated);
   // category_count may be 0 for a host that provides none. Borrowed for the call.
   const char *const *categories;
   size_t category_count;

   // MODKIT_INSPECT_RUNTIME: the host's runtime families. A family the file needs but the host
   // does not list is noted, not judged. Borrowed for the call.
   const modkit_inspect_runtime *runtime;
   size_t runtime_count;
} modkit_inspect_options;

// Reads the module file at path (NUL-terminated) and writes its report into out_json, replacing
// what it held: {"file", "error", "elf", "versions", "exports", "manifest", "findings", "abi",
// "runtime"}. A file that cannot be opened or parsed, or that the loader would refuse, still
// gets a report (status MODKIT_OK) saying why: in "error" and "findings", each finding with its
// check ID, subject, expected, found and whether the loader refuses the file for it. options may
// be NULL: this process's target and ABI, categories and runtime not judged.
// Returns MODKIT_E_INVALID_ARGUMENT for a NULL path or out_json, or options whose struct_size
// is too small, whose abi is not "MAJOR.MINOR" or that name an array they do not pass (out_json
// is then left as it was); MODKIT_E_NO_MEMORY when out of memory.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_inspect_file(const char *path, const modkit_inspect_options *options,
                                                    modkit_buffer *out_json);

// Writes this process as a host into out_json, replacing what it held: {"abi": {"major",
// "minor"}, "target": {"elf_class", "machine", "pointer_size", "byte_order"}, "runtime":
// [{"family", "highest", "library"}]}, the runtimes being the newest symbol version each C and
// C++ runtime library loaded into this process defines (read once per process).
// Returns MODKIT_E_INVALID_ARGUMENT for a NULL out_json; MODKIT_E_NO_MEMORY when out of memory.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_inspect_host(modkit_buffer *out_json);

MODKIT_EXTERN_C_END
