// abi_model.hpp - the ABI description `modkit abi dump` writes and `abi diff` and `compat`
// read: plain data, independent of the headers it was made from, so that descriptions of two
// different builds can be held and compared in one process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modkit::cli {

struct FieldInfo {
   std::string name;
   std::string type; // C spelling, e.g. "const char *", "int32_t (*)(void *, modkit_call *)"
   uint64_t offset = 0;
   uint64_t size = 0;
};

struct StructInfo {
   std::string name;
   std::string header; // e.g. "modkit/host.h"
   uint64_t size = 0;
   uint64_t alignment = 0;
   // The first field is uint32_t struct_size: the struct may grow at its end.
   bool size_prefixed = false;
   std::vector<FieldInfo> fields;
};

// An opaque handle or a function pointer type: only its name (and a function type's
// signature) is part of the ABI.
struct NamedType {
   std::string name;
   std::string header;
   std::string type; // function types only: the pointer type's C spelling
};

struct ConstantInfo {
   std::string name;
   std::string group; // the typedef it is a value of, e.g. "modkit_status"
   int64_t value = 0;
};

struct SlotInfo {
   std::string name;
   uint32_t index = 0;
   uint32_t offset = 0;
   std::string signature;
   uint32_t since = 0; // the category minor that added it
   std::string combine;  // "first_non_zero", "all_true", ...
   std::string on_error; // "fail_open", "fail_closed", "propagate"
   std::string chain_to; // "" when none
   int32_t out_max = -1;
};

struct TypeFieldInfo {
   std::string name;
   std::string type; // a scalar of the signature grammar
   uint32_t offset = 0;
};

// A struct a category passes by pointer ("&name" in signatures).
struct TypeInfo {
   std::string name;
   uint32_t size = 0;
   std::vector<TypeFieldInfo> fields;
};

struct CategoryInfo {
   std::string id;
   uint32_t major = 0;
   uint32_t minor = 0;
   uint32_t callbacks_size = 0;
   std::vector<SlotInfo> slots;
   std::vector<TypeInfo> types;
};

// The data model and machine the description was made on.
struct TargetInfo {
   unsigned elf_class = 0;  // ELFCLASS64 / ELFCLASS32
   unsigned machine = 0;    // EM_*
   unsigned pointer_size = 0;
   std::string byte_order;  // "little" / "big"
};

// One symbol-version family the host process's C or C++ runtime defines.
struct RuntimeVersion {
   std::string family;  // "GLIBC", "GLIBCXX", "CXXABI", "GCC"
   std::string highest; // e.g. "3.4.30"
   std::string library; // the file that defines it, as the dynamic linker loaded it
};

struct AbiModel {
   uint32_t abi_major = 0;
   uint32_t abi_minor = 0;
   std::string modkit_version; // the project version that made the description
   TargetInfo target;
   std::vector<StructInfo> structs;
   std::vector<NamedType> opaque_types;
   std::vector<NamedType> function_types;
   std::vector<ConstantInfo> constants;
   std::vector<CategoryInfo> categories;
   // Only in descriptions of a running host (`modkit abi dump`); absent otherwise.
   std::optional<std::vector<RuntimeVersion>> runtime;
};

} // namespace modkit::cli
