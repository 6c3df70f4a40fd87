// modkit compat FILE [--host HOST_ABI.json]: static only; nothing from FILE runs.
#include "compat.hpp"

#include "abi_json.hpp"
#include "abi_table.hpp"
#include "commands.hpp"
#include "host_runtime.hpp"
#include "output.hpp"

#include "elf/symbol_versions.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace modkit::cli {
namespace {

void compare_runtime(const ModuleFile &file, const AbiModel &host, CompatResult &out) {
   if (!host.runtime) {
      out.notes.push_back("the host description has no runtime section: C and C++ runtime versions were not compared");
      return;
   }
   std::vector<std::string> needs;
   for (const elf::VersionNeed &n : file.facts.version_needs) needs.push_back(n.version);
   for (const elf::SymbolVersion &need : elf::highest_versions(needs)) {
      const RuntimeVersion *have = nullptr;
      for (const RuntimeVersion &r : *host.runtime) {
         if (r.family == need.family) have = &r;
      }
      if (have == nullptr) {
         out.notes.push_back(fmt::format("needs {}_{}, but the host description records no library defining {}_ "
                                         "versions: not compared", need.family, need.text(), need.family));
         continue;
      }
      const auto host_version = elf::parse_dotted(have->highest);
      if (!host_version) {
         out.notes.push_back(fmt::format("the host's {} version \"{}\" is not a dotted number: not compared",
                                         have->family, have->highest));
      } else if (elf::compare_versions(need.number, *host_version) > 0) {
         out.reasons.push_back({"runtime", fmt::format("needs {}_{}, host has {}", need.family, need.text(), have->highest)});
      }
   }
}

} // namespace

elf::HostFacts host_facts(const TargetInfo &target) {
   elf::HostFacts facts{target.elf_class, target.machine};
   facts.data = target.byte_order == "big" ? ELFDATA2MSB : ELFDATA2LSB;
   return facts;
}

CompatResult judge_compat(const ModuleFile &file, const AbiModel &host) {
   CompatResult out;
   if (file.error != ModuleFile::Error::none) out.reasons.push_back({"file", file.error_message});
   for (const Finding &f : file.findings) {
      if (f.loader_refuses) out.reasons.push_back({f.check.rfind("elf.", 0) == 0 ? f.check : "loader." + f.check, f.message()});
   }
   if (file.manifest && file.manifest->abi_major) {
      const unsigned major = *file.manifest->abi_major, minor = *file.manifest->abi_minor;
      if (major != host.abi_major || minor > host.abi_minor) {
         out.reasons.push_back({"abi.version", fmt::format("built for ABI {}.{}, host provides {}.{}{}", major, minor,
                                                          host.abi_major, host.abi_minor,
                                                          major != host.abi_major ? " (the major versions must be equal)" : "")});
      }
      for (const std::string &id : file.manifest->registers) {
         bool provided = false;
         for (const CategoryInfo &c : host.categories) provided = provided || c.id == id;
         if (!provided)
            out.reasons.push_back({"category", fmt::format("registers category {} which the host does not provide", id)});
      }
   }
   if (file.error == ModuleFile::Error::none) compare_runtime(file, host, out);
   return out;
}

int run_compat(const CompatOptions &options) {
   AbiModel host;
   std::string source = "this modkit build";
   if (options.host_file.empty()) {
      host = current_abi_model();
      host.runtime = host_runtime_versions();
   } else {
      source = options.host_file;
      try {
         host = abi_from_json(parse_json_file(options.host_file, "host ABI description"));
      } catch (const AbiFormatError &e) {
         throw UsageError(fmt::format("host ABI description {} is not an `abi dump` document: {}", options.host_file, e.what()));
      }
   }
   const ModuleFile file = read_module_file(options.file, host_facts(host.target));
   const CompatResult result = judge_compat(file, host);
   const int code = file.error == ModuleFile::Error::io ? exit_usage : result.reasons.empty() ? exit_ok : exit_refused;
   const std::string host_abi = fmt::format("{}.{}", host.abi_major, host.abi_minor);

   if (options.json) {
      nlohmann::json reasons = nlohmann::json::array();
      for (const CompatReason &r : result.reasons) reasons.push_back({{"check", r.check}, {"message", r.message}});
      nlohmann::json module = nullptr;
      if (file.manifest)
         module = {{"name", file.manifest->name}, {"abi", file.manifest->abi}, {"registers", file.manifest->registers}};
      print_json({{"command", "compat"},
                  {"ok", code == exit_ok},
                  {"file", options.file},
                  {"host", {{"source", source}, {"abi", host_abi}, {"categories", host.categories.size()}}},
                  {"module", std::move(module)},
                  {"reasons", std::move(reasons)},
                  {"notes", result.notes}});
      return code;
   }
   std::string out = fmt::format("{}\n  host       ABI {} ({}), {} categories\n", printable(options.file), host_abi,
                                 printable(source), host.categories.size());
   if (file.manifest)
      out += fmt::format("  module     {} {}, ABI {}\n", printable(file.manifest->name), printable(file.manifest->version),
                         printable(file.manifest->abi));
   for (const CompatReason &r : result.reasons) out += fmt::format("  reason     {}\n", printable(r.message));
   for (const std::string &n : result.notes) out += fmt::format("  note       {}\n", printable(n));
   out += fmt::format("  verdict    {}\n", code == exit_ok ? "compatible" : code == exit_refused ? "incompatible" : "unreadable");
   std::fputs(out.c_str(), stdout);
   return code;
}

} // namespace modkit::cli
