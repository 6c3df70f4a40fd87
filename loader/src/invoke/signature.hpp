// invoke/signature.hpp - the slot signature grammar: parsing and checking against a category.
//
// A slot's signature lists the parameters after (void *user_data, modkit_call *call) in one
// canonical spelling, so signatures compare as text (docs/signature-grammar.md):
//   signature = [ param { ", " param } ]      param = name ": " type
//   type      = scalar | "&" name | "*" output
//   scalar    = bool | i32 | u32 | i64 | u64 | f64 | str | json | bytes
//   output    = bool | i32 | u32 | i64 | u64 | f64 | buf
#pragma once

#include <modkit/category.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modkit::invoke {

// What a parameter or a struct field holds. The C type of each is in docs/signature-grammar.md.
enum class Kind : std::uint8_t {
   boolean, // bool
   i32,     // int32_t
   u32,     // uint32_t
   i64,     // int64_t
   u64,     // uint64_t
   f64,     // double
   str,     // modkit_str, UTF-8 text
   json,    // modkit_str, JSON text
   bytes,   // modkit_str, raw bytes
   record,  // const struct * ("&name"); never an output
   buf,     // modkit_buffer * ("*buf"); always an output
};

// The grammar's token for a kind ("bool", "i32", ..., "&" for record, "buf").
// [thread-safe]
const char *kind_token(Kind kind) noexcept;

// str, json and bytes: the kinds passed as a modkit_str.
// [thread-safe]
inline bool is_text(Kind kind) noexcept {
   return kind == Kind::str || kind == Kind::json || kind == Kind::bytes;
}

// sizeof and alignof of the C type a scalar kind (boolean..bytes) is passed as.
// [thread-safe]
std::size_t kind_size(Kind kind) noexcept;
std::size_t kind_align(Kind kind) noexcept;

// A field of a struct passed by pointer, resolved from its modkit_field_desc.
struct Field {
   std::string name;
   Kind kind;            // a scalar kind: boolean..bytes
   std::uint32_t offset; // within the struct; never overlaps struct_size or another field
};

// One parameter of a signature.
struct Param {
   std::string name;
   Kind kind = Kind::boolean;
   bool out = false;                       // "*T": a pointer to a host-owned, zeroed T
   const modkit_type_desc *type = nullptr; // Kind::record: borrowed from the category
   std::vector<Field> fields;              // Kind::record: the type's fields, checked
};

// Parses text and checks it against the category's structs (types[0..type_count)). On success
// fills out and returns true. On failure returns false, clears out and sets error to
// "column N (token): what was expected", e.g. column 9 ('int'): unknown type. Never fails
// for any other reason than the text or the struct descriptors: every input is handled.
// Throws only std::bad_alloc.
// [thread-safe]
bool parse_signature(std::string_view text, const modkit_type_desc *types, std::uint32_t type_count,
                     std::vector<Param> &out, std::string &error);

// Checks that a struct descriptor can be filled in safely: a name, room for the leading
// uint32_t struct_size, fields with unique identifier names, scalar types, aligned offsets,
// inside the struct and not overlapping. On success fills fields and returns true.
// [thread-safe]
bool check_type(const modkit_type_desc &type, std::vector<Field> &fields, std::string &error);

} // namespace modkit::invoke
