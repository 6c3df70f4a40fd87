#include "link.hpp"

#include <dlfcn.h>
#include <link.h>
#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cinttypes>
#include <cstdlib>
#include <dirent.h>
#include <cstdio>
#include <cstring>

namespace modkit::loader {

bool mapped_file_identity(const void *address, dev_t &dev, ino_t &ino) {
   FILE *maps = std::fopen("/proc/self/maps", "re");
   if (!maps) return false;
   const auto want = reinterpret_cast<uintptr_t>(address);
   char line[4096];
   bool found = false;
   while (!found && std::fgets(line, sizeof line, maps)) {
      uintptr_t lo = 0, hi = 0;
      unsigned dev_major = 0, dev_minor = 0;
      unsigned long long inode = 0;
      char perms[8];
      unsigned long long offset = 0;
      if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %llu", &lo, &hi, perms, &offset,
                      &dev_major, &dev_minor, &inode) != 7)
         continue;
      if (want >= lo && want < hi) {
         dev = makedev(dev_major, dev_minor);
         ino = static_cast<ino_t>(inode);
         found = true;
      }
   }
   std::fclose(maps);
   return found;
}

namespace {

// True when the dynamic linker already has an object under this name that is not the checked
// file: dlopen would hand back that stale object instead of reading the file.
bool name_taken_by_other_file(const std::string &name, const struct stat &st) {
   void *existing = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
   if (!existing) return false;
   struct link_map *map = nullptr;
   dev_t dev{};
   ino_t ino{};
   const bool known = ::dlinfo(existing, RTLD_DI_LINKMAP, &map) == 0 && map &&
                      mapped_file_identity(reinterpret_cast<const void *>(map->l_ld), dev, ino);
   ::dlclose(existing);
   return !known || dev != st.st_dev || ino != st.st_ino;
}

// glibc finds an already-loaded object by its name before it looks at the file, so after a
// module's file is replaced (a new build, a reload), dlopen(path) returns the old object. A
// different spelling of the same path ("/dir/./m.so") is a different name but still the real
// file name that debuggers and symbolizers read.
std::string name_for_loading(const std::string &path, const struct stat &st) {
   if (!name_taken_by_other_file(path, st)) return path;
   const auto slash = path.rfind('/');
   std::string dots;
   for (int attempt = 0; attempt < 64; ++attempt) {
      dots += "./";
      std::string alias = path.substr(0, slash + 1) + dots + path.substr(slash + 1);
      if (!name_taken_by_other_file(alias, st)) return alias;
   }
   return path; // the identity check below then refuses with a precise message
}

} // namespace

bool link_module(const std::string &path, const TrustedFile &file, Linked &out, modkit_status &code,
                 std::string &error) {
   const std::string name = name_for_loading(path, file.stat());
   ::dlerror();
   void *handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
   if (!handle) {
      const char *why = ::dlerror();
      code = MODKIT_E_INVALID_ARGUMENT;
      error = fmt::format("the dynamic linker refused the file after it passed the static checks: {}",
                          why ? why : "no reason given");
      return false;
   }
   auto fail = [&](modkit_status c, std::string message) {
      ::dlclose(handle);
      code = c;
      error = std::move(message);
      return false;
   };
   void *sym = ::dlsym(handle, MODKIT_ENTRY_SYMBOL);
   if (!sym) return fail(MODKIT_E_NOT_FOUND, "symbol modkit_module_entry not found after loading");

   dev_t dev{};
   ino_t ino{};
   if (!mapped_file_identity(sym, dev, ino))
      return fail(MODKIT_E_INTERNAL, "cannot find the loaded module in /proc/self/maps");
   const struct stat &st = file.stat();
   if (dev != st.st_dev || ino != st.st_ino)
      return fail(MODKIT_E_DENIED,
                  fmt::format("the file changed between check and load: checked device {}:{} inode {}, "
                              "the dynamic linker mapped device {}:{} inode {}",
                              major(st.st_dev), minor(st.st_dev), st.st_ino, major(dev), minor(dev), ino));

   modkit_module_entry_fn entry = nullptr;
   static_assert(sizeof entry == sizeof sym, "function and data pointers differ in size");
   std::memcpy(&entry, &sym, sizeof entry);
   const modkit_module *desc = entry(MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR);
   if (!desc)
      return fail(MODKIT_E_VERSION_MISMATCH,
                  "modkit_module_entry returned NULL: the module declined ABI " MODKIT_ABI_VERSION_STRING);

   constexpr size_t min_size = offsetof(modkit_module, deinit) + sizeof(desc->deinit);
   if (desc->struct_size < min_size)
      return fail(MODKIT_E_VERSION_MISMATCH,
                  fmt::format("descriptor struct_size is {}; expected at least {} (ABI 1.0)", desc->struct_size,
                              min_size));
   if (!modkit_abi_compatible(desc->abi_major, desc->abi_minor, MODKIT_ABI_VERSION_MAJOR,
                              MODKIT_ABI_VERSION_MINOR))
      return fail(MODKIT_E_VERSION_MISMATCH,
                  fmt::format("descriptor says ABI {}.{}; the loader provides {}.{}", desc->abi_major,
                              desc->abi_minor, MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
   if (!desc->name || !*desc->name || !desc->version || !*desc->version)
      return fail(MODKIT_E_INVALID_ARGUMENT, "descriptor has no name or no version");
   if (!desc->init) return fail(MODKIT_E_INVALID_ARGUMENT, "descriptor has no init function");
   out.handle = handle;
   out.desc = desc;
   out.name = name;
   return true;
}

std::vector<pid_t> process_threads() {
   std::vector<pid_t> ids;
   DIR *dir = ::opendir("/proc/self/task");
   if (!dir) return ids;
   while (const dirent *entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ids.push_back(static_cast<pid_t>(std::atol(entry->d_name)));
   }
   ::closedir(dir);
   std::sort(ids.begin(), ids.end());
   return ids;
}

bool still_mapped(const std::string &name) {
   void *handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
   if (!handle) return false;
   ::dlclose(handle);
   return true;
}

} // namespace modkit::loader
