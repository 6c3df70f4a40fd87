// The compile-time table behind `modkit abi dump`. Names come from abi/probe/abi_list.inc (also
// the source of the libabigail probe); sizes, offsets, alignments, values and type spellings
// come from the compiler, so they cannot drift from the headers.
#include "abi_table.hpp"

#include "standard_categories.hpp"
#include "this_host.hpp"
#include "type_names.hpp"

#include <modkit/all.h>
#include <modkit/loader.h>

#include <cstddef>
#include <stdexcept>

#ifndef MODKIT_VERSION_STRING
#   define MODKIT_VERSION_STRING "unknown"
#endif

namespace modkit::cli {
namespace detail {

#define MODKIT_ABI_STRUCT(type, header)                   \
   template <>                                            \
   struct named_type<type> {                              \
      static constexpr const char *name = #type;          \
   };
#define MODKIT_ABI_OPAQUE(type, header) MODKIT_ABI_STRUCT(type, header)
#include "abi_list.inc"

} // namespace detail

namespace {

std::string text(const char *s) { return s != nullptr ? s : ""; }

void add_field(std::vector<StructInfo> &structs, const char *owner, FieldInfo field) {
   // abi_list.inc lists a struct's fields right after it; anything else is a typo there.
   if (structs.empty() || structs.back().name != owner)
      throw std::logic_error("abi_list.inc: field " + field.name + " is not listed under " + owner);
   StructInfo &s = structs.back();
   if (s.fields.empty()) s.size_prefixed = field.name == "struct_size" && field.type == "uint32_t";
   s.fields.push_back(std::move(field));
}

std::vector<StructInfo> structs() {
   std::vector<StructInfo> out;
#define MODKIT_ABI_STRUCT(type, header) \
   out.push_back(StructInfo{#type, header, sizeof(type), alignof(type), false, {}});
#define MODKIT_ABI_FIELD(type, field)                                                            \
   add_field(out, #type,                                                                         \
             FieldInfo{#field, detail::type_name<decltype(type::field)>(), offsetof(type, field), \
                       sizeof(decltype(type::field))});
#include "abi_list.inc"
   return out;
}

std::vector<NamedType> opaque_types() {
   std::vector<NamedType> out;
#define MODKIT_ABI_OPAQUE(type, header) out.push_back(NamedType{#type, header, ""});
#include "abi_list.inc"
   return out;
}

std::vector<NamedType> function_types() {
   std::vector<NamedType> out;
#define MODKIT_ABI_FUNCTION_TYPE(type, header) \
   out.push_back(NamedType{#type, header, detail::type_name<type>()});
#include "abi_list.inc"
   return out;
}

std::vector<ConstantInfo> constants() {
   std::vector<ConstantInfo> out;
#define MODKIT_ABI_CONSTANT(group, name) \
   out.push_back(ConstantInfo{#name, #group, static_cast<int64_t>(name)});
#include "abi_list.inc"
   return out;
}

CategoryInfo category_info(const modkit_category &c) {
   CategoryInfo info;
   info.id = text(c.id);
   info.major = c.major;
   info.minor = c.minor;
   info.callbacks_size = c.callbacks_size;
   for (uint32_t i = 0; c.slots != nullptr && i < c.slot_count; ++i) {
      const modkit_slot_desc &s = c.slots[i];
      info.slots.push_back(SlotInfo{text(s.name), i, s.offset, text(s.signature), s.since_minor,
                                    combine_name(s.combine), on_error_name(s.on_error),
                                    text(s.chain_to), s.out_max});
   }
   for (uint32_t i = 0; c.types != nullptr && i < c.type_count; ++i) {
      const modkit_type_desc &t = c.types[i];
      TypeInfo type{text(t.name), t.size, {}};
      for (uint32_t k = 0; t.fields != nullptr && k < t.field_count; ++k)
         type.fields.push_back(TypeFieldInfo{text(t.fields[k].name), text(t.fields[k].type), t.fields[k].offset});
      info.types.push_back(std::move(type));
   }
   return info;
}

} // namespace

std::string combine_name(int32_t combine) {
   switch (combine) {
   case MODKIT_COMBINE_FIRST_NON_ZERO: return "first_non_zero";
   case MODKIT_COMBINE_ALL_TRUE: return "all_true";
   case MODKIT_COMBINE_RUN_ALL: return "run_all";
   case MODKIT_COMBINE_MERGE: return "merge";
   case MODKIT_COMBINE_SINGLE: return "single";
   case MODKIT_COMBINE_KEYED: return "keyed";
   case MODKIT_COMBINE_CHAINED: return "chained";
   default: return "unknown (" + std::to_string(combine) + ")";
   }
}

std::string on_error_name(int32_t on_error) {
   switch (on_error) {
   case MODKIT_ON_ERROR_FAIL_OPEN: return "fail_open";
   case MODKIT_ON_ERROR_FAIL_CLOSED: return "fail_closed";
   case MODKIT_ON_ERROR_PROPAGATE: return "propagate";
   default: return "unknown (" + std::to_string(on_error) + ")";
   }
}

AbiModel current_abi_model() {
   AbiModel model;
   model.abi_major = MODKIT_ABI_VERSION_MAJOR;
   model.abi_minor = MODKIT_ABI_VERSION_MINOR;
   model.modkit_version = MODKIT_VERSION_STRING;
   model.target = this_host_target();
   model.structs = structs();
   model.opaque_types = opaque_types();
   model.function_types = function_types();
   model.constants = constants();
   for (const StandardCategory &c : standard_categories()) {
      if (const modkit_category *descriptor = c.descriptor()) model.categories.push_back(category_info(*descriptor));
   }
   return model;
}

} // namespace modkit::cli
