// tests/invoke/all_types.hpp - a test category whose slots use every type of the grammar.
#pragma once

#include <modkit/modkit.h>

#include <cstddef>
#include <cstdint>

namespace modkit::invoke::test {

// A struct with one field of every scalar type, in an order that leaves padding.
struct AllTypes {
   std::uint32_t struct_size;
   bool b;
   std::int64_t i64;
   std::int32_t i32;
   modkit_str s;
   std::uint32_t u32;
   double f64;
   std::uint64_t u64;
   modkit_str j;
   modkit_str raw;
};

using every_fn = modkit_status (*)(void *user_data, modkit_call *call, bool b, std::int32_t i,
                                   std::uint32_t u, std::int64_t l, std::uint64_t ul, double d,
                                   modkit_str s, modkit_str j, modkit_str raw, const AllTypes *rec,
                                   bool *ob, std::int32_t *oi, std::uint32_t *ou, std::int64_t *ol,
                                   std::uint64_t *oul, double *od, modkit_buffer *text);
using doubles_fn = modkit_status (*)(void *user_data, modkit_call *call, double d0, double d1,
                                     double d2, double d3, double d4, double d5, double d6,
                                     double d7, double d8, double d9, std::int32_t n, double *sum);
using none_fn = modkit_status (*)(void *user_data, modkit_call *call);
using status_fn = modkit_status (*)(void *user_data, modkit_call *call, std::int32_t status);

enum : std::uint32_t { SLOT_EVERY = 0, SLOT_DOUBLES, SLOT_NONE, SLOT_STATUS, SLOT_COUNT };

#define MODKIT_TEST_FIELD_(field, type)                                                            \
   { #field, type, static_cast < std::uint32_t>(offsetof(AllTypes, field)) }

inline const modkit_category &all_types_category() {
   static const modkit_field_desc fields[] = {
      MODKIT_TEST_FIELD_(b, "bool"),    MODKIT_TEST_FIELD_(i64, "i64"),
      MODKIT_TEST_FIELD_(i32, "i32"),   MODKIT_TEST_FIELD_(s, "str"),
      MODKIT_TEST_FIELD_(u32, "u32"),   MODKIT_TEST_FIELD_(f64, "f64"),
      MODKIT_TEST_FIELD_(u64, "u64"),   MODKIT_TEST_FIELD_(j, "json"),
      MODKIT_TEST_FIELD_(raw, "bytes"),
   };
   static const modkit_type_desc types[] = {
      {"all_types", sizeof(AllTypes), 9, fields},
   };
   // Offsets are those of a callbacks struct {struct_size; fn[4]}; the invoker never reads them.
   static const modkit_slot_desc slots[] = {
      {"every", 8, 0, 0,
       "b: bool, i: i32, u: u32, l: i64, ul: u64, d: f64, s: str, j: json, raw: bytes, "
       "rec: &all_types, ob: *bool, oi: *i32, ou: *u32, ol: *i64, oul: *u64, od: *f64, "
       "text: *buf",
       MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
      {"doubles", 16, 0, 0,
       "d0: f64, d1: f64, d2: f64, d3: f64, d4: f64, d5: f64, d6: f64, d7: f64, d8: f64, "
       "d9: f64, n: i32, sum: *f64",
       MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
      {"none", 24, 0, 0, "", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
      {"status", 32, 0, 0, "status: i32", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE,
       nullptr, -1, 0},
   };
   static const modkit_category category = {
      sizeof(modkit_category), 1, 0, "test.all_types", 40, SLOT_COUNT, slots, 1, 0, types,
   };
   return category;
}

#undef MODKIT_TEST_FIELD_

} // namespace modkit::invoke::test
