// modkit inspect FILE...: static facts only. Nothing from the files is executed: no dlopen, no
// child process; read_module_file reads bytes with pread.
#include "commands.hpp"
#include "module_file.hpp"
#include "output.hpp"

#include <cstdio>

namespace modkit::cli {

int run_inspect(const InspectOptions &options) {
   int code = exit_ok;
   nlohmann::json files = nlohmann::json::array();
   std::string text;
   for (const std::string &path : options.files) {
      const ModuleFile file = read_module_file(path);
      code = worst(code, file.exit_code());
      if (options.json)
         files.push_back(module_file_json(file));
      else
         text += (text.empty() ? "" : "\n") + module_file_text(file);
   }
   if (options.json)
      print_json({{"command", "inspect"}, {"ok", code == exit_ok}, {"files", std::move(files)}});
   else
      std::fputs(text.c_str(), stdout);
   return code;
}

} // namespace modkit::cli
