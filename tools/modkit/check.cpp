// modkit check FILE: what inspect does, then a full load and unload in a child process.
#include "check_load.hpp"
#include "child.hpp"
#include "commands.hpp"
#include "manifest.hpp"
#include "module_file.hpp"
#include "output.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace modkit::cli {

using nlohmann::json;

int run_check(const CheckOptions &options) {
   PreparedRun run = prepare_run(options.run);
   const ModuleFile &file = run.file;
   unsigned host_major = 0, host_minor = 0;
   if (!options.host_abi.empty() && !parse_major_minor(options.host_abi, host_major, host_minor))
      throw UsageError("--host-abi must be MAJOR.MINOR, e.g. 1.0, not \"" + options.host_abi + "\"");
   std::vector<std::string> reasons = run.reasons;

   json host_abi = nullptr;
   if (!options.host_abi.empty()) {
      json reason = nullptr;
      bool compatible = false;
      if (!file.manifest || !file.manifest->abi_major) {
         reason = "the module has no readable manifest ABI version";
      } else {
         compatible = *file.manifest->abi_major == host_major && *file.manifest->abi_minor <= host_minor;
         if (!compatible)
            reason = fmt::format("built for ABI {}, host provides {}.{}", file.manifest->abi, host_major, host_minor);
      }
      if (!reason.is_null()) reasons.push_back(reason.get<std::string>());
      host_abi = {{"requested", fmt::format("{}.{}", host_major, host_minor)}, {"compatible", compatible}, {"reason", reason}};
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
