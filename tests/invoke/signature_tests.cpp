// The signature grammar: every type, every malformed form with its exact message, struct
// descriptors the invoker must refuse, and no input that makes the parser misbehave.
#include "all_types.hpp"
#include "invoke/invoker.hpp"
#include "invoke/signature.hpp"

#include <doctest/doctest.h>

#include <modkit/all.h>

#include <string>
#include <vector>

namespace {

using modkit::invoke::check_type;
using modkit::invoke::Field;
using modkit::invoke::Invoker;
using modkit::invoke::Kind;
using modkit::invoke::Param;
using modkit::invoke::parse_signature;

const modkit_category &spam = *modkit_spam_checker_category();

bool parse(const std::string &text, std::vector<Param> &params, std::string &error) {
   return parse_signature(text, spam.types, spam.type_count, params, error);
}

struct Good {
   const char *text;
   Kind kind;
   bool out;
   const char *type; // struct name for Kind::record
};

} // namespace

TEST_CASE("each type of the grammar parses to its kind") {
   const Good rows[] = {
      {"x: bool", Kind::boolean, false, nullptr},
      {"x: i32", Kind::i32, false, nullptr},
      {"x: u32", Kind::u32, false, nullptr},
      {"x: i64", Kind::i64, false, nullptr},
      {"x: u64", Kind::u64, false, nullptr},
      {"x: f64", Kind::f64, false, nullptr},
      {"x: str", Kind::str, false, nullptr},
      {"x: json", Kind::json, false, nullptr},
      {"x: bytes", Kind::bytes, false, nullptr},
      {"x: &event", Kind::record, false, "event"},
      {"x: &user_profile", Kind::record, false, "user_profile"},
      {"x: &media_file_info", Kind::record, false, "media_file_info"},
      {"x: *bool", Kind::boolean, true, nullptr},
      {"x: *i32", Kind::i32, true, nullptr},
      {"x: *u32", Kind::u32, true, nullptr},
      {"x: *i64", Kind::i64, true, nullptr},
      {"x: *u64", Kind::u64, true, nullptr},
      {"x: *f64", Kind::f64, true, nullptr},
      {"x: *buf", Kind::buf, true, nullptr},
   };
   for (const Good &row : rows) {
      INFO(std::string(row.text));
      std::vector<Param> params;
      std::string error;
      REQUIRE_MESSAGE(parse(row.text, params, error), error);
      REQUIRE(params.size() == 1);
      CHECK(params[0].name == "x");
      CHECK(params[0].kind == row.kind);
      CHECK(params[0].out == row.out);
      if (row.type != nullptr) {
         REQUIRE(params[0].type != nullptr);
         CHECK(std::string(params[0].type->name) == row.type);
         CHECK(params[0].fields.size() == params[0].type->field_count);
      } else {
         CHECK(params[0].type == nullptr);
         CHECK(params[0].fields.empty());
      }
   }
}

TEST_CASE("a signature lists its parameters in order") {
   std::vector<Param> params;
   std::string error;
   SUBCASE("several") {
      REQUIRE(
         parse("user_profile: &user_profile, requester_id: str, _Is_spam2: *bool", params, error));
      REQUIRE(params.size() == 3);
      CHECK(params[0].name == "user_profile");
      CHECK(params[1].name == "requester_id");
      CHECK(params[2].name == "_Is_spam2");
      CHECK(params[0].fields[2].name == "avatar_url");
      CHECK(params[0].fields[2].offset == offsetof(modkit_user_profile, avatar_url));
   }
   SUBCASE("none") {
      params.resize(2);
      REQUIRE(parse("", params, error));
      CHECK(params.empty());
   }
   SUBCASE("125, the most C guarantees with user_data and call") {
      std::string text;
      for (int i = 0; i < 125; ++i)
         text += (i ? ", p" : "p") + std::to_string(i) + ": i32";
      REQUIRE(parse(text, params, error));
      CHECK(params.size() == 125);
   }
}

TEST_CASE("a malformed signature is refused with the column and token at fault") {
   struct Bad {
      std::string text;
      std::string error;
   };
   const std::string types = "bool, i32, u32, i64, u64, f64, str, json, bytes, &struct or *output";
   std::string many;
   for (int i = 0; i < 126; ++i)
      many += (i ? ", p" : "p") + std::to_string(i) + ": i32";
   const std::vector<Bad> rows = {
      {"a", "column 2 (end of signature): expected ': ' after the parameter name"},
      {"a:str", "column 2 (':'): expected ': ' after the parameter name"},
      {"a : str", "column 2 (' '): expected ': ' after the parameter name"},
      {"a:  str", "column 4 (' '): unknown type; expected " + types},
      {"a: ", "column 4 (end of signature): unknown type; expected " + types},
      {"a: int", "column 4 ('int'): unknown type; expected " + types},
      {"a: STR", "column 4 ('STR'): unknown type; expected " + types},
      {"a: buf", "column 4 ('buf'): unknown type; expected " + types},
      {"a: str,", "column 7 (','): expected ', ' or the end of the signature"},
      {"a: str;b: i32", "column 7 (';'): expected ', ' or the end of the signature"},
      {"a: str x", "column 7 (' '): expected ', ' or the end of the signature"},
      {"a: str\n", "column 7 ('\\x0a'): expected ', ' or the end of the signature"},
      {"a: str, ", "column 9 (end of signature): expected a parameter name"},
      {"a: str,  b: i32", "column 9 (' '): expected a parameter name"},
      {", a: str", "column 1 (','): expected a parameter name"},
      {" a: str", "column 1 (' '): expected a parameter name"},
      {"1a: str", "column 1 ('1a'): expected a parameter name"},
      {"\xc3\xa9: str", "column 1 ('\\xc3'): expected a parameter name"},
      {std::string("a\0: str", 7), "column 2 ('\\x00'): expected ': ' after the parameter name"},
      {"a: str, a: i32", "column 9 ('a'): duplicate parameter name 'a'"},
      {"a: &", "column 5 (end of signature): expected a struct name after '&'"},
      {"a: & event", "column 5 (' '): expected a struct name after '&'"},
      {"a: &nope", "column 5 ('nope'): unknown struct 'nope'; the category's structs are event, "
                   "user_profile, media_file_info"},
      {"a: &Event", "column 5 ('Event'): unknown struct 'Event'; the category's structs are event, "
                    "user_profile, media_file_info"},
      {"a: *", "column 5 (end of signature): unknown output type; expected *bool, *i32, *u32, "
               "*i64, *u64, *f64 or *buf"},
      {"a: *str", "column 5 ('str'): unknown output type; expected *bool, *i32, *u32, *i64, *u64, "
                  "*f64 or *buf"},
      {"a: *&event", "column 5 ('&'): unknown output type; expected *bool, *i32, *u32, *i64, "
                     "*u64, *f64 or *buf"},
      {"a: **i32", "column 5 ('*'): unknown output type; expected *bool, *i32, *u32, *i64, *u64, "
                   "*f64 or *buf"},
      {"a: " + std::string(40, 'x'),
       "column 4 ('" + std::string(32, 'x') + "...'): unknown type; expected " + types},
      {many, "column 1266 ('p125'): more than 125 parameters"},
   };
   for (const Bad &row : rows) {
      INFO(std::string(row.text));
      std::vector<Param> params(1);
      std::string error;
      CHECK_FALSE(parse(row.text, params, error));
      CHECK(error == row.error);
      CHECK(params.empty());
   }
}

TEST_CASE("a category without structs names none") {
   std::vector<Param> params;
   std::string error;
   CHECK_FALSE(parse_signature("a: &event", nullptr, 0, params, error));
   CHECK(error == "column 5 ('event'): unknown struct 'event'; the category has no structs");
   CHECK_FALSE(parse_signature("a: &event", nullptr, 2, params, error));
   CHECK(error == "the category lists 2 structs but has no type table");
}

TEST_CASE("struct descriptors that cannot be filled safely are refused") {
   struct Wide {
      std::uint32_t struct_size;
      modkit_str a;
      std::int64_t b;
      bool c;
   };
   const auto field = [](const char *name, const char *type, std::size_t offset) {
      return modkit_field_desc{name, type, static_cast<std::uint32_t>(offset)};
   };
   struct Row {
      const char *what;
      std::vector<modkit_field_desc> fields;
      std::uint32_t size;
      const char *error;
   };
   const std::vector<Row> rows = {
      {"a size without struct_size",
       {},
       2,
       "struct 'wide': size 2 leaves no room for the leading uint32_t struct_size"},
      {"a field over struct_size",
       {field("a", "u32", 0)},
       sizeof(Wide),
       "struct 'wide', field 'a': offset 0 overlaps struct_size"},
      {"a misaligned field",
       {field("b", "i64", 4)},
       sizeof(Wide),
       "struct 'wide', field 'b': offset 4 is not a multiple of 8"},
      {"a field past the end",
       {field("c", "str", sizeof(Wide) - 8)},
       sizeof(Wide),
       "struct 'wide', field 'c': ends at 48, past the struct's size 40"},
      {"overlapping fields",
       {field("a", "str", 8), field("b", "i64", 16)},
       sizeof(Wide),
       "struct 'wide': fields 'a' and 'b' overlap"},
      {"a duplicate field",
       {field("a", "str", 8), field("a", "i64", 24)},
       sizeof(Wide),
       "struct 'wide': duplicate field 'a'"},
      {"a struct field",
       {field("a", "&event", 8)},
       sizeof(Wide),
       "struct 'wide', field 'a': type '&event' is not one of bool, i32, u32, i64, u64, f64, str, "
       "json, bytes"},
      {"an output field",
       {field("a", "*i32", 8)},
       sizeof(Wide),
       "struct 'wide', field 'a': type '*i32' is not one of bool, i32, u32, i64, u64, f64, str, "
       "json, bytes"},
      {"a field without a type",
       {field("a", nullptr, 8)},
       sizeof(Wide),
       "struct 'wide', field 'a': type '' is not one of bool, i32, u32, i64, u64, f64, str, json, "
       "bytes"},
      {"a field without a name",
       {field(nullptr, "str", 8)},
       sizeof(Wide),
       "struct 'wide', field #0: the name '' is not an identifier"},
      {"a field named like no identifier",
       {field("a b", "str", 8)},
       sizeof(Wide),
       "struct 'wide', field #0: the name 'a b' is not an identifier"},
   };
   for (const Row &row : rows) {
      INFO(std::string(row.what));
      const auto count = static_cast<std::uint32_t>(row.fields.size());
      const modkit_type_desc type = {"wide", row.size, count, row.fields.data()};
      std::vector<Field> fields;
      std::string error;
      CHECK_FALSE(check_type(type, fields, error));
      CHECK(error == row.error);
   }

   SUBCASE("a field count without a field table") {
      const modkit_type_desc type = {"wide", sizeof(Wide), 3, nullptr};
      std::vector<Field> fields;
      std::string error;
      CHECK_FALSE(check_type(type, fields, error));
      CHECK(error == "struct 'wide': 3 fields but no field table");
   }
   SUBCASE("a bad struct is reported where the signature names it") {
      const modkit_field_desc bad[] = {field("a", "i64", 4)};
      const modkit_type_desc types[] = {{"wide", sizeof(Wide), 1, bad}};
      std::vector<Param> params;
      std::string error;
      CHECK_FALSE(parse_signature("x: i32, w: &wide", types, 1, params, error));
      CHECK(error ==
            "column 13 ('wide'): struct 'wide', field 'a': offset 4 is not a multiple of 8");
   }
}

TEST_CASE("prepare names the category, the slot and the fault") {
   const modkit_field_desc no_fields[] = {{"a", "str", 8}};
   const modkit_type_desc types[] = {{"t", 24, 1, no_fields}};
   const modkit_slot_desc slots[] = {
      {"good", 8, 0, 0, "a: &t, b: *i32", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE,
       nullptr, -1, 0},
      {"typo", 16, 0, 0, "a: &t, b: *int", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE,
       nullptr, -1, 0},
      {"unset", 24, 0, 0, nullptr, MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1,
       0},
   };
   modkit_category category = {
      sizeof(modkit_category), 1, 0, "test.prepare", 32, 3, slots, 1, 0, types};
   Invoker invoker;
   std::string error;
   REQUIRE_MESSAGE(Invoker::prepare(category, 0, invoker, error), error);
   const Invoker good = invoker;

   CHECK_FALSE(Invoker::prepare(category, 1, invoker, error));
   CHECK(error == "category 'test.prepare', slot 'typo': signature 'a: &t, b: *int': column 12 "
                  "('int'): unknown output type; expected *bool, *i32, *u32, *i64, *u64, *f64 or "
                  "*buf");
   CHECK(invoker.slot() == good.slot()); // a failed prepare leaves out unchanged

   CHECK_FALSE(Invoker::prepare(category, 2, invoker, error));
   CHECK(error == "category 'test.prepare', slot 'unset': no signature");

   CHECK_FALSE(Invoker::prepare(category, 3, invoker, error));
   CHECK(error == "category 'test.prepare': no slot 3 (it has 3)");

   category.struct_size = 8;
   CHECK_FALSE(Invoker::prepare(category, 0, invoker, error));
   CHECK(error == "category: struct_size 8 is smaller than the " +
                     std::to_string(sizeof(modkit_category)) + " bytes of ABI 1.0");
}

TEST_CASE("check refuses what prepare refuses for the descriptor, with the same message") {
   const modkit_field_desc fields[] = {{"a", "str", 8}};
   const modkit_type_desc types[] = {{"t", 24, 1, fields}};
   const modkit_slot_desc slots[] = {
      {"good", 8, 0, 0, "a: &t, b: *i32", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
      {"typo", 16, 0, 0, "a: &t, b: *int", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
      {"unset", 24, 0, 0, nullptr, MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
   };
   const modkit_category category = {sizeof(modkit_category), 1, 0, "test.check", 32, 3, slots, 1, 0, types};
   for (std::uint32_t slot = 0; slot < 4; ++slot) {
      CAPTURE(slot);
      Invoker invoker;
      std::string prepared, checked;
      const bool ok = Invoker::prepare(category, slot, invoker, prepared);
      CHECK(Invoker::check(category, slot, checked) == ok);
      CHECK(checked == prepared);
   }
}

TEST_CASE("check_slots checks every slot and remembers categories it accepted") {
   const modkit_field_desc fields[] = {{"a", "str", 8}};
   const modkit_type_desc types[] = {{"t", 24, 1, fields}};
   modkit_slot_desc slots[] = {
      {"first", 8, 0, 0, "a: &t, b: *i32", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
      {"second", 16, 0, 0, "n: u64, b: *bool", MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, nullptr, -1, 0},
   };
   modkit_category category = {sizeof(modkit_category), 1, 0, "test.check_slots", 24, 2, slots, 1, 0, types};
   std::string error;
   REQUIRE_MESSAGE(Invoker::check_slots(category, error), error);
   // The same content at another address is accepted from the memo ...
   modkit_category copy = category;
   CHECK(Invoker::check_slots(copy, error));
   // ... but a change to any signature is parsed again, and refused with the slot at fault.
   std::string broken = "n: u64, b: *boolean";
   slots[1].signature = broken.c_str();
   CHECK_FALSE(Invoker::check_slots(category, error));
   CHECK(error == "category 'test.check_slots', slot 'second': signature 'n: u64, b: *boolean': column 13 "
                  "('boolean'): unknown output type; expected *bool, *i32, *u32, *i64, *u64, *f64 or *buf");
   // So is a change to a struct a signature names.
   slots[1].signature = "n: u64, b: *bool";
   const modkit_field_desc misaligned[] = {{"a", "str", 6}};
   const modkit_type_desc bad_types[] = {{"t", 24, 1, misaligned}};
   category.types = bad_types;
   CHECK_FALSE(Invoker::check_slots(category, error));
   CHECK(error.find("struct 't', field 'a': offset 6 is not a multiple of 8") != std::string::npos);
}

TEST_CASE("no signature text makes the parser misbehave") {
   // Every prefix of every real signature, and every one-byte change to it from a set of
   // bytes that matter to the grammar, parses or fails with a positioned message.
   const char replacements[] = {'\0', ' ', ',', ':', '&', '*', '_', 'x', '9', '\xff'};
   const modkit_category &all = modkit::invoke::test::all_types_category();
   std::size_t parsed = 0;
   std::size_t refused = 0;
   const auto probe = [&](const std::string &text, const modkit_category &cat) {
      std::vector<Param> params;
      std::string error;
      if (parse_signature(text, cat.types, cat.type_count, params, error)) {
         ++parsed;
         for (const Param &p : params)
            CHECK_FALSE(p.name.empty());
      } else {
         ++refused;
         CHECK(error.rfind("column ", 0) == 0);
         CHECK(params.empty());
      }
   };
   for (const modkit_category *cat : {&spam, &all}) {
      for (std::uint32_t s = 0; s < cat->slot_count; ++s) {
         const std::string text = cat->slots[s].signature;
         for (std::size_t n = 0; n <= text.size(); ++n)
            probe(text.substr(0, n), *cat);
         for (std::size_t i = 0; i < text.size(); ++i) {
            for (char c : replacements) {
               std::string changed = text;
               changed[i] = c;
               probe(changed, *cat);
            }
         }
      }
   }
   CHECK(parsed > 0);
   CHECK(refused > parsed);
}
