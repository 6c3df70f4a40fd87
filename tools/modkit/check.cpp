// modkit check FILE: what inspect does, then a full load and unload in a child process.
#include "check_load.hpp"
#include "child.hpp"
#include "commands.hpp"
#include "module_file.hpp"
#include "output.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace modkit::cli {

using nlohmann::json;

int run_check(const CheckOptions &options) {
   PreparedRun run = prepare_run(options.run, options.host_abi);
   const ModuleFile &file = run.file;
   std::vector<std::string> reasons = run.reasons;

   json host_abi = nullptr;
   if (!options.host_abi.empty()) {
      const auto &abi = file.report["abi"];
      const bool compatible = abi.is_object() && abi["compatible"].get<bool>();
      const json reason = abi.is_object() ? json(abi["reason"]) : json("the module has no readable manifest ABI version");
      if (!reason.is_null()) reasons.push_back(reason.get<std::string>());
      host_abi = {{"requested", abi.is_object() ? json(abi["host"]) : json(options.host_abi)},
                  {"compatible", compatible},
                  {"reason", reason}};
   }

   json load = nullptr;
   if (file.loadable()) {
      const ChildResult result = run_in_child(run.limits, [&](Reporter &r) { load_and_unload(r, run.path, run.config); });
      LoadReport report = summarise(result, run.limits);
      for (std::string &r : report.reasons) reasons.push_back(std::move(r));
      load = std::move(report.doc);
   } else if (file.error != ModuleFile::Error::io) {
      reasons.push_back("not loaded: the loader would refuse the file before running any of it");
   }

   const int code = file.error == ModuleFile::Error::io ? exit_usage : reasons.empty() ? exit_ok : exit_refused;
   if (options.json) {
      print_json({{"command", "check"},
                  {"ok", code == exit_ok},
                  {"file", module_file_json(file)},
                  {"host_abi", std::move(host_abi)},
                  {"load", load},
                  {"reasons", reasons}});
      return code;
   }
   std::string out = module_file_text(file, false);
   if (!host_abi.is_null()) {
      out += fmt::format("host ABI {}: {}\n", host_abi["requested"].get<std::string>(),
                         host_abi["compatible"].get<bool>() ? "compatible" : host_abi["reason"].get<std::string>());
   }
   if (!load.is_null()) out += load_text(load);
   out += fmt::format("verdict     {}\n", code == exit_ok ? "ok" : code == exit_refused ? "refused" : "unreadable");
   for (const std::string &r : reasons) out += "  - " + printable(r) + "\n";
   std::fputs(out.c_str(), stdout);
   return code;
}

} // namespace modkit::cli
