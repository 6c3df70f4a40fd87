#include "environment_checks.hpp"

#include "elf/host_runtime.hpp"

#include <glob.h>
#include <link.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <set>

namespace modkit::loader {

namespace {

std::vector<std::string> split(const std::string &text, char sep) {
   std::vector<std::string> out;
   size_t start = 0;
   while (start <= text.size()) {
      size_t end = text.find(sep, start);
      if (end == std::string::npos) end = text.size();
      if (end > start) out.push_back(text.substr(start, end - start));
      start = end + 1;
   }
   return out;
}

std::string expand_origin(std::string entry, const std::string &origin) {
   for (const char *token : {"${ORIGIN}", "$ORIGIN"}) {
      for (size_t at; (at = entry.find(token)) != std::string::npos;) entry.replace(at, std::string(token).size(), origin);
   }
   return entry;
}

// Lexically resolves "." and ".." (the directories need not exist).
std::string normalise(const std::string &path) {
   std::vector<std::string> parts;
   for (const auto &p : split(path, '/')) {
      if (p == ".") continue;
      if (p == "..") {
         if (!parts.empty()) parts.pop_back();
         continue;
      }
      parts.push_back(p);
   }
   std::string out;
   for (const auto &p : parts) out += "/" + p;
   return out.empty() ? "/" : out;
}

bool inside(const std::string &path, const std::string &dir) {
   return path == dir || path.compare(0, dir.size() + 1, dir + "/") == 0;
}

// Base names of every object loaded in this process.
std::set<std::string> loaded_objects() {
   std::set<std::string> names;
   dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) {
         const std::string name = info->dlpi_name ? info->dlpi_name : "";
         if (!name.empty()) static_cast<std::set<std::string> *>(data)->insert(name.substr(name.rfind('/') + 1));
         return 0;
      },
      &names);
   return names;
}

void ld_so_conf(const std::string &file, std::vector<std::string> &dirs, int depth = 0) {
   std::ifstream in(file);
   std::string line;
   while (depth < 4 && std::getline(in, line)) {
      line = line.substr(0, line.find('#'));
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
      if (line.rfind("include ", 0) == 0) {
         glob_t g{};
         if (::glob(line.substr(8).c_str(), 0, nullptr, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; ++i) ld_so_conf(g.gl_pathv[i], dirs, depth + 1);
         }
         ::globfree(&g);
      } else if (!line.empty() && line.front() == '/') {
         dirs.push_back(line);
      }
   }
}

// The directories the dynamic linker searches for a module, in its order.
std::vector<std::string> search_dirs(const elf::Facts &facts, const std::string &module_dir) {
   std::vector<std::string> dirs;
   for (const auto &e : split(facts.rpath, ':')) dirs.push_back(expand_origin(e, module_dir));
   if (const char *env = std::getenv("LD_LIBRARY_PATH"))
      for (const auto &e : split(env, ':')) dirs.push_back(e);
   for (const auto &e : split(facts.runpath, ':')) dirs.push_back(expand_origin(e, module_dir));
   ld_so_conf("/etc/ld.so.conf", dirs);
   for (const char *d : {"/lib64", "/usr/lib64", "/lib", "/usr/lib"}) dirs.emplace_back(d);
   return dirs;
}

elf::Finding finding(const char *check, std::string subject, std::string expected, std::string found) {
   elf::Finding f;
   f.check = check;
   f.subject = std::move(subject);
   f.expected = std::move(expected);
   f.found = std::move(found);
   return f;
}

} // namespace

std::vector<elf::Finding> check_search_path(const elf::Facts &facts, const std::string &module_dir) {
   std::vector<elf::Finding> out;
   std::string outside;
   for (const auto *list : {&facts.rpath, &facts.runpath}) {
      for (const auto &entry : split(*list, ':')) {
         if (!inside(normalise(expand_origin(entry, module_dir)), normalise(module_dir)))
            outside += (outside.empty() ? "" : ", ") + entry;
      }
   }
   if (!outside.empty())
      out.push_back(finding("hygiene.runpath", "library search path (RPATH/RUNPATH)",
                            "entries inside the module's directory ($ORIGIN)", outside));
   return out;
}

std::vector<elf::Finding> check_needed_libraries(const elf::Facts &facts, const std::string &module_dir) {
   std::vector<elf::Finding> out;
   if (facts.needed.empty()) return out;
   const std::set<std::string> loaded = loaded_objects();
   const std::vector<std::string> dirs = search_dirs(facts, module_dir);
   std::string missing;
   for (const auto &lib : facts.needed) {
      bool found = loaded.count(lib.substr(lib.rfind('/') + 1)) > 0;
      struct stat st {};
      if (!found && lib.find('/') != std::string::npos) found = ::stat(lib.c_str(), &st) == 0;
      for (size_t i = 0; !found && lib.find('/') == std::string::npos && i < dirs.size(); ++i)
         found = ::stat((dirs[i] + "/" + lib).c_str(), &st) == 0 && S_ISREG(st.st_mode);
      if (!found) missing += (missing.empty() ? "" : ", ") + lib;
   }
   if (!missing.empty())
      out.push_back(finding("hygiene.needed_libraries", "needed libraries",
                            "libraries the dynamic linker can find", missing + " (not loaded and not found in its search path)"));
   return out;
}

std::vector<elf::Finding> check_symbol_versions(const elf::Facts &facts) {
   return elf::check_symbol_versions(facts, elf::host_runtime_versions());
}

} // namespace modkit::loader
