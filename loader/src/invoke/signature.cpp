// invoke/signature.cpp - parsing signature strings and checking struct descriptors.
#include "invoke/signature.hpp"

#include <modkit/str.h>

#include <fmt/format.h>

#include <algorithm>

namespace modkit::invoke {
namespace {

// C11 (5.2.4.1) guarantees 127 parameters per function (two go to user_data and call) and
// 1023 members per struct; larger descriptors cannot describe portable C.
constexpr std::size_t max_params = 125;
constexpr std::uint32_t max_fields = 1023;

// Only ASCII counts, whatever the locale.
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_identifier(std::string_view s) {
   return !s.empty() && is_name_start(s[0]) && std::all_of(s.begin(), s.end(), is_word_char);
}

// The kind of a by-value token (bool..bytes); false for anything else.
bool scalar_kind(std::string_view token, Kind &kind) {
   static constexpr Kind scalars[] = {Kind::boolean, Kind::i32, Kind::u32,  Kind::i64,  Kind::u64,
                                      Kind::f64,     Kind::str, Kind::json, Kind::bytes};
   for (Kind k : scalars) {
      if (token == kind_token(k)) {
         kind = k;
         return true;
      }
   }
   return false;
}

// The kind of a token after '*' (bool..f64, buf); false for anything else.
bool output_kind(std::string_view token, Kind &kind) {
   static constexpr Kind outputs[] = {Kind::boolean, Kind::i32, Kind::u32, Kind::i64,
                                      Kind::u64,     Kind::f64, Kind::buf};
   for (Kind k : outputs) {
      if (token == kind_token(k)) {
         kind = k;
         return true;
      }
   }
   return false;
}

// The token at pos for an error message: a run of word characters (shortened), one other
// character, or the end; bytes outside printable ASCII are shown as \xNN.
std::string describe_token(std::string_view text, std::size_t pos) {
   if (pos >= text.size()) return "end of signature";
   std::size_t end = pos + 1;
   if (is_word_char(text[pos])) {
      while (end < text.size() && is_word_char(text[end]))
         ++end;
   }
   constexpr std::size_t shown = 32;
   std::string_view token = text.substr(pos, std::min(end - pos, shown));
   std::string out = "'";
   for (char c : token) {
      auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte > 0x7e) {
         out += fmt::format("\\x{:02x}", byte);
      } else {
         out += c;
      }
   }
   out += end - pos > shown ? "...'" : "'";
   return out;
}

class Parser {
public:
   Parser(std::string_view text, const modkit_type_desc *types, std::uint32_t type_count,
          std::string &error)
       : text_(text), types_(types), type_count_(type_count), error_(error) {}

   bool run(std::vector<Param> &params) {
      if (text_.empty()) return true;
      for (;;) {
         if (params.size() == max_params) {
            return fail(pos_, fmt::format("more than {} parameters", max_params));
         }
         Param param;
         if (!parse_param(params, param)) return false;
         params.push_back(std::move(param));
         if (pos_ == text_.size()) return true;
         if (!literal(", ")) return fail(pos_, "expected ', ' or the end of the signature");
      }
   }

private:
   bool parse_param(const std::vector<Param> &earlier, Param &param) {
      const std::size_t name_at = pos_;
      if (pos_ >= text_.size() || !is_name_start(text_[pos_])) {
         return fail(pos_, "expected a parameter name");
      }
      param.name = std::string(word());
      for (const Param &p : earlier) {
         if (p.name == param.name) {
            return fail(name_at, fmt::format("duplicate parameter name '{}'", param.name));
         }
      }
      if (!literal(": ")) return fail(pos_, "expected ': ' after the parameter name");

      const std::size_t type_at = pos_;
      if (pos_ < text_.size() && text_[pos_] == '&') {
         ++pos_;
         return parse_struct(param);
      }
      if (pos_ < text_.size() && text_[pos_] == '*') {
         ++pos_;
         param.out = true;
         if (!output_kind(word(), param.kind)) {
            return fail(type_at + 1, "unknown output type; expected *bool, *i32, *u32, *i64, "
                                     "*u64, *f64 or *buf");
         }
         return true;
      }
      if (!scalar_kind(word(), param.kind)) {
         return fail(type_at, "unknown type; expected bool, i32, u32, i64, u64, f64, str, json, "
                              "bytes, &struct or *output");
      }
      return true;
   }

   bool parse_struct(Param &param) {
      const std::size_t at = pos_;
      if (pos_ >= text_.size() || !is_name_start(text_[pos_])) {
         return fail(at, "expected a struct name after '&'");
      }
      const std::string_view name = word();
      const modkit_type_desc *type = find_type(name);
      if (type == nullptr) {
         return fail(at, fmt::format("unknown struct '{}'; {}", name, known_types()));
      }
      std::string why;
      if (!check_type(*type, param.fields, why)) return fail(at, why);
      param.kind = Kind::record;
      param.type = type;
      return true;
   }

   const modkit_type_desc *find_type(std::string_view name) const {
      for (std::uint32_t i = 0; i < type_count_; ++i) {
         if (types_[i].name != nullptr && name == types_[i].name) return &types_[i];
      }
      return nullptr;
   }

   std::string known_types() const {
      std::string names;
      for (std::uint32_t i = 0; i < type_count_; ++i) {
         if (types_[i].name == nullptr) continue;
         names += names.empty() ? "" : ", ";
         names += types_[i].name;
      }
      return names.empty() ? "the category has no structs" : "the category's structs are " + names;
   }

   std::string_view word() {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && is_word_char(text_[pos_]))
         ++pos_;
      return text_.substr(start, pos_ - start);
   }

   bool literal(std::string_view expected) {
      if (text_.substr(pos_, expected.size()) != expected) return false;
      pos_ += expected.size();
      return true;
   }

   bool fail(std::size_t at, std::string_view what) {
      error_ = fmt::format("column {} ({}): {}", at + 1, describe_token(text_, at), what);
      return false;
   }

   std::string_view text_;
   const modkit_type_desc *types_;
   std::uint32_t type_count_;
   std::string &error_;
   std::size_t pos_ = 0;
};

} // namespace

const char *kind_token(Kind kind) noexcept {
   switch (kind) {
   case Kind::boolean: return "bool";
   case Kind::i32: return "i32";
   case Kind::u32: return "u32";
   case Kind::i64: return "i64";
   case Kind::u64: return "u64";
   case Kind::f64: return "f64";
   case Kind::str: return "str";
   case Kind::json: return "json";
   case Kind::bytes: return "bytes";
   case Kind::record: return "&";
   case Kind::buf: return "buf";
   }
   return "?";
}

std::size_t kind_size(Kind kind) noexcept {
   switch (kind) {
   case Kind::boolean: return sizeof(bool);
   case Kind::i32: return sizeof(std::int32_t);
   case Kind::u32: return sizeof(std::uint32_t);
   case Kind::i64: return sizeof(std::int64_t);
   case Kind::u64: return sizeof(std::uint64_t);
   case Kind::f64: return sizeof(double);
   case Kind::str:
   case Kind::json:
   case Kind::bytes: return sizeof(modkit_str);
   case Kind::record:
   case Kind::buf: return sizeof(void *);
   }
   return 0;
}

std::size_t kind_align(Kind kind) noexcept {
   switch (kind) {
   case Kind::boolean: return alignof(bool);
   case Kind::i32: return alignof(std::int32_t);
   case Kind::u32: return alignof(std::uint32_t);
   case Kind::i64: return alignof(std::int64_t);
   case Kind::u64: return alignof(std::uint64_t);
   case Kind::f64: return alignof(double);
   case Kind::str:
   case Kind::json:
   case Kind::bytes: return alignof(modkit_str);
   case Kind::record:
   case Kind::buf: return alignof(void *);
   }
   return 1;
}

bool check_type(const modkit_type_desc &type, std::vector<Field> &fields, std::string &error) {
   fields.clear();
   const char *name = type.name != nullptr ? type.name : "";
   if (!is_identifier(name)) {
      error = fmt::format("struct '{}': the name is not an identifier", name);
      return false;
   }
   if (type.size < sizeof(std::uint32_t)) {
      error = fmt::format("struct '{}': size {} leaves no room for the leading uint32_t "
                          "struct_size",
                          name, type.size);
      return false;
   }
   if (type.field_count > max_fields) {
      error = fmt::format("struct '{}': {} fields, more than C's {}", name, type.field_count,
                          max_fields);
      return false;
   }
   if (type.field_count > 0 && type.fields == nullptr) {
      error = fmt::format("struct '{}': {} fields but no field table", name, type.field_count);
      return false;
   }
   std::vector<Field> out;
   out.reserve(type.field_count);
   for (std::uint32_t i = 0; i < type.field_count; ++i) {
      const modkit_field_desc &desc = type.fields[i];
      const char *field = desc.name != nullptr ? desc.name : "";
      if (!is_identifier(field)) {
         error = fmt::format("struct '{}', field #{}: the name '{}' is not an identifier", name, i,
                             field);
         return false;
      }
      Kind kind{};
      if (desc.type == nullptr || !scalar_kind(desc.type, kind)) {
         error = fmt::format("struct '{}', field '{}': type '{}' is not one of bool, i32, u32, "
                             "i64, u64, f64, str, json, bytes",
                             name, field, desc.type != nullptr ? desc.type : "");
         return false;
      }
      const std::uint64_t end = std::uint64_t{desc.offset} + kind_size(kind);
      if (desc.offset < sizeof(std::uint32_t)) {
         error = fmt::format("struct '{}', field '{}': offset {} overlaps struct_size", name, field,
                             desc.offset);
         return false;
      }
      if (desc.offset % kind_align(kind) != 0) {
         error = fmt::format("struct '{}', field '{}': offset {} is not a multiple of {}", name,
                             field, desc.offset, kind_align(kind));
         return false;
      }
      if (end > type.size) {
         error = fmt::format("struct '{}', field '{}': ends at {}, past the struct's size {}", name,
                             field, end, type.size);
         return false;
      }
      for (const Field &f : out) {
         if (f.name == field) {
            error = fmt::format("struct '{}': duplicate field '{}'", name, field);
            return false;
         }
         const bool apart = end <= f.offset || f.offset + kind_size(f.kind) <= desc.offset;
         if (!apart) {
            error = fmt::format("struct '{}': fields '{}' and '{}' overlap", name, f.name, field);
            return false;
         }
      }
      out.push_back(Field{field, kind, desc.offset});
   }
   fields = std::move(out);
   return true;
}

bool parse_signature(std::string_view text, const modkit_type_desc *types, std::uint32_t type_count,
                     std::vector<Param> &out, std::string &error) {
   out.clear();
   if (type_count > 0 && types == nullptr) {
      error = fmt::format("the category lists {} structs but has no type table", type_count);
      return false;
   }
   std::vector<Param> params;
   if (!Parser(text, types, type_count, error).run(params)) return false;
   out = std::move(params);
   return true;
}

} // namespace modkit::invoke
