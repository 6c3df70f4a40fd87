// modkit new NAME [--dir DIR] [--lang c|cpp]: writes a module project (templates.cpp).
#include "commands.hpp"
#include "output.hpp"
#include "templates.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace modkit::cli {
namespace {

namespace fs = std::filesystem;

bool is_identifier(const std::string &name) {
   if (name.empty() || name.size() > 64) return false;
   for (size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
   }
   return true;
}

// Target names CMake or its generators keep for themselves.
bool reserved_by_cmake(const std::string &name) {
   for (const char *r : {"all", "clean", "help", "install", "package", "package_source", "test", "edit_cache",
                         "rebuild_cache", "depend", "list_install_components", "preinstall", "ALL_BUILD",
                         "ZERO_CHECK", "RUN_TESTS", "INSTALL", "PACKAGE"}) {
      if (name == r) return true;
   }
   return false;
}

} // namespace

int run_new(const NewOptions &options) {
   if (!is_identifier(options.name))
      throw UsageError(fmt::format("the module name \"{}\" is not a C identifier (letters, digits and _, not "
                                   "starting with a digit, at most 64 characters)", options.name));
   if (reserved_by_cmake(options.name))
      throw UsageError(fmt::format("the module name \"{}\" is a target name CMake reserves", options.name));
   if (options.lang != "c" && options.lang != "cpp")
      throw UsageError(fmt::format("--lang must be c or cpp, not \"{}\"", options.lang));
   const fs::path dir = options.dir.empty() ? fs::path(options.name) : fs::path(options.dir);
   std::error_code ec;
   const fs::file_status status = fs::status(dir, ec);
   if (fs::exists(status)) {
      if (!fs::is_directory(status)) throw UsageError(fmt::format("{} exists and is not a directory", dir.string()));
      if (!fs::is_empty(dir, ec) || ec)
         throw UsageError(fmt::format("{} exists and is not empty; modkit new writes only into a new or empty directory",
                                      dir.string()));
   }
   fs::create_directories(dir, ec);
   if (ec) throw UsageError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));

   nlohmann::json files = nlohmann::json::array();
   for (const ProjectFile &file : project_files(options.name, options.lang)) {
      write_text_file((dir / file.path).string(), file.text, "project file");
      files.push_back(file.path);
   }
   if (options.json) {
      print_json({{"command", "new"},
                  {"ok", true},
                  {"name", options.name},
                  {"lang", options.lang},
                  {"dir", dir.string()},
                  {"files", std::move(files)}});
   } else {
      std::string list;
      for (const auto &f : files) list += (list.empty() ? "" : ", ") + f.get<std::string>();
      std::printf("created the %s module project %s in %s: %s\n"
                  "next: cmake -S %s -B %s/build -DCMAKE_PREFIX_PATH=<modkit prefix> && cmake --build %s/build\n"
                  "      modkit check %s/build/%s.so --config %s/config.json\n",
                  options.lang == "c" ? "C" : "C++", options.name.c_str(), dir.c_str(), list.c_str(), dir.c_str(),
                  dir.c_str(), dir.c_str(), dir.c_str(), options.name.c_str(), dir.c_str());
   }
   return exit_ok;
}

} // namespace modkit::cli
