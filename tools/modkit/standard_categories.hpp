// standard_categories.hpp - every category modkit/all.h defines, for the tools that need all of
// them: `check` loads modules into a host that offers each one, `abi dump` describes each one.
#pragma once

#include <modkit/category.h>

#include <vector>

namespace modkit::cli {

struct StandardCategory {
   const char *header;                   // e.g. "modkit/categories/spam_checker.h"
   const modkit_category *(*descriptor)(); // the header's modkit_<name>_category()
};

// In modkit/all.h's order. tests/cli/abi_list_tests.cpp fails when all.h includes a category
// header that is missing here.
const std::vector<StandardCategory> &standard_categories();

// The descriptors alone, in the same order.
std::vector<const modkit_category *> standard_category_descriptors();

} // namespace modkit::cli
