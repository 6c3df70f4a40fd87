// .dynsym with its versions (.gnu.version, .gnu.version_r, .gnu.version_d), found through the
// section headers.
#include "elf/elf_image.hpp"

#include <elf.h>

#include <map>

namespace modkit::elf::detail {
namespace {

using VersionNames = std::map<unsigned, std::string>; // version index -> name

const Section *find_section(const Image &image, uint32_t type) {
   for (const Section &s : image.sections) {
      if (s.type == type) return &s;
   }
   return nullptr;
}

const Section &linked_strings(const Image &image, const Section &section, const char *what) {
   if (section.link >= image.sections.size() || image.sections[section.link].type != SHT_STRTAB) {
      fail("string table link is wrong", std::string(what) + " sh_link",
           "the index of a SHT_STRTAB section", std::to_string(section.link));
   }
   return image.sections[section.link];
}

std::string string_in(const Image &image, const Section &strings, uint64_t offset,
                      const char *what) {
   if (offset >= strings.size) {
      fail("string outside its table", what, "an offset below " + hex(strings.size), hex(offset));
   }
   return image.bytes.c_string(strings.offset + offset, strings.offset + strings.size, what);
}

// A record of size bytes at offset inside the section, or a Failure naming what.
uint64_t record(const Section &section, uint64_t offset, uint64_t size, const char *what) {
   if (offset > section.size || size > section.size - offset) {
      fail(std::string(what) + " runs past its section", what,
           "a record inside the " + std::to_string(section.size) + "-byte section",
           std::to_string(size) + " bytes at " + hex(offset));
   }
   return section.offset + offset;
}

// Records in a well-formed table are never shared, so a chain that visits more records than
// fit in the section is a crafted loop or overlap: refuse it rather than walk it for hours.
void spend(uint64_t &budget, const char *what) {
   if (budget == 0) {
      fail("version records overlap", what, "each record read once", "a chain revisiting records");
   }
   --budget;
}

void read_version_needs(const Image &image, Facts &facts, VersionNames &names) {
   const Section *s = find_section(image, SHT_GNU_verneed);
   if (s == nullptr) return;
   const Section &strings = linked_strings(image, *s, ".gnu.version_r");
   const Bytes &b = image.bytes;
   uint64_t budget = s->size / 16;
   uint64_t at = 0;
   for (uint64_t n = 0; n < s->info; ++n) {
      spend(budget, "Elf_Verneed");
      const uint64_t need = record(*s, at, 16, "Elf_Verneed");
      const std::string file = string_in(image, strings, b.u32(need + 4), "vn_file");
      uint64_t aux = at + b.u32(need + 8);
      for (unsigned k = 0, count = b.u16(need + 2); k < count; ++k) {
         spend(budget, "Elf_Vernaux");
         const uint64_t entry = record(*s, aux, 16, "Elf_Vernaux");
         std::string version = string_in(image, strings, b.u32(entry + 8), "vna_name");
         names[b.u16(entry + 6) & 0x7fffu] = version;
         facts.version_needs.push_back(VersionNeed{file, std::move(version)});
         const uint32_t next = b.u32(entry + 12);
         if (next == 0) break;
         aux += next;
      }
      const uint32_t next = b.u32(need + 12);
      if (next == 0) break;
      at += next;
   }
}

void read_version_definitions(const Image &image, VersionNames &names) {
   const Section *s = find_section(image, SHT_GNU_verdef);
   if (s == nullptr) return;
   const Section &strings = linked_strings(image, *s, ".gnu.version_d");
   const Bytes &b = image.bytes;
   uint64_t budget = s->size / 20;
   uint64_t at = 0;
   for (uint64_t n = 0; n < s->info; ++n) {
      spend(budget, "Elf_Verdef");
      const uint64_t def = record(*s, at, 20, "Elf_Verdef");
      if (b.u16(def + 6) != 0) { // vd_cnt: the first Elf_Verdaux names the version
         const uint64_t aux = record(*s, at + b.u32(def + 12), 8, "Elf_Verdaux");
         names[b.u16(def + 4) & 0x7fffu] = string_in(image, strings, b.u32(aux), "vda_name");
      }
      const uint32_t next = b.u32(def + 16);
      if (next == 0) break;
      at += next;
   }
}

} // namespace

void read_symbols(const Image &image, Facts &facts) {
   VersionNames names;
   read_version_needs(image, facts, names);
   read_version_definitions(image, names);

   const Section *dynsym = find_section(image, SHT_DYNSYM);
   if (dynsym == nullptr) return;
   const uint64_t entry = image.is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
   if (dynsym->entsize != entry) {
      fail(".dynsym entry size is wrong", ".dynsym sh_entsize", std::to_string(entry),
           std::to_string(dynsym->entsize));
   }
   const Section &strings = linked_strings(image, *dynsym, ".dynsym");
   const uint64_t count = dynsym->size / entry;
   const Section *versym = find_section(image, SHT_GNU_versym);
   if (versym != nullptr && versym->size / 2 < count) {
      fail(".gnu.version too short", ".gnu.version sh_size",
           "2 bytes for each of " + std::to_string(count) + " symbols",
           std::to_string(versym->size));
   }

   const Bytes &b = image.bytes;
   for (uint64_t i = 1; i < count; ++i) { // symbol 0 is the reserved null symbol
      const uint64_t at = dynsym->offset + i * entry;
      const unsigned info = b.u8(at + (image.is64 ? 4 : 12));
      const unsigned other = b.u8(at + (image.is64 ? 5 : 13));
      const unsigned shndx = b.u16(at + (image.is64 ? 6 : 14));
      // st_info is the same byte in both classes: bind in the high nibble, type in the low.
      Symbol symbol{string_in(image, strings, b.u32(at), "st_name"), "", 0, 0, false};
      symbol.type = info & 0xfu;
      symbol.bind = info >> 4;
      symbol.defined = shndx != SHN_UNDEF;
      symbol.visibility = other & 0x3u;
      if (symbol.bind == STB_LOCAL) continue;
      if (versym != nullptr) {
         const unsigned index = b.u16(versym->offset + 2 * i) & 0x7fffu;
         // 0 is local, 1 the unversioned global; a dangling index is left without a name.
         const auto found = names.find(index);
         if (index > VER_NDX_GLOBAL && found != names.end()) symbol.version = found->second;
      }
      if (!symbol.defined) {
         facts.imports.push_back(std::move(symbol));
         continue;
      }
      if (symbol.visibility == STV_HIDDEN || symbol.visibility == STV_INTERNAL) continue;
      if (symbol.bind == STB_GNU_UNIQUE) facts.unique_symbols.push_back(symbol.name);
      if (symbol.type == STT_GNU_IFUNC) facts.ifunc_symbols.push_back(symbol.name);
      facts.exports.push_back(std::move(symbol));
   }
}

} // namespace modkit::elf::detail
