#include "resolve.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>

namespace modkit::loader {

namespace {

bool has_dot_component(const std::string &path) {
   size_t start = 0;
   while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      const std::string part = path.substr(start, end - start);
      if (part == "." || part == "..") return true;
      start = end + 1;
   }
   return false;
}

bool ends_with(const std::string &s, const std::string &suffix) {
   return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

bool absolute_module_dirs(const std::vector<std::string> &dirs, const std::string &base_dir,
                          std::vector<std::string> &out, std::string &error) {
   for (const auto &dir : dirs) {
      std::string abs = dir;
      if (abs.front() != '/') {
         std::string base = base_dir;
         if (base.empty()) {
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) {
               error = "cannot resolve relative directory \"" + dir + "\": the current directory is unavailable";
               return false;
            }
            base = cwd;
         }
         abs = base + "/" + dir;
      }
      if (has_dot_component(abs)) {
         error = "directory \"" + dir + "\" contains a \".\" or \"..\" component; expected a plain path";
         return false;
      }
      while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
      out.push_back(abs);
   }
   return true;
}

bool resolve_module(const std::string &module, const std::vector<std::string> &dirs,
                    std::string &path, std::string &error) {
   if (module.find('/') != std::string::npos) {
      if (module.front() != '/') {
         error = "\"" + module + "\" is a relative path; expected a bare module name or an absolute path";
         return false;
      }
      if (has_dot_component(module)) {
         error = "\"" + module + "\" contains a \".\" or \"..\" component; expected a plain absolute path";
         return false;
      }
      if (module.size() >= PATH_MAX) {
         error = "path is longer than PATH_MAX";
         return false;
      }
      path = module;
      return true;
   }
   if (module == "." || module == "..") {
      error = "\"" + module + "\" is not a module name";
      return false;
   }
   if (dirs.empty()) {
      error = "\"" + module + "\" is a bare name but the host config has no \"module_path\"; expected "
              "an absolute path or a module_path entry";
      return false;
   }
   const std::string file = ends_with(module, ".so") ? module : module + ".so";
   std::string searched;
   for (const auto &dir : dirs) {
      const std::string candidate = dir + "/" + file;
      struct stat st;
      if (lstat(candidate.c_str(), &st) == 0) {
         path = candidate;
         return true;
      }
      searched += (searched.empty() ? "" : ", ") + dir;
   }
   error = "no file \"" + file + "\" in module_path (searched " + searched + ")";
   return false;
}

} // namespace modkit::loader
