// json_category.hpp - categories described in JSON at run time, for hosts that have no C
// headers for them (Python, Go, ...). The callbacks struct of such a category is the ABI's
// usual shape: uint32_t struct_size, then one function pointer per slot in the listed order.
#pragma once

#include <modkit/category.h>

#include <deque>
#include <string>
#include <vector>

namespace modkit::loader {

// Owns the descriptors built from JSON; they stay valid as long as the store.
class CategoryStore {
public:
   // Parses a JSON array of categories:
   //   [{"id": "example.greeter", "major": 1, "minor": 0,
   //     "slots": [{"name": "greet", "signature": "name: str, reply: *buf",
   //                "combine": "first_non_zero", "on_error": "fail_open",
   //                "chain_to": null, "out_max": -1, "since": 0}],
   //     "types": [{"name": "point", "size": 24, "fields": [{"name": "x", "type": "i64", "offset": 8}]}]}]
   // and appends a descriptor per category to out. Errors name the JSON pointer at fault.
   bool add_json(const std::string &text, std::vector<const modkit_category *> &out, std::string &error);

private:
   struct Built {
      modkit_category category{};
      std::vector<modkit_slot_desc> slots;
      std::vector<modkit_type_desc> types;
      std::deque<std::vector<modkit_field_desc>> fields;
      std::deque<std::string> strings; // every char * above points into this
   };
   std::deque<Built> built_;
};

} // namespace modkit::loader
