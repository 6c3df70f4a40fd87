// modkit compat FILE [--host HOST_ABI.json]: static only; nothing from FILE runs.
#include "compat.hpp"

#include "abi_json.hpp"
#include "abi_table.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "this_host.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace modkit::cli {

HostJudgement compat_host(const AbiModel &host) {
   HostJudgement out;
   out.target = host.target;
   out.abi = fmt::format("{}.{}", host.abi_major, host.abi_minor);
   out.categories.emplace();
   for (const CategoryInfo &c : host.categories) out.categories->push_back(c.id);
   out.runtime = host.runtime;
   return out;
}

CompatResult judge_compat(const ModuleFile &file, const AbiModel &host) {
   CompatResult out;
   const nlohmann::ordered_json &report = file.report;
   if (file.error != ModuleFile::Error::none) out.reasons.push_back({"file", file.error_message});
   std::vector<CompatReason> categories;
   for (const auto &f : report["findings"]) {
      if (!f["loader_refuses"].get<bool>()) continue;
      const std::string check = f["check"], message = f["message"];
      if (check == "manifest.registers") categories.push_back({"category", message});
      else out.reasons.push_back({check.rfind("elf.", 0) == 0 ? check : "loader." + check, message});
   }
   if (report["abi"].is_object() && !report["abi"]["compatible"].get<bool>())
      out.reasons.push_back({"abi.version", report["abi"]["reason"]});
   for (CompatReason &c : categories) out.reasons.push_back(std::move(c));
   if (file.error != ModuleFile::Error::none) return out;
   if (!host.runtime) {
      out.notes.push_back("the host description has no runtime section: C and C++ runtime versions were not compared");
      return out;
   }
   for (const auto &r : report["runtime"]["reasons"]) out.reasons.push_back({"runtime", r});
   for (const auto &n : report["runtime"]["notes"]) out.notes.push_back(n);
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
   const ModuleFile file = read_module_file(options.file, compat_host(host));
   const CompatResult result = judge_compat(file, host);
   const int code = file.error == ModuleFile::Error::io ? exit_usage : result.reasons.empty() ? exit_ok : exit_refused;
   const std::string host_abi = fmt::format("{}.{}", host.abi_major, host.abi_minor);

   if (options.json) {
      nlohmann::json reasons = nlohmann::json::array();
      for (const CompatReason &r : result.reasons) reasons.push_back({{"check", r.check}, {"message", r.message}});
      nlohmann::json module = nullptr;
      if (const auto *m = file.manifest())
         module = {{"name", nlohmann::json((*m)["name"])}, {"abi", nlohmann::json((*m)["abi"])},
                   {"registers", nlohmann::json((*m)["registers"])}};
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
   if (const auto *m = file.manifest())
      out += fmt::format("  module     {} {}, ABI {}\n", printable((*m)["name"]), printable((*m)["version"]),
                         printable((*m)["abi"]));
   for (const CompatReason &r : result.reasons) out += fmt::format("  reason     {}\n", printable(r.message));
   for (const std::string &n : result.notes) out += fmt::format("  note       {}\n", printable(n));
   out += fmt::format("  verdict    {}\n", code == exit_ok ? "compatible" : code == exit_refused ? "incompatible" : "unreadable");
   std::fputs(out.c_str(), stdout);
   return code;
}

} // namespace modkit::cli
