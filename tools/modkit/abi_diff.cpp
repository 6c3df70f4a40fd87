#include "abi_diff.hpp"

#include <fmt/format.h>

#include <set>

namespace modkit::cli {
namespace {

using Class = AbiChange::Class;

template <class T>
const T *by_name(const std::vector<T> &items, const std::string &name) {
   for (const T &item : items) {
      if (item.name == name) return &item;
   }
   return nullptr;
}

const CategoryInfo *by_id(const std::vector<CategoryInfo> &items, const std::string &id) {
   for (const CategoryInfo &item : items) {
      if (item.id == id) return &item;
   }
   return nullptr;
}

class Differ {
public:
   std::vector<AbiChange> changes;
   size_t additions = 0; // compatible additions that need a version bump

   void add(Class cls, std::string subject, std::string message) {
      changes.push_back(AbiChange{cls, std::move(subject), std::move(message)});
   }
   void added(std::string subject, std::string message) {
      ++additions;
      add(Class::compatible, std::move(subject), std::move(message));
   }

   void version(const AbiModel &o, const AbiModel &n) {
      const std::string ov = fmt::format("{}.{}", o.abi_major, o.abi_minor), nv = fmt::format("{}.{}", n.abi_major, n.abi_minor);
      if (o.abi_major != n.abi_major)
         add(Class::breaking, "ABI version",
             fmt::format("major version changed from {} to {}: every module must be rebuilt", ov, nv));
      else if (n.abi_minor > o.abi_minor)
         add(Class::compatible, "ABI version", fmt::format("minor version bumped from {} to {}", ov, nv));
      else if (n.abi_minor < o.abi_minor)
         add(Class::breaking, "ABI version",
             fmt::format("minor version went back from {} to {}: modules built for {} would load and find less", ov, nv, ov));
      if (o.target.pointer_size != n.target.pointer_size || o.target.byte_order != n.target.byte_order)
         add(Class::breaking, "target",
             fmt::format("the data model differs: {}-byte pointers, {} endian, against {}-byte pointers, {} endian",
                         o.target.pointer_size, o.target.byte_order, n.target.pointer_size, n.target.byte_order));
      else if (o.target.machine != n.target.machine || o.target.elf_class != n.target.elf_class)
         add(Class::note, "target", "the descriptions were made on different machines with the same data model");
   }

   void structs(const std::vector<StructInfo> &old_structs, const std::vector<StructInfo> &new_structs) {
      for (const StructInfo &o : old_structs) {
         if (by_name(new_structs, o.name) == nullptr) add(Class::breaking, "struct " + o.name, "removed");
      }
      for (const StructInfo &n : new_structs) {
         const StructInfo *o = by_name(old_structs, n.name);
         if (o == nullptr)
            added("struct " + n.name, fmt::format("added ({} bytes, in {})", n.size, n.header));
         else
            fields(*o, n);
      }
   }

   void fields(const StructInfo &o, const StructInfo &n) {
      const std::string subject = "struct " + n.name;
      bool size_explained = false;
      for (const FieldInfo &of : o.fields) {
         const FieldInfo *nf = by_name(n.fields, of.name);
         if (nf == nullptr) {
            add(Class::breaking, subject, fmt::format("field {} removed (was at offset {})", of.name, of.offset));
            continue;
         }
         if (nf->type != of.type)
            add(Class::breaking, subject, fmt::format("field {} retyped from {} to {}", of.name, of.type, nf->type));
         else if (nf->size != of.size)
            add(Class::breaking, subject, fmt::format("field {} changed size from {} to {} bytes", of.name, of.size, nf->size));
         if (nf->offset != of.offset)
            add(Class::breaking, subject, fmt::format("field {} moved from offset {} to {}", of.name, of.offset, nf->offset));
      }
      for (const FieldInfo &nf : n.fields) {
         if (by_name(o.fields, nf.name) != nullptr) continue;
         if (nf.offset < o.size) {
            add(Class::breaking, subject,
                fmt::format("field {} inserted at offset {}, inside the old {}-byte struct", nf.name, nf.offset, o.size));
         } else if (o.size_prefixed && n.size_prefixed) {
            added(subject, fmt::format("field {} appended at offset {} (readers check struct_size)", nf.name, nf.offset));
         } else {
            size_explained = true;
            add(Class::breaking, subject,
                fmt::format("field {} appended at offset {}, but {} has no struct_size: its size changes from {} to {} "
                            "bytes for everyone who embeds or indexes it",
                            nf.name, nf.offset, n.name, o.size, n.size));
         }
      }
      if (o.size_prefixed && !n.size_prefixed)
         add(Class::breaking, subject, "no longer starts with uint32_t struct_size");
      if (n.alignment != o.alignment)
         add(Class::breaking, subject, fmt::format("alignment changed from {} to {}", o.alignment, n.alignment));
      if (n.size < o.size)
         add(Class::breaking, subject, fmt::format("shrank from {} to {} bytes", o.size, n.size));
      else if (n.size > o.size && !o.size_prefixed && !size_explained)
         add(Class::breaking, subject,
             fmt::format("size changed from {} to {} bytes, and it has no struct_size", o.size, n.size));
   }

   void named(const char *kind, const std::vector<NamedType> &old_types, const std::vector<NamedType> &new_types) {
      for (const NamedType &o : old_types) {
         const NamedType *n = by_name(new_types, o.name);
         const std::string subject = std::string(kind) + " " + o.name;
         if (n == nullptr)
            add(Class::breaking, subject, "removed");
         else if (n->type != o.type)
            add(Class::breaking, subject, fmt::format("changed from {} to {}", o.type, n->type));
      }
      for (const NamedType &n : new_types) {
         if (by_name(old_types, n.name) == nullptr) added(std::string(kind) + " " + n.name, "added in " + n.header);
      }
   }

   void constants(const std::vector<ConstantInfo> &old_constants, const std::vector<ConstantInfo> &new_constants) {
      for (const ConstantInfo &o : old_constants) {
         const ConstantInfo *n = by_name(new_constants, o.name);
         if (n == nullptr)
            add(Class::breaking, "constant " + o.name, fmt::format("removed (was {})", o.value));
         else if (n->value != o.value)
            add(Class::breaking, "constant " + o.name, fmt::format("value changed from {} to {}", o.value, n->value));
      }
      for (const ConstantInfo &n : new_constants) {
         if (by_name(old_constants, n.name) == nullptr)
            added("constant " + n.name, fmt::format("added with value {} ({})", n.value, n.group));
      }
   }

   void categories(const std::vector<CategoryInfo> &old_categories, const std::vector<CategoryInfo> &new_categories) {
      for (const CategoryInfo &o : old_categories) {
         if (by_id(new_categories, o.id) == nullptr)
            add(Class::breaking, "category " + o.id, "removed: hosts no longer offer it");
      }
      for (const CategoryInfo &n : new_categories) {
         const CategoryInfo *o = by_id(old_categories, n.id);
         if (o == nullptr)
            added("category " + n.id, fmt::format("added (version {}.{}, {} slots)", n.major, n.minor, n.slots.size()));
         else
            category(*o, n);
      }
   }

   void category(const CategoryInfo &o, const CategoryInfo &n) {
      const std::string subject = "category " + n.id;
      const std::string ov = fmt::format("{}.{}", o.major, o.minor), nv = fmt::format("{}.{}", n.major, n.minor);
      const bool minor_grew = n.major == o.major && n.minor > o.minor;
      if (n.major != o.major)
         add(Class::breaking, subject,
             fmt::format("major version changed from {} to {}: modules registering it must be rebuilt", ov, nv));
      else if (minor_grew)
         add(Class::compatible, subject, fmt::format("minor version bumped from {} to {}", ov, nv));
      else if (n.minor < o.minor)
         add(Class::breaking, subject, fmt::format("minor version went back from {} to {}", ov, nv));
      if (n.callbacks_size < o.callbacks_size)
         add(Class::breaking, subject, fmt::format("callbacks struct shrank from {} to {} bytes", o.callbacks_size, n.callbacks_size));
      for (const SlotInfo &os : o.slots) {
         const SlotInfo *ns = by_name(n.slots, os.name);
         if (ns == nullptr) {
            add(Class::breaking, subject, fmt::format("slot {} removed", os.name));
            continue;
         }
         slot(subject, os, *ns, minor_grew);
      }
      for (const SlotInfo &ns : n.slots) {
         if (by_name(o.slots, ns.name) != nullptr) continue;
         if (ns.offset < o.callbacks_size)
            add(Class::breaking, subject,
                fmt::format("slot {} inserted at offset {}, inside the old {}-byte callbacks struct", ns.name, ns.offset,
                            o.callbacks_size));
         else if (!minor_grew || ns.since <= o.minor)
            add(Class::breaking, subject,
                fmt::format("slot {} appended, but the category version is {} and the slot's since is {}: hosts cannot "
                            "tell that an older host lacks it (bump the category minor and set since to it)",
                            ns.name, nv, ns.since));
         else
            added(subject, fmt::format("slot {} appended at offset {} (since {}.{})", ns.name, ns.offset, n.major, ns.since));
      }
      types(subject, o, n);
   }

   void slot(const std::string &subject, const SlotInfo &o, const SlotInfo &n, bool minor_grew) {
      auto changed = [&](const char *what, const std::string &from, const std::string &to) {
         add(Class::breaking, subject, fmt::format("slot {}: {} changed from {} to {}", o.name, what, from, to));
      };
      if (n.offset != o.offset) changed("offset", std::to_string(o.offset), std::to_string(n.offset));
      if (n.index != o.index) changed("index", std::to_string(o.index), std::to_string(n.index));
      if (n.signature != o.signature) changed("signature", "\"" + o.signature + "\"", "\"" + n.signature + "\"");
      if (n.since != o.since) changed("since", std::to_string(o.since), std::to_string(n.since));
      if (n.combine != o.combine) changed("combination policy", o.combine, n.combine);
      if (n.on_error != o.on_error) changed("error policy", o.on_error, n.on_error);
      if (n.chain_to != o.chain_to)
         changed("chain_to", o.chain_to.empty() ? "none" : o.chain_to, n.chain_to.empty() ? "none" : n.chain_to);
      if (n.out_max != o.out_max) {
         // A result value appended to the slot's enum is an addition, once the category says so.
         if (o.out_max >= 0 && n.out_max > o.out_max && minor_grew)
            added(subject, fmt::format("slot {}: result values up to {} (was {})", o.name, n.out_max, o.out_max));
         else
            changed("largest answer (out_max)", std::to_string(o.out_max), std::to_string(n.out_max));
      }
   }

   void types(const std::string &subject, const CategoryInfo &o, const CategoryInfo &n) {
      for (const TypeInfo &ot : o.types) {
         const TypeInfo *nt = by_name(n.types, ot.name);
         if (nt == nullptr) {
            add(Class::breaking, subject, fmt::format("type {} removed", ot.name));
            continue;
         }
         for (const TypeFieldInfo &of : ot.fields) {
            const TypeFieldInfo *nf = by_name(nt->fields, of.name);
            if (nf == nullptr)
               add(Class::breaking, subject, fmt::format("type {}: field {} removed", ot.name, of.name));
            else if (nf->type != of.type || nf->offset != of.offset)
               add(Class::breaking, subject,
                   fmt::format("type {}: field {} changed from {} at {} to {} at {}", ot.name, of.name, of.type, of.offset,
                               nf->type, nf->offset));
         }
         for (const TypeFieldInfo &nf : nt->fields) {
            if (by_name(ot.fields, nf.name) != nullptr) continue;
            if (nf.offset < ot.size)
               add(Class::breaking, subject,
                   fmt::format("type {}: field {} inserted at offset {}, inside the old {}-byte struct", ot.name, nf.name,
                               nf.offset, ot.size));
            else
               added(subject, fmt::format("type {}: field {} appended at offset {}", ot.name, nf.name, nf.offset));
         }
         if (nt->size < ot.size)
            add(Class::breaking, subject, fmt::format("type {} shrank from {} to {} bytes", ot.name, ot.size, nt->size));
      }
      for (const TypeInfo &nt : n.types) {
         if (by_name(o.types, nt.name) == nullptr) added(subject, fmt::format("type {} added", nt.name));
      }
   }
};

} // namespace

const char *class_name(AbiChange::Class cls) {
   switch (cls) {
   case Class::compatible: return "compatible";
   case Class::breaking: return "breaking";
   default: return "note";
   }
}

std::vector<AbiChange> diff_abi(const AbiModel &o, const AbiModel &n) {
   Differ d;
   d.version(o, n);
   d.structs(o.structs, n.structs);
   d.named("opaque type", o.opaque_types, n.opaque_types);
   d.named("function type", o.function_types, n.function_types);
   d.constants(o.constants, n.constants);
   d.categories(o.categories, n.categories);
   bool breaking = false;
   for (const AbiChange &c : d.changes) breaking = breaking || c.cls == Class::breaking;
   if (breaking && o.abi_major == n.abi_major)
      d.add(Class::breaking, "ABI version",
            fmt::format("incompatible changes without a major version bump (still {}.x)", n.abi_major));
   if (d.additions > 0 && o.abi_major == n.abi_major && o.abi_minor == n.abi_minor)
      d.add(Class::note, "ABI version",
            fmt::format("{} addition{} but the version is still {}.{}: bump MODKIT_ABI_VERSION_MINOR before release",
                        d.additions, d.additions == 1 ? "" : "s", n.abi_major, n.abi_minor));
   return std::move(d.changes);
}

} // namespace modkit::cli
