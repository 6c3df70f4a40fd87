// modkit abi dump [--out FILE] and modkit abi diff OLD.json NEW.json.
#include "abi_diff.hpp"
#include "abi_json.hpp"
#include "abi_table.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "this_host.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace modkit::cli {
namespace {

AbiModel read_dump(const std::string &path) {
   try {
      return abi_from_json(parse_json_file(path, "ABI description"));
   } catch (const AbiFormatError &e) {
      throw UsageError(fmt::format("ABI description {} is not an `abi dump` document: {}", path, e.what()));
   }
}

} // namespace

int run_abi_dump(const AbiDumpOptions &options) {
   AbiModel model = current_abi_model();
   if (!options.abi_only) model.runtime = host_runtime_versions();
   if (options.out.empty()) {
      print_json(abi_to_json(model));
      return exit_ok;
   }
   write_text_file(options.out, abi_to_text(model), "ABI description");
   const std::string version = fmt::format("{}.{}", model.abi_major, model.abi_minor);
   if (options.json) {
      print_json({{"command", "abi dump"},
                  {"ok", true},
                  {"out", options.out},
                  {"abi", version},
                  {"structs", model.structs.size()},
                  {"constants", model.constants.size()},
                  {"categories", model.categories.size()}});
   } else {
      std::printf("wrote the ABI %s description (%zu structs, %zu constants, %zu categories) to %s\n", version.c_str(),
                  model.structs.size(), model.constants.size(), model.categories.size(), printable(options.out).c_str());
   }
   return exit_ok;
}

int run_abi_diff(const AbiDiffOptions &options) {
   const AbiModel old_abi = read_dump(options.old_file);
   const AbiModel new_abi = read_dump(options.new_file);
   const std::vector<AbiChange> changes = diff_abi(old_abi, new_abi);
   size_t counts[3] = {0, 0, 0};
   for (const AbiChange &c : changes) ++counts[static_cast<int>(c.cls)];
   const size_t breaking = counts[static_cast<int>(AbiChange::Class::breaking)];
   const int code = breaking > 0 ? exit_refused : exit_ok;
   auto version = [](const AbiModel &m) { return fmt::format("{}.{}", m.abi_major, m.abi_minor); };
   if (options.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const AbiChange &c : changes)
         list.push_back({{"class", class_name(c.cls)}, {"subject", c.subject}, {"message", c.message}});
      print_json({{"command", "abi diff"},
                  {"ok", code == exit_ok},
                  {"old", {{"file", options.old_file}, {"abi", version(old_abi)}}},
                  {"new", {{"file", options.new_file}, {"abi", version(new_abi)}}},
                  {"changes", std::move(list)},
                  {"summary",
                   {{"compatible", counts[static_cast<int>(AbiChange::Class::compatible)]},
                    {"breaking", breaking},
                    {"notes", counts[static_cast<int>(AbiChange::Class::note)]}}}});
      return code;
   }
   std::string out = fmt::format("ABI {} ({}) -> ABI {} ({})\n", version(old_abi), printable(options.old_file),
                                 version(new_abi), printable(options.new_file));
   for (const AbiChange &c : changes)
      out += fmt::format("  {:<11} {}: {}\n", class_name(c.cls), printable(c.subject), printable(c.message));
   if (changes.empty()) out += "  no differences\n";
   out += fmt::format("{} compatible, {} breaking, {} note{}: {}\n", counts[0], breaking, counts[2], counts[2] == 1 ? "" : "s",
                      code == exit_ok ? "compatible" : "BREAKING");
   std::fputs(out.c_str(), stdout);
   return code;
}

} // namespace modkit::cli
