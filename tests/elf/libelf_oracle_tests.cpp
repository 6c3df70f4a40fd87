// libelf_oracle_tests.cpp - the reader against libelf, the reference implementation, on the
// fixtures and on the system's own libraries. The loader parses with its own bounds-checked
// code (fuzzed, const bytes, no mapping); this keeps that code honest.
#include "fixture.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

using namespace modkit::elf;
using namespace modkit::elf::test;

namespace {

struct Oracle {
   unsigned elf_class = 0, machine = 0, type = 0;
   std::vector<std::string> needed;
   std::string soname;
   std::vector<std::string> manifests;
   std::vector<std::string> exports;
};

bool oracle_read(const std::string &path, Oracle &out) {
   if (elf_version(EV_CURRENT) == EV_NONE) return false;
   const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
   if (fd < 0) return false;
   Elf *e = elf_begin(fd, ELF_C_READ, nullptr);
   GElf_Ehdr eh;
   bool ok = e && gelf_getehdr(e, &eh);
   if (ok) {
      out.elf_class = static_cast<unsigned>(gelf_getclass(e));
      out.machine = eh.e_machine;
      out.type = eh.e_type;
      size_t phnum = 0;
      elf_getphdrnum(e, &phnum);
      for (size_t i = 0; i < phnum; ++i) {
         GElf_Phdr ph;
         if (!gelf_getphdr(e, static_cast<int>(i), &ph) || ph.p_type != PT_NOTE) continue;
         Elf_Data *d = elf_getdata_rawchunk(e, static_cast<int64_t>(ph.p_offset), ph.p_filesz, ELF_T_NHDR);
         GElf_Nhdr nh;
         size_t name_off = 0, desc_off = 0;
         for (size_t off = 0; d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0;) {
            const char *base = static_cast<const char *>(d->d_buf);
            if (nh.n_namesz == 7 && std::memcmp(base + name_off, "modkit", 7) == 0 && nh.n_type == 0x4d4b0001u) {
               std::string desc(base + desc_off, nh.n_descsz);
               while (!desc.empty() && desc.back() == '\0') desc.pop_back();
               out.manifests.push_back(desc);
            }
         }
      }
      for (Elf_Scn *scn = nullptr; (scn = elf_nextscn(e, scn));) {
         GElf_Shdr sh;
         if (!gelf_getshdr(scn, &sh)) continue;
         Elf_Data *d = elf_getdata(scn, nullptr);
         if (sh.sh_type == SHT_DYNAMIC && d) {
            for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
               GElf_Dyn dyn;
               if (!gelf_getdyn(d, static_cast<int>(i), &dyn)) continue;
               if (dyn.d_tag == DT_NEEDED) out.needed.emplace_back(elf_strptr(e, sh.sh_link, dyn.d_un.d_val));
               if (dyn.d_tag == DT_SONAME) out.soname = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
            }
         }
         if (sh.sh_type == SHT_DYNSYM && d) {
            for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; ++i) {
               GElf_Sym sym;
               if (!gelf_getsym(d, static_cast<int>(i), &sym) || sym.st_shndx == SHN_UNDEF) continue;
               const unsigned bind = GELF_ST_BIND(sym.st_info);
               const unsigned vis = GELF_ST_VISIBILITY(sym.st_other);
               if ((bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE) &&
                   (vis == STV_DEFAULT || vis == STV_PROTECTED))
                  out.exports.emplace_back(elf_strptr(e, sh.sh_link, sym.st_name));
            }
         }
      }
   }
   if (e) elf_end(e);
   ::close(fd);
   return ok;
}

void compare(const std::string &path) {
   INFO("file: " << path);
   Oracle want;
   REQUIRE(oracle_read(path, want));
   const Facts got = facts_of(path.c_str());
   CHECK(got.elf_class == want.elf_class);
   CHECK(got.machine == want.machine);
   CHECK(got.type == want.type);
   CHECK(got.needed == want.needed);
   CHECK(got.soname == want.soname);
   CHECK(got.manifests == want.manifests);
   std::vector<std::string> exports;
   for (const auto &s : got.exports) exports.push_back(s.name);
   std::sort(exports.begin(), exports.end());
   std::sort(want.exports.begin(), want.exports.end());
   CHECK(exports == want.exports);
}

} // namespace

TEST_CASE("the reader agrees with libelf on the fixtures") {
   for (const char *path : {ELF_GOOD, ELF_EXECSTACK, ELF_STATIC_TLS, ELF_TWO_MANIFESTS, ELF_NO_ENTRY, ELF_PIE})
      compare(path);
}

TEST_CASE("the reader agrees with libelf on the system's shared libraries") {
   // The C and C++ runtimes every module links against, and a few more, when present.
   size_t compared = 0;
   for (const char *dir : {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64"}) {
      for (const char *name : {"libc.so.6", "libstdc++.so.6", "libm.so.6", "libz.so.1", "libelf.so.1", "libffi.so.8"}) {
         const std::string path = std::string(dir) + "/" + name;
         if (!std::filesystem::exists(path)) continue;
         compare(std::filesystem::canonical(path).string());
         ++compared;
      }
   }
   CHECK(compared >= 3);
}
