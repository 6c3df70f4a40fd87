#include "abi_json.hpp"

#include <limits>
#include <type_traits>

namespace modkit::cli {
namespace {

using nlohmann::json;

// A value at a JSON pointer, so errors say where the document is wrong.
class Reader {
public:
   Reader(const json &value, std::string pointer) : value_(value), pointer_(std::move(pointer)) {}

   Reader at(const char *key) const {
      if (!value_.is_object()) fail("an object");
      const auto it = value_.find(key);
      if (it == value_.end()) throw AbiFormatError(pointer_ + ": missing key \"" + key + "\"");
      return Reader(*it, pointer_ + "/" + key);
   }
   bool has(const char *key) const { return value_.is_object() && value_.contains(key) && !value_[key].is_null(); }

   std::string string() const {
      if (!value_.is_string()) fail("a string");
      return value_.get<std::string>();
   }
   bool boolean() const {
      if (!value_.is_boolean()) fail("true or false");
      return value_.get<bool>();
   }
   template <class T>
   T integer() const {
      static_assert(std::is_integral_v<T>);
      if (!value_.is_number_integer()) fail("an integer");
      if constexpr (std::is_unsigned_v<T>) {
         if (value_.is_number_unsigned()) {
            const auto v = value_.get<uint64_t>();
            if (v <= std::numeric_limits<T>::max()) return static_cast<T>(v);
         }
         fail("an integer from 0 to " + std::to_string(std::numeric_limits<T>::max()));
      } else {
         if (value_.is_number_unsigned() && value_.get<uint64_t>() > uint64_t(std::numeric_limits<T>::max()))
            fail("an integer no larger than " + std::to_string(std::numeric_limits<T>::max()));
         const auto v = value_.get<int64_t>();
         if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
            fail("an integer from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
                 std::to_string(std::numeric_limits<T>::max()));
         return static_cast<T>(v);
      }
   }
   // Calls f(Reader) for each element of an array.
   template <class F>
   void each(F &&f) const {
      if (!value_.is_array()) fail("an array");
      for (size_t i = 0; i < value_.size(); ++i) f(Reader(value_[i], pointer_ + "/" + std::to_string(i)));
   }

private:
   [[noreturn]] void fail(const std::string &expected) const {
      throw AbiFormatError((pointer_.empty() ? std::string("the document") : pointer_) + ": expected " +
                           expected + ", found " + std::string(value_.type_name()));
   }
   const json &value_;
   std::string pointer_;
};

json field_json(const FieldInfo &f) {
   return {{"name", f.name}, {"type", f.type}, {"offset", f.offset}, {"size", f.size}};
}

json struct_json(const StructInfo &s) {
   json fields = json::array();
   for (const FieldInfo &f : s.fields) fields.push_back(field_json(f));
   return {{"name", s.name},           {"header", s.header},
           {"size", s.size},           {"alignment", s.alignment},
           {"size_prefixed", s.size_prefixed}, {"fields", std::move(fields)}};
}

json category_json(const CategoryInfo &c) {
   json slots = json::array();
   for (const SlotInfo &s : c.slots) {
      slots.push_back({{"name", s.name},
                       {"index", s.index},
                       {"offset", s.offset},
                       {"signature", s.signature},
                       {"since", s.since},
                       {"combine", s.combine},
                       {"on_error", s.on_error},
                       {"chain_to", s.chain_to.empty() ? json(nullptr) : json(s.chain_to)},
                       {"out_max", s.out_max}});
   }
   json types = json::array();
   for (const TypeInfo &t : c.types) {
      json fields = json::array();
      for (const TypeFieldInfo &f : t.fields) fields.push_back({{"name", f.name}, {"type", f.type}, {"offset", f.offset}});
      types.push_back({{"name", t.name}, {"size", t.size}, {"fields", std::move(fields)}});
   }
   return {{"id", c.id},
           {"major", c.major},
           {"minor", c.minor},
           {"version", std::to_string(c.major) + "." + std::to_string(c.minor)},
           {"callbacks_size", c.callbacks_size},
           {"slots", std::move(slots)},
           {"types", std::move(types)}};
}

StructInfo read_struct(const Reader &r) {
   StructInfo s;
   s.name = r.at("name").string();
   s.header = r.at("header").string();
   s.size = r.at("size").integer<uint64_t>();
   s.alignment = r.at("alignment").integer<uint64_t>();
   s.size_prefixed = r.at("size_prefixed").boolean();
   r.at("fields").each([&](const Reader &f) {
      s.fields.push_back(FieldInfo{f.at("name").string(), f.at("type").string(), f.at("offset").integer<uint64_t>(),
                                   f.at("size").integer<uint64_t>()});
   });
   return s;
}

NamedType read_named(const Reader &r, bool function) {
   return NamedType{r.at("name").string(), r.at("header").string(), function ? r.at("type").string() : ""};
}

CategoryInfo read_category(const Reader &r) {
   CategoryInfo c;
   c.id = r.at("id").string();
   c.major = r.at("major").integer<uint32_t>();
   c.minor = r.at("minor").integer<uint32_t>();
   c.callbacks_size = r.at("callbacks_size").integer<uint32_t>();
   r.at("slots").each([&](const Reader &s) {
      SlotInfo slot;
      slot.name = s.at("name").string();
      slot.index = s.at("index").integer<uint32_t>();
      slot.offset = s.at("offset").integer<uint32_t>();
      slot.signature = s.at("signature").string();
      slot.since = s.at("since").integer<uint32_t>();
      slot.combine = s.at("combine").string();
      slot.on_error = s.at("on_error").string();
      slot.chain_to = s.has("chain_to") ? s.at("chain_to").string() : "";
      slot.out_max = s.at("out_max").integer<int32_t>();
      c.slots.push_back(std::move(slot));
   });
   r.at("types").each([&](const Reader &t) {
      TypeInfo type{t.at("name").string(), t.at("size").integer<uint32_t>(), {}};
      t.at("fields").each([&](const Reader &f) {
         type.fields.push_back(TypeFieldInfo{f.at("name").string(), f.at("type").string(), f.at("offset").integer<uint32_t>()});
      });
      c.types.push_back(std::move(type));
   });
   return c;
}

} // namespace

json abi_to_json(const AbiModel &m) {
   json doc;
   doc["format"] = abi_format;
   doc["abi"] = {{"major", m.abi_major},
                 {"minor", m.abi_minor},
                 {"version", std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor)}};
   doc["modkit_version"] = m.modkit_version;
   doc["target"] = {{"elf_class", m.target.elf_class},
                    {"machine", m.target.machine},
                    {"pointer_size", m.target.pointer_size},
                    {"byte_order", m.target.byte_order}};
   doc["structs"] = json::array();
   for (const StructInfo &s : m.structs) doc["structs"].push_back(struct_json(s));
   doc["opaque_types"] = json::array();
   for (const NamedType &t : m.opaque_types) doc["opaque_types"].push_back({{"name", t.name}, {"header", t.header}});
   doc["function_types"] = json::array();
   for (const NamedType &t : m.function_types)
      doc["function_types"].push_back({{"name", t.name}, {"header", t.header}, {"type", t.type}});
   doc["constants"] = json::array();
   for (const ConstantInfo &c : m.constants)
      doc["constants"].push_back({{"name", c.name}, {"group", c.group}, {"value", c.value}});
   doc["categories"] = json::array();
   for (const CategoryInfo &c : m.categories) doc["categories"].push_back(category_json(c));
   if (m.runtime) {
      doc["runtime"] = json::array();
      for (const RuntimeVersion &v : *m.runtime)
         doc["runtime"].push_back({{"family", v.family}, {"highest", v.highest}, {"library", v.library}});
   } else {
      doc["runtime"] = nullptr;
   }
   return doc;
}

std::string abi_to_text(const AbiModel &model) { return abi_to_json(model).dump(2) + "\n"; }

AbiModel abi_from_json(const json &doc) {
   const Reader r(doc, "");
   const std::string format = r.at("format").string();
   if (format != abi_format)
      throw AbiFormatError("/format: expected \"" + std::string(abi_format) + "\", found \"" + format + "\"");
   AbiModel m;
   m.abi_major = r.at("abi").at("major").integer<uint32_t>();
   m.abi_minor = r.at("abi").at("minor").integer<uint32_t>();
   m.modkit_version = r.at("modkit_version").string();
   const Reader t = r.at("target");
   m.target = TargetInfo{t.at("elf_class").integer<unsigned>(), t.at("machine").integer<unsigned>(),
                         t.at("pointer_size").integer<unsigned>(), t.at("byte_order").string()};
   r.at("structs").each([&](const Reader &s) { m.structs.push_back(read_struct(s)); });
   r.at("opaque_types").each([&](const Reader &o) { m.opaque_types.push_back(read_named(o, false)); });
   r.at("function_types").each([&](const Reader &f) { m.function_types.push_back(read_named(f, true)); });
   r.at("constants").each([&](const Reader &c) {
      m.constants.push_back(ConstantInfo{c.at("name").string(), c.at("group").string(), c.at("value").integer<int64_t>()});
   });
   r.at("categories").each([&](const Reader &c) { m.categories.push_back(read_category(c)); });
   if (r.has("runtime")) {
      std::vector<RuntimeVersion> runtime;
      r.at("runtime").each([&](const Reader &v) {
         runtime.push_back(RuntimeVersion{v.at("family").string(), v.at("highest").string(), v.at("library").string()});
      });
      m.runtime = std::move(runtime);
   }
   return m;
}

} // namespace modkit::cli
