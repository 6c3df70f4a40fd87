// Reading this process's runtimes: which are loaded, and what versions their files define.
#include "elf/host_runtime.hpp"

#include "elf/elf_facts.hpp"

#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <map>
#include <string>

namespace modkit::elf {
namespace {

// soname -> the path the dynamic linker loaded it from.
int collect_library(dl_phdr_info *info, size_t, void *data) {
   auto &paths = *static_cast<std::map<std::string, std::string> *>(data);
   const std::string path = info->dlpi_name != nullptr ? info->dlpi_name : "";
   const size_t slash = path.rfind('/');
   const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
   if (!base.empty() && paths.count(base) == 0) paths[base] = path;
   return 0;
}

// The names of the versions the library defines that carry symbols: every defined,
// versioned export names one.
std::vector<std::string> defined_versions(const std::string &path) {
   std::vector<std::string> names;
   const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
   if (fd < 0) return names;
   Facts facts;
   ParseError error;
   const bool ok = read_facts(fd, facts, error);
   ::close(fd);
   if (!ok) return names;
   for (const Symbol &s : facts.exports) {
      if (!s.version.empty()) names.push_back(s.version);
   }
   return names;
}

std::vector<RuntimeVersion> read_host_runtime_versions() {
   std::map<std::string, std::string> loaded;
   dl_iterate_phdr(collect_library, &loaded);
   std::map<std::string, std::vector<std::string>> versions_by_library;
   std::vector<RuntimeVersion> out;
   for (const RuntimeFamily &f : runtime_families()) {
      const auto lib = loaded.find(f.library);
      if (lib == loaded.end()) continue;
      auto cached = versions_by_library.find(lib->second);
      if (cached == versions_by_library.end())
         cached = versions_by_library.emplace(lib->second, defined_versions(lib->second)).first;
      for (const SymbolVersion &v : highest_versions(cached->second)) {
         if (v.family == f.family) out.push_back(RuntimeVersion{v.family, v.text(), lib->second});
      }
   }
   return out;
}

} // namespace

const std::vector<RuntimeVersion> &host_runtime_versions() {
   static const std::vector<RuntimeVersion> versions = read_host_runtime_versions();
   return versions;
}

} // namespace modkit::elf
