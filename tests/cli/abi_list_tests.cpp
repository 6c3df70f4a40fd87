// abi_list_tests.cpp - the ABI table (abi/probe/abi_list.inc, read by both `modkit abi dump` and
// the libabigail probe), the category list and the suppression file, checked against what the
// headers actually declare. The headers are parsed here independently, so a struct, field,
// handle, function type, constant or category added to a header without being added to the
// lists fails this test instead of silently escaping both ABI checks.
#include "run.hpp"

#include "abi_table.hpp"
#include "standard_categories.hpp"

#include <modkit/all.h>
#include <modkit/loader.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using cli_test::read_file;

// The text without comments; string and character literals are kept intact.
std::string strip_comments(const std::string &text) {
   std::string out;
   for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '"' || c == '\'') {
         const size_t start = i;
         for (++i; i < text.size() && text[i] != c; ++i) {
            if (text[i] == '\\') ++i;
         }
         out.append(text, start, i - start + 1);
      } else if (text.compare(i, 2, "//") == 0) {
         while (i < text.size() && text[i] != '\n') ++i;
         out += '\n';
      } else if (text.compare(i, 2, "/*") == 0) {
         const size_t end = text.find("*/", i + 2);
         i = end == std::string::npos ? text.size() : end + 1;
         out += ' ';
      } else {
         out += c;
      }
   }
   return out;
}

std::vector<std::string> field_names(const std::string &body) {
   std::vector<std::string> names;
   std::string decl;
   int depth = 0;
   const std::regex function_pointer(R"(\(\s*(?:MODKIT_ABI\s*)?\*\s*(\w+)\s*\))");
   const std::regex identifier(R"(\w+)");
   for (const char c : body) {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (c != ';' || depth != 0) {
         decl += c;
         continue;
      }
      std::smatch m;
      if (std::regex_search(decl, m, function_pointer)) {
         names.push_back(m[1]);
      } else {
         const std::string plain = std::regex_replace(decl, std::regex(R"(\[[^\]]*\])"), "");
         std::string last;
         for (auto it = std::sregex_iterator(plain.begin(), plain.end(), identifier); it != std::sregex_iterator(); ++it)
            last = it->str();
         if (!last.empty()) names.push_back(last);
      }
      decl.clear();
   }
   return names;
}

struct Declared {
   std::map<std::string, std::vector<std::string>> structs; // name -> fields in order
   std::set<std::string> opaque, function_types, constants;
};

// Everything the public headers declare: abi/include/modkit and, from loader.h, modkit_call with
// the types its 1.1 fields use (modkit_loader, modkit_loader_call_done_fn, _call_error_fn).
Declared parse_headers() {
   Declared d;
   std::vector<fs::path> files;
   const fs::path include = fs::path(MODKIT_SOURCE_DIR) / "abi/include/modkit";
   for (const auto &entry : fs::recursive_directory_iterator(include)) {
      if (entry.path().extension() == ".h" && entry.path().parent_path().filename() != "private")
         files.push_back(entry.path());
   }
   files.push_back(fs::path(MODKIT_SOURCE_DIR) / "loader/include/modkit/loader.h");
   const std::regex struct_head(R"((?:typedef\s+)?struct\s+(\w+)\s*\{)");
   const std::regex opaque(R"(typedef\s+struct\s+(\w+)\s+(\w+)\s*;)");
   const std::regex function_type(R"(typedef\s+[^;{}]*?\(\s*MODKIT_ABI\s*\*\s*(\w+)\s*\)\s*\()");
   const std::regex enum_block(R"(enum\s*\{([^}]*)\})");
   const std::regex enumerator(R"((?:^|,)\s*(MODKIT_\w+))");
   const std::regex max_define(R"(#\s*define\s+(MODKIT_\w+_MAX)\s+\d+)");
   for (const fs::path &file : files) {
      const bool loader = file.filename() == "loader.h";
      const std::string text = strip_comments(read_file(file.string()));
      for (auto it = std::sregex_iterator(text.begin(), text.end(), struct_head); it != std::sregex_iterator(); ++it) {
         const std::string name = (*it)[1];
         if (loader && name != "modkit_call") continue;
         const size_t start = size_t(it->position() + it->length());
         size_t at = start;
         for (int depth = 1; at < text.size() && depth > 0; ++at) depth += text[at] == '{' ? 1 : text[at] == '}' ? -1 : 0;
         d.structs[name] = field_names(text.substr(start, at - 1 - start));
      }
      if (loader) {
         d.opaque.insert("modkit_loader");
         d.function_types.insert("modkit_loader_call_done_fn");
         d.function_types.insert("modkit_loader_call_error_fn");
         continue;
      }
      for (auto it = std::sregex_iterator(text.begin(), text.end(), opaque); it != std::sregex_iterator(); ++it)
         d.opaque.insert((*it)[1]);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), function_type); it != std::sregex_iterator(); ++it)
         d.function_types.insert((*it)[1]);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), enum_block); it != std::sregex_iterator(); ++it) {
         const std::string body = (*it)[1];
         for (auto e = std::sregex_iterator(body.begin(), body.end(), enumerator); e != std::sregex_iterator(); ++e)
            d.constants.insert((*e)[1]);
      }
      for (auto it = std::sregex_iterator(text.begin(), text.end(), max_define); it != std::sregex_iterator(); ++it)
         d.constants.insert((*it)[1]);
   }
   // Handles whose definition is public (modkit_call, in loader.h) are structs, not opaque.
   for (const auto &s : d.structs) d.opaque.erase(s.first);
   return d;
}

std::string list(const std::set<std::string> &names) {
   std::string out;
   for (const std::string &n : names) out += (out.empty() ? "" : ", ") + n;
   return out;
}

} // namespace

TEST_CASE("abi_list.inc lists every struct of the headers with every field, in order") {
   const Declared declared = parse_headers();
   const modkit::cli::AbiModel model = modkit::cli::current_abi_model();
   REQUIRE(declared.structs.size() > 20); // the parser found the headers
   std::set<std::string> missing, extra;
   for (const auto &declared_struct : declared.structs) {
      const std::string &name = declared_struct.first;
      const std::vector<std::string> &fields = declared_struct.second;
      const auto it = std::find_if(model.structs.begin(), model.structs.end(), [&](const auto &s) { return s.name == name; });
      if (it == model.structs.end()) {
         missing.insert(name);
         continue;
      }
      std::vector<std::string> listed;
      for (const auto &f : it->fields) listed.push_back(f.name);
      INFO("struct " << name << ": abi/probe/abi_list.inc must list the fields the header declares, in order");
      CHECK(listed == fields);
   }
   for (const auto &s : model.structs) {
      if (declared.structs.count(s.name) == 0) extra.insert(s.name);
   }
   INFO("add MODKIT_ABI_STRUCT and MODKIT_ABI_FIELD lines to abi/probe/abi_list.inc for: " << list(missing));
   CHECK(missing.empty());
   INFO("abi_list.inc lists structs no header defines: " << list(extra));
   CHECK(extra.empty());
}

TEST_CASE("abi_list.inc lists every opaque handle, function pointer type and constant") {
   const Declared declared = parse_headers();
   const modkit::cli::AbiModel model = modkit::cli::current_abi_model();
   std::set<std::string> opaque, functions, constants;
   for (const auto &t : model.opaque_types) opaque.insert(t.name);
   for (const auto &t : model.function_types) functions.insert(t.name);
   for (const auto &c : model.constants) constants.insert(c.name);
   CHECK(declared.opaque.size() >= 4);
   CHECK(declared.function_types.size() >= 3);
   CHECK(declared.constants.size() > 50);
   CHECK_MESSAGE(opaque == declared.opaque, "headers: " << list(declared.opaque) << "; listed: " << list(opaque));
   CHECK_MESSAGE(functions == declared.function_types,
                 "headers: " << list(declared.function_types) << "; listed: " << list(functions));
   std::set<std::string> unlisted, unknown;
   std::set_difference(declared.constants.begin(), declared.constants.end(), constants.begin(), constants.end(),
                       std::inserter(unlisted, unlisted.end()));
   std::set_difference(constants.begin(), constants.end(), declared.constants.begin(), declared.constants.end(),
                       std::inserter(unknown, unknown.end()));
   CHECK_MESSAGE(unlisted.empty(), "add MODKIT_ABI_CONSTANT lines to abi/probe/abi_list.inc for: " << list(unlisted));
   CHECK_MESSAGE(unknown.empty(), "abi_list.inc lists constants no header declares: " << list(unknown));
}

TEST_CASE("standard_categories lists every category header modkit/all.h includes") {
   const std::string all = strip_comments(read_file(std::string(MODKIT_SOURCE_DIR) + "/abi/include/modkit/all.h"));
   const std::regex include(R"(#\s*include\s+"categories/(\w+)\.h")");
   std::vector<std::string> headers;
   for (auto it = std::sregex_iterator(all.begin(), all.end(), include); it != std::sregex_iterator(); ++it) {
      if ((*it)[1] != "objects") headers.push_back((*it)[1]);
   }
   REQUIRE(!headers.empty());
   std::vector<std::string> listed;
   for (const auto &c : modkit::cli::standard_categories()) {
      const std::string header = c.header;
      listed.push_back(header.substr(header.rfind('/') + 1, header.size() - header.rfind('/') - 3));
      // The ID follows the header's name, and the callbacks struct the ID.
      const modkit_category *descriptor = c.descriptor();
      REQUIRE(descriptor != nullptr);
      CHECK(std::string(descriptor->id) == "modkit." + listed.back());
   }
   CHECK_MESSAGE(listed == headers, "tools/modkit/standard_categories.cpp needs one line per category header in all.h");

   const modkit::cli::AbiModel model = modkit::cli::current_abi_model();
   for (const auto &c : model.categories) {
      const std::string callbacks = "modkit_" + c.id.substr(std::string("modkit.").size()) + "_callbacks";
      const auto it = std::find_if(model.structs.begin(), model.structs.end(), [&](const auto &s) { return s.name == callbacks; });
      REQUIRE_MESSAGE(it != model.structs.end(), callbacks << " is missing from the ABI table");
      CHECK(it->size == c.callbacks_size);
      CHECK(it->size_prefixed);
   }
}

TEST_CASE("the libabigail suppression file lets exactly the size-prefixed structs grow") {
   const std::string suppr = read_file(std::string(MODKIT_SOURCE_DIR) + "/abi/baseline/abi.suppr");
   std::smatch m;
   REQUIRE(std::regex_search(suppr, m, std::regex(R"(name_regexp\s*=\s*(\S+))")));
   const std::regex names(m[1].str());
   // Nothing but appends at the end, in one section.
   CHECK(std::regex_search(suppr, std::regex(R"(has_data_member_inserted_at\s*=\s*end)")));
   size_t count = 0;
   for (size_t at = suppr.find("[suppress_"); at != std::string::npos; at = suppr.find("[suppress_", at + 1)) ++count;
   CHECK(count == 1);
   const modkit::cli::AbiModel model = modkit::cli::current_abi_model();
   for (const auto &s : model.structs) {
      INFO(s.name << (s.size_prefixed ? " starts with struct_size" : " has no struct_size"));
      CHECK(std::regex_match(s.name, names) == s.size_prefixed);
   }
}

TEST_CASE("the ABI table takes sizes, offsets and types from the compiler") {
   const modkit::cli::AbiModel model = modkit::cli::current_abi_model();
   auto find = [&](const std::string &name) {
      const auto it = std::find_if(model.structs.begin(), model.structs.end(), [&](const auto &s) { return s.name == name; });
      REQUIRE(it != model.structs.end());
      return *it;
   };
   const auto api = find("modkit_host_api");
   CHECK(api.size == sizeof(modkit_host_api));
   CHECK(api.size_prefixed);
   CHECK(api.fields[3].name == "report_error");
   CHECK(api.fields[3].offset == offsetof(modkit_host_api, report_error));
   CHECK(api.fields[3].type == "void (*)(modkit_error_sink *, int32_t, const char *, const char *)");
   const auto str = find("modkit_str");
   CHECK_FALSE(str.size_prefixed);
   CHECK(str.fields[0].type == "const char *");
   CHECK(str.fields[1].type == "uint" + std::to_string(8 * sizeof(size_t)) + "_t");
   CHECK(find("modkit_call").fields[4].type == "const volatile int32_t *");
   const auto &call = find("modkit_call").fields;
   CHECK(call[call.size() - 3].type == "int32_t"); // 1.1: the status of an early completion
   CHECK(call.back().type == "void *");            // 1.1: call_set_error's user data
   const auto ok = std::find_if(model.constants.begin(), model.constants.end(), [](const auto &c) { return c.name == "MODKIT_PENDING"; });
   REQUIRE(ok != model.constants.end());
   CHECK(ok->value == MODKIT_PENDING);
   CHECK(ok->group == "modkit_status");
   CHECK(model.abi_major == MODKIT_ABI_VERSION_MAJOR);
   CHECK(model.abi_minor == MODKIT_ABI_VERSION_MINOR);
   REQUIRE(!model.categories.empty());
   const auto &spam = model.categories.front();
   CHECK(spam.id == "modkit.spam_checker");
   CHECK(spam.slots.front().name == "check_event_for_spam");
   CHECK(spam.slots.front().combine == "first_non_zero");
   CHECK(spam.types.front().name == "event");
}
