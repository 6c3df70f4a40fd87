#include "link.hpp"

#include "min_sizes.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <link.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace modkit::loader {

namespace {

// The kernel's answer for one address (PROCMAP_QUERY, Linux 6.11): one ioctl on
// /proc/self/maps, without formatting and parsing the text of every mapping. The layout is the
// kernel's UAPI struct procmap_query (linux/fs.h), declared here for older headers.
struct ProcmapQuery {
   uint64_t size;
   uint64_t query_flags;
   uint64_t query_addr;
   uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset;
   uint64_t inode;
   uint32_t dev_major, dev_minor;
   uint32_t vma_name_size, build_id_size;
   uint64_t vma_name_addr, build_id_addr;
};
static_assert(sizeof(ProcmapQuery) == 104, "struct procmap_query is 104 bytes");
constexpr unsigned long procmap_query_request = _IOWR('f', 17, ProcmapQuery);

// Cleared once the kernel says it has no PROCMAP_QUERY, so older kernels try it only once.
std::atomic<bool> procmap_query_available{true};

enum class Query { found, not_mapped, unsupported };

Query query_mapping(int maps_fd, const void *address, dev_t &dev, ino_t &ino) {
   if (!procmap_query_available.load(std::memory_order_relaxed)) return Query::unsupported;
   ProcmapQuery q{};
   q.size = sizeof q;
   q.query_addr = reinterpret_cast<uintptr_t>(address);
   if (::ioctl(maps_fd, procmap_query_request, &q) == 0) {
      dev = makedev(q.dev_major, q.dev_minor);
      ino = static_cast<ino_t>(q.inode);
      return Query::found;
   }
   if (errno == ENOENT) return Query::not_mapped;
   if (errno == ENOTTY || errno == EINVAL) procmap_query_available.store(false, std::memory_order_relaxed);
   return Query::unsupported;
}

// Reads a hexadecimal (base 16) or decimal (base 10) number at p, advancing p; false when
// there is none.
bool read_number(const char *&p, const char *end, unsigned base, unsigned long long &value) {
   const char *start = p;
   value = 0;
   for (; p < end; ++p) {
      unsigned digit;
      if (*p >= '0' && *p <= '9') digit = static_cast<unsigned>(*p - '0');
      else if (base == 16 && *p >= 'a' && *p <= 'f') digit = static_cast<unsigned>(*p - 'a' + 10);
      else break;
      value = value * base + digit;
   }
   return p != start;
}

bool skip(const char *&p, const char *end, char c) {
   if (p == end || *p != c) return false;
   ++p;
   return true;
}

// One line of /proc/self/maps: "lo-hi perms offset major:minor inode [path]".
enum class Line { below, found, above, malformed };

Line parse_maps_line(const char *p, const char *end, uintptr_t want, dev_t &dev, ino_t &ino) {
   unsigned long long lo = 0, hi = 0, offset = 0, major_id = 0, minor_id = 0, inode = 0;
   if (!read_number(p, end, 16, lo) || !skip(p, end, '-') || !read_number(p, end, 16, hi) || !skip(p, end, ' '))
      return Line::malformed;
   if (want < lo) return Line::above; // lines are sorted by address: no later line can hold it
   if (want >= hi) return Line::below;
   while (p < end && *p != ' ') ++p; // permissions
   if (!skip(p, end, ' ') || !read_number(p, end, 16, offset) || !skip(p, end, ' ') ||
       !read_number(p, end, 16, major_id) || !skip(p, end, ':') || !read_number(p, end, 16, minor_id) ||
       !skip(p, end, ' ') || !read_number(p, end, 10, inode))
      return Line::malformed;
   dev = makedev(static_cast<unsigned>(major_id), static_cast<unsigned>(minor_id));
   ino = static_cast<ino_t>(inode);
   return Line::found;
}

} // namespace

bool mapped_file_identity_from_text(int maps_fd, const void *address, dev_t &dev, ino_t &ino) {
   const auto want = reinterpret_cast<uintptr_t>(address);
   // Lines are short (a path is at most PATH_MAX); a longer one is skipped to its end.
   char buf[8192];
   size_t have = 0;
   bool skipping = false;
   for (;;) {
      const ssize_t n = ::read(maps_fd, buf + have, sizeof buf - have);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      have += static_cast<size_t>(n);
      const char *line = buf;
      const char *const end = buf + have;
      while (const char *nl = static_cast<const char *>(std::memchr(line, '\n', static_cast<size_t>(end - line)))) {
         if (!skipping) {
            switch (parse_maps_line(line, nl, want, dev, ino)) {
            case Line::found: return true;
            case Line::above: return false;
            default: break;
            }
         }
         skipping = false;
         line = nl + 1;
      }
      have = static_cast<size_t>(end - line);
      if (have == sizeof buf) { // no newline in a full buffer: drop the line's start
         have = 0;
         skipping = true;
      }
      std::memmove(buf, line, have);
   }
}

bool mapped_file_identity(const void *address, dev_t &dev, ino_t &ino) {
   const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
   if (fd < 0) return false;
   bool found = false;
   switch (query_mapping(fd, address, dev, ino)) {
   case Query::found: found = true; break;
   case Query::not_mapped: found = false; break;
   case Query::unsupported: found = mapped_file_identity_from_text(fd, address, dev, ino); break;
   }
   ::close(fd);
   return found;
}

namespace {

const char *base_name(const char *path) {
   const char *slash = std::strrchr(path, '/');
   return slash ? slash + 1 : path;
}

// Whether the dynamic linker has an object whose name matches(name). Reads its list in memory:
// unlike dlopen(RTLD_NOLOAD), which opens and reads the file to compare it with every loaded
// object, this makes no system call.
template <class Matches>
bool any_loaded_object(Matches matches) {
   return ::dl_iterate_phdr(
             [](dl_phdr_info *info, size_t, void *data) {
                return info->dlpi_name && (*static_cast<Matches *>(data))(info->dlpi_name) ? 1 : 0;
             },
             &matches) != 0;
}

// True when the dynamic linker already has an object under this name that is not the checked
// file: dlopen would hand back that stale object instead of reading the file.
bool name_taken_by_other_file(const std::string &name, const struct stat &st) {
   // No object of that file name at all (the usual case): nothing can be stale. Any object with
   // the same file name, whatever its directory (a symlinked one may be another spelling of
   // ours), gets the exact check below. Either way, link_module's identity check afterwards
   // refuses whatever file dlopen mapped if it is not the checked one.
   const char *base = base_name(name.c_str());
   if (!any_loaded_object([base](const char *loaded) { return std::strcmp(base_name(loaded), base) == 0; }))
      return false;
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

   if (desc->struct_size < min_size::module)
      return fail(MODKIT_E_VERSION_MISMATCH,
                  fmt::format("descriptor struct_size is {}; expected at least {} (ABI 1.0)", desc->struct_size,
                              min_size::module));
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
   // getdents64 on the directory itself: opendir would also fstat it and allocate a 32 KiB
   // buffer, on a path the loader takes three times per module.
   struct Entry {
      uint64_t ino;
      int64_t off;
      unsigned short reclen;
      unsigned char type;
      char name[1];
   };
   std::vector<pid_t> ids;
   const int fd = ::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   if (fd < 0) return ids;
   alignas(8) char buf[4096];
   for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long at = 0; at < n;) {
         const auto *entry = reinterpret_cast<const Entry *>(buf + at);
         if (entry->name[0] != '.') ids.push_back(static_cast<pid_t>(std::atol(entry->name)));
         at += entry->reclen;
      }
   }
   ::close(fd);
   std::sort(ids.begin(), ids.end());
   return ids;
}

bool still_mapped(const std::string &name) {
   return any_loaded_object([&name](const char *loaded) { return name == loaded; });
}

} // namespace modkit::loader
