// PT_DYNAMIC: dependencies, search paths, flags and the dynamic relocations ld.so will apply.
// Read from the segment (what ld.so reads), not from the .dynamic section.
#include "elf/elf_image.hpp"

#include <elf.h>

namespace modkit::elf::detail {
namespace {

// The relocation type that makes ld.so call an IFUNC resolver while relocating, per machine.
std::optional<uint32_t> irelative_type(unsigned machine) {
   switch (machine) {
   case EM_X86_64: return R_X86_64_IRELATIVE;
   case EM_AARCH64: return R_AARCH64_IRELATIVE;
   case EM_386: return R_386_IRELATIVE;
   case EM_ARM: return R_ARM_IRELATIVE;
   case EM_RISCV: return R_RISCV_IRELATIVE;
   case EM_PPC64: return R_PPC64_IRELATIVE;
   case EM_PPC: return R_PPC_IRELATIVE;
   case EM_S390: return R_390_IRELATIVE;
   case EM_LOONGARCH: return R_LARCH_IRELATIVE;
   default: return std::nullopt;
   }
}

struct Table {
   uint64_t addr = 0, size = 0, entsize = 0;
};

struct Dynamic {
   std::vector<uint64_t> needed;
   std::optional<uint64_t> soname, rpath, runpath;
   uint64_t strtab = 0, strsz = 0;
   bool has_strtab = false;
   uint64_t flags = 0, flags_1 = 0, init_arraysz = 0, pltrel = 0;
   bool textrel = false, bind_now = false, has_init = false;
   Table rela, rel, jmprel;
};

Dynamic read_entries(const Image &image, const Segment &segment) {
   const Bytes &b = image.bytes;
   const uint64_t word = image.is64 ? 8 : 4;
   Dynamic d;
   for (uint64_t at = 0; at + 2 * word <= segment.filesz; at += 2 * word) {
      const uint64_t tag = b.word(segment.offset + at, image.is64);
      const uint64_t value = b.word(segment.offset + at + word, image.is64);
      switch (tag) {
      case DT_NULL: return d;
      case DT_NEEDED: d.needed.push_back(value); break;
      case DT_SONAME: d.soname = value; break;
      case DT_RPATH: d.rpath = value; break;
      case DT_RUNPATH: d.runpath = value; break;
      case DT_STRTAB: d.strtab = value, d.has_strtab = true; break;
      case DT_STRSZ: d.strsz = value; break;
      case DT_FLAGS: d.flags |= value; break;
      case DT_FLAGS_1: d.flags_1 |= value; break;
      case DT_TEXTREL: d.textrel = true; break;
      case DT_BIND_NOW: d.bind_now = true; break;
      case DT_INIT: d.has_init = true; break;
      case DT_INIT_ARRAYSZ: d.init_arraysz = value; break;
      case DT_RELA: d.rela.addr = value; break;
      case DT_RELASZ: d.rela.size = value; break;
      case DT_RELAENT: d.rela.entsize = value; break;
      case DT_REL: d.rel.addr = value; break;
      case DT_RELSZ: d.rel.size = value; break;
      case DT_RELENT: d.rel.entsize = value; break;
      case DT_JMPREL: d.jmprel.addr = value; break;
      case DT_PLTRELSZ: d.jmprel.size = value; break;
      case DT_PLTREL: d.pltrel = value; break;
      default: break;
      }
   }
   return d; // no DT_NULL: the segment's end bounds the table
}

// True when the table holds a relocation of type wanted. rela: Elf*_Rela, else Elf*_Rel.
bool has_relocation(const Image &image, const Table &table, bool rela, uint32_t wanted,
                    const char *tag) {
   if (table.size == 0) return false;
   const uint64_t word = image.is64 ? 8 : 4;
   const uint64_t entry = rela ? 3 * word : 2 * word;
   if (table.entsize != 0 && table.entsize != entry) {
      fail(std::string(tag) + " entry size is wrong", tag, std::to_string(entry) + " bytes",
           std::to_string(table.entsize));
   }
   const std::optional<uint64_t> offset = image.file_offset(table.addr, table.size);
   if (!offset) {
      fail(std::string(tag) + " table outside the file", tag,
           "a range inside the file part of one PT_LOAD segment",
           hex(table.addr) + " + " + hex(table.size));
   }
   for (uint64_t at = 0; at + entry <= table.size; at += entry) {
      const uint64_t info = image.bytes.word(*offset + at + word, image.is64);
      const uint64_t type = image.is64 ? (info & 0xffffffffu) : (info & 0xffu);
      if (type == wanted) return true;
   }
   return false;
}

} // namespace

void read_dynamic(const Image &image, Facts &facts) {
   const Segment *segment = nullptr;
   for (const Segment &p : image.segments) {
      if (p.type == PT_DYNAMIC) {
         segment = &p;
         break;
      }
   }
   if (segment == nullptr) return;
   const Dynamic d = read_entries(image, *segment);

   const bool has_strings = !d.needed.empty() || d.soname || d.rpath || d.runpath;
   if (has_strings) {
      const std::optional<uint64_t> base =
         d.has_strtab ? image.file_offset(d.strtab, d.strsz) : std::nullopt;
      if (!base) {
         fail("DT_STRTAB outside the file", "DT_STRTAB + DT_STRSZ",
              "a range inside the file part of one PT_LOAD segment",
              d.has_strtab ? hex(d.strtab) + " + " + hex(d.strsz) : "no DT_STRTAB");
      }
      const uint64_t end = *base + d.strsz;
      const auto string_at = [&](uint64_t offset, const char *what) {
         if (offset >= d.strsz) {
            fail("string outside DT_STRTAB", what, "an offset below DT_STRSZ " + hex(d.strsz),
                 hex(offset));
         }
         return image.bytes.c_string(*base + offset, end, what);
      };
      for (uint64_t offset : d.needed) facts.needed.push_back(string_at(offset, "DT_NEEDED"));
      if (d.soname) facts.soname = string_at(*d.soname, "DT_SONAME");
      if (d.rpath) facts.rpath = string_at(*d.rpath, "DT_RPATH");
      if (d.runpath) facts.runpath = string_at(*d.runpath, "DT_RUNPATH");
   }

   facts.static_tls = (d.flags & DF_STATIC_TLS) != 0;
   facts.textrel = d.textrel || (d.flags & DF_TEXTREL) != 0;
   facts.bind_now = d.bind_now || (d.flags & DF_BIND_NOW) != 0 || (d.flags_1 & DF_1_NOW) != 0;
   facts.has_init = d.has_init;
   facts.init_array_count = static_cast<size_t>(d.init_arraysz / (image.is64 ? 8 : 4));

   if (const std::optional<uint32_t> irelative = irelative_type(image.machine)) {
      // Every table is read (no short circuit), so each one's bounds are always checked.
      const bool in_rela = has_relocation(image, d.rela, true, *irelative, "DT_RELA");
      const bool in_rel = has_relocation(image, d.rel, false, *irelative, "DT_REL");
      const bool in_plt =
         has_relocation(image, d.jmprel, d.pltrel != DT_REL, *irelative, "DT_JMPREL");
      facts.has_irelative = in_rela || in_rel || in_plt;
   }
}

} // namespace modkit::elf::detail
