// invoke/bind.cpp - JSON arguments to C values in a Frame (Invoker::bind).
#include "invoke/invoker.hpp"

#include "invoke/state.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>
#include <string_view>

namespace modkit::invoke {
namespace {

using json = nlohmann::json;
using detail::Cell;

// Well-formed UTF-8: shortest forms only, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view s) {
   std::size_t i = 0;
   while (i < s.size()) {
      const auto lead = static_cast<unsigned char>(s[i]);
      if (lead < 0x80) {
         ++i;
         continue;
      }
      // The lead byte gives the length, its payload bits and the smallest code it may encode.
      std::size_t length = 4;
      std::uint32_t code = lead & 0x07u;
      std::uint32_t min = 0x10000;
      if ((lead & 0xe0) == 0xc0) {
         length = 2;
         code = lead & 0x1fu;
         min = 0x80;
      } else if ((lead & 0xf0) == 0xe0) {
         length = 3;
         code = lead & 0x0fu;
         min = 0x800;
      } else if ((lead & 0xf8) != 0xf0) {
         return false;
      }
      if (s.size() - i < length) return false;
      for (std::size_t k = 1; k < length; ++k) {
         const auto next = static_cast<unsigned char>(s[i + k]);
         if ((next & 0xc0) != 0x80) return false;
         code = (code << 6) | (next & 0x3fu);
      }
      if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
      i += length;
   }
   return true;
}

// A JSON value as an error message shows it: numbers and booleans by value, others by type.
std::string describe(const json &v) {
   switch (v.type()) {
   case json::value_t::null: return "null";
   case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
   case json::value_t::number_integer:
   case json::value_t::number_unsigned:
   case json::value_t::number_float: return "the number " + v.dump();
   case json::value_t::string: return "a string";
   case json::value_t::object: return "an object";
   case json::value_t::array: return "an array";
   case json::value_t::binary: return "binary data";
   case json::value_t::discarded: return "a discarded value";
   }
   return "an unknown value";
}

std::string expected(std::string_view what, const json &v) {
   return fmt::format("expected {}, got {}", what, describe(v));
}

// The values an integer kind holds.
struct Range {
   std::int64_t lo;
   std::uint64_t hi;
};

Range range_of(Kind kind) {
   switch (kind) {
   case Kind::i32:
      return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
   case Kind::u32: return {0, std::numeric_limits<std::uint32_t>::max()};
   case Kind::i64:
      return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
   default: return {0, std::numeric_limits<std::uint64_t>::max()};
   }
}

bool to_integer(Kind kind, const json &v, Cell &cell, std::string &why) {
   if (!v.is_number_integer()) { // true for number_unsigned as well
      why = expected("an integer", v);
      return false;
   }
   // Negative values as int64, the others as uint64, so that no value is misread.
   const bool negative = !v.is_number_unsigned() && v.get<std::int64_t>() < 0;
   const std::int64_t s = negative ? v.get<std::int64_t>() : 0;
   const std::uint64_t u = negative ? 0 : v.get<std::uint64_t>();
   const Range range = range_of(kind);
   if (negative ? s < range.lo : u > range.hi) {
      why = fmt::format("{} is out of range for {} [{}, {}]", v.dump(), kind_token(kind), range.lo,
                        range.hi);
      return false;
   }
   switch (kind) {
   case Kind::i32:
      cell.i32 = static_cast<std::int32_t>(negative ? s : static_cast<std::int64_t>(u));
      break;
   case Kind::u32: cell.u32 = static_cast<std::uint32_t>(u); break;
   case Kind::i64: cell.i64 = negative ? s : static_cast<std::int64_t>(u); break;
   default: cell.u64 = u; break;
   }
   return true;
}

// str, json and bytes: the text goes to storage and cell views it; null is the absent string.
bool to_text(Kind kind, const json &v, Cell &cell, std::string &storage, std::string &why) {
   cell.str = modkit_str{nullptr, 0};
   if (v.is_null()) return true;
   if (kind == Kind::json) {
      if (v.is_binary() || v.is_discarded()) {
         why = expected("a JSON value", v);
         return false;
      }
      try {
         storage = v.dump();
      } catch (const json::type_error &) { // dump refuses strings that are not UTF-8
         why = "the value holds a string that is not valid UTF-8";
         return false;
      }
   } else if (v.is_string()) {
      const std::string &text = v.get_ref<const std::string &>();
      if (kind == Kind::str && !valid_utf8(text)) {
         why = "the string is not valid UTF-8";
         return false;
      }
      storage.assign(text);
   } else if (kind == Kind::bytes && v.is_binary()) {
      const json::binary_t &bytes = v.get_binary();
      storage.assign(reinterpret_cast<const char *>(bytes.data()), bytes.size());
   } else {
      why = expected(kind == Kind::bytes ? "a string, binary data or null" : "a string or null", v);
      return false;
   }
   cell.str = modkit_str{storage.data(), storage.size()};
   return true;
}

// Any scalar kind (boolean..bytes). storage holds the text of the text kinds; else unused.
bool to_scalar(Kind kind, const json &v, Cell &cell, std::string *storage, std::string &why) {
   switch (kind) {
   case Kind::boolean:
      if (!v.is_boolean()) {
         why = expected("true or false", v);
         return false;
      }
      cell.b = v.get<bool>();
      return true;
   case Kind::f64:
      if (!v.is_number()) {
         why = expected("a number", v);
         return false;
      }
      cell.f64 = v.get<double>();
      return true;
   case Kind::str:
   case Kind::json:
   case Kind::bytes: return to_text(kind, v, cell, *storage, why);
   default: return to_integer(kind, v, cell, why);
   }
}

std::string field_names(const Param &p) {
   std::string names;
   for (const Field &f : p.fields)
      names += (names.empty() ? "" : ", ") + f.name;
   return names.empty() ? "it has none" : "its fields are " + names;
}

// "&name": a JSON object of the struct's fields. A field left out stays zero (absent text,
// 0, false), as in a C designated initialiser; struct_size is the descriptor's size.
bool to_record(const Param &p, const json &v, unsigned char *base, std::string *strings,
               std::string &error) {
   if (!v.is_object()) {
      error = fmt::format("argument '{}': {}", p.name,
                          expected(fmt::format("an object of struct '{}'", p.type->name), v));
      return false;
   }
   std::memset(base, 0, p.type->size);
   const std::uint32_t size = p.type->size;
   std::memcpy(base, &size, sizeof size);
   for (auto item = v.begin(); item != v.end(); ++item) {
      std::size_t text_index = 0;
      const Field *field = nullptr;
      for (const Field &f : p.fields) {
         if (f.name == item.key()) {
            field = &f;
            break;
         }
         text_index += is_text(f.kind) ? 1 : 0;
      }
      if (field == nullptr) {
         error = fmt::format("argument '{}': unknown field '{}' of struct '{}'; {}", p.name,
                             item.key(), p.type->name, field_names(p));
         return false;
      }
      Cell cell{};
      std::string why;
      std::string *storage = is_text(field->kind) ? &strings[text_index] : nullptr;
      if (!to_scalar(field->kind, item.value(), cell, storage, why)) {
         error = fmt::format("argument '{}', field '{}': {}", p.name, field->name, why);
         return false;
      }
      std::memcpy(base + field->offset, &cell, kind_size(field->kind));
   }
   return true;
}

std::string input_names(const std::vector<Param> &params) {
   std::string names;
   for (const Param &p : params) {
      if (!p.out) names += (names.empty() ? "" : ", ") + p.name;
   }
   return names;
}

// For arguments given by name: every key must be an input parameter.
bool check_names(const std::vector<Param> &params, const json &args, std::string &error) {
   for (auto item = args.begin(); item != args.end(); ++item) {
      const Param *param = nullptr;
      for (const Param &p : params) {
         if (p.name == item.key()) param = &p;
      }
      if (param == nullptr) {
         const std::string names = input_names(params);
         error = fmt::format("unknown argument '{}'; {}", item.key(),
                             names.empty() ? "the slot takes none" : "the arguments are " + names);
         return false;
      }
      if (param->out) {
         error = fmt::format("argument '{}' is an output and takes no value", item.key());
         return false;
      }
   }
   return true;
}

} // namespace

bool Invoker::bind(const json &args, Frame &frame, std::string &error) const {
   frame.bound_ = false;
   if (!state_) {
      error = "the invoker is not prepared";
      return false;
   }
   const detail::State &s = *state_;
   if (frame.layout_ != s.id) {
      // First bind for this slot: size everything once; later binds reuse it. The frame claims
      // the layout only once it holds it, in case an allocation throws on the way.
      frame.layout_ = 0;
      frame.cells_.assign(s.params.size() + 2, Cell{});
      frame.args_.resize(frame.cells_.size());
      for (std::size_t i = 0; i < frame.cells_.size(); ++i)
         frame.args_[i] = &frame.cells_[i];
      frame.strings_.resize(s.string_count);
      frame.structs_.assign(s.struct_units, std::max_align_t{});
      frame.outputs_.assign(s.output_count, Cell{});
      frame.buffers_.resize(s.buffer_count);
      frame.layout_ = s.id;
   }

   const bool by_name = args.is_object();
   if (by_name) {
      if (!check_names(s.params, args, error)) return false;
   } else if (!args.is_array()) {
      error = expected("the arguments as an object or an array", args);
      return false;
   } else if (args.size() != s.input_count) {
      const std::string names = input_names(s.params);
      error = fmt::format("expected {} argument{}{}, got {}", s.input_count,
                          s.input_count == 1 ? "" : "s", names.empty() ? "" : " (" + names + ")",
                          args.size());
      return false;
   }

   std::size_t position = 0;
   for (std::size_t i = 0; i < s.params.size(); ++i) {
      const Param &p = s.params[i];
      const detail::Place &place = s.places[i];
      Cell &cell = frame.cells_[i + 2];
      if (p.kind == Kind::buf) {
         cell.ptr = buffer_handle(frame.buffers_[place.index]);
         continue;
      }
      if (p.out) {
         cell.ptr = &frame.outputs_[place.index];
         continue;
      }
      const json *value = nullptr;
      if (by_name) {
         const auto found = args.find(p.name);
         if (found == args.end()) {
            error = fmt::format("missing argument '{}'", p.name);
            return false;
         }
         value = &*found;
      } else {
         value = &args[position++];
      }
      if (p.kind == Kind::record) {
         auto *base = reinterpret_cast<unsigned char *>(frame.structs_.data() + place.index);
         if (!to_record(p, *value, base, frame.strings_.data() + place.first_string, error)) {
            return false;
         }
         cell.ptr = base;
         continue;
      }
      std::string why;
      std::string *storage = is_text(p.kind) ? &frame.strings_[place.index] : nullptr;
      if (!to_scalar(p.kind, *value, cell, storage, why)) {
         error = fmt::format("argument '{}': {}", p.name, why);
         return false;
      }
   }
   if (!frame.outputs_.empty()) {
      std::memset(frame.outputs_.data(), 0, frame.outputs_.size() * sizeof(Cell));
   }
   for (Buffer &buffer : frame.buffers_)
      buffer.bytes.clear();
   frame.bound_ = true;
   return true;
}

} // namespace modkit::invoke
