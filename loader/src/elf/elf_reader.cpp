// The ELF header, program headers and section headers, and the reader's two entry points.
#include "elf/elf_image.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace modkit::elf {
namespace detail {
namespace {

constexpr size_t ehdr_size(bool is64) { return is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr); }
constexpr size_t phdr_size(bool is64) { return is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr); }
constexpr size_t shdr_size(bool is64) { return is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr); }

std::string byte_list(const unsigned char *data, size_t size) {
   static const char digits[] = "0123456789abcdef";
   std::string out;
   for (size_t i = 0; i < size; ++i) {
      if (i != 0) out += ' ';
      out += digits[data[i] >> 4];
      out += digits[data[i] & 0xf];
   }
   return out;
}

// The identification bytes. Facts are filled only once the whole ELF header is known to be
// present, so a failed read leaves either nothing or the ident and header fields.
void read_ident(const unsigned char *data, size_t size, Facts &facts) {
   const size_t magic = size < SELFMAG ? size : SELFMAG;
   if (std::memcmp(data, ELFMAG, magic) != 0) {
      fail("not an ELF file", "e_ident[EI_MAG0..EI_MAG3]", "7f 45 4c 46", byte_list(data, magic));
   }
   if (size < EI_NIDENT) {
      fail("file too short", "file size", "at least 64 bytes", std::to_string(size));
   }
   const unsigned elf_class = data[EI_CLASS], encoding = data[EI_DATA];
   if (elf_class != ELFCLASS32 && elf_class != ELFCLASS64) {
      fail("unsupported ELF class", "e_ident[EI_CLASS]", "ELFCLASS32 (1) or ELFCLASS64 (2)",
           std::to_string(elf_class));
   }
   if (encoding != ELFDATA2LSB && encoding != ELFDATA2MSB) {
      fail("unsupported data encoding", "e_ident[EI_DATA]", "ELFDATA2LSB (1) or ELFDATA2MSB (2)",
           std::to_string(encoding));
   }
   const size_t need = ehdr_size(elf_class == ELFCLASS64);
   if (size < need) {
      fail("file too short", "file size", "at least " + std::to_string(need) + " bytes",
           std::to_string(size));
   }
   facts.elf_class = elf_class;
   facts.data = encoding;
   facts.ident_version = data[EI_VERSION];
   facts.osabi = data[EI_OSABI];
}

// count entries of entry_size bytes at offset must lie inside the file.
void check_table(const Bytes &bytes, uint64_t offset, uint64_t count, uint64_t entry_size,
                 const char *problem, const char *field) {
   if (count > bytes.size() / entry_size || !bytes.contains(offset, count * entry_size)) {
      fail(problem, field,
           "offset + " + std::to_string(count) + " * " + std::to_string(entry_size) +
              " bytes <= " + std::to_string(bytes.size()) + " (the file size)",
           "offset " + hex(offset));
   }
}

Section read_section(const Bytes &b, uint64_t at, bool is64) {
   Section s;
   s.type = b.u32(at + 4);
   if (is64) {
      s.flags = b.u64(at + 8);
      s.addr = b.u64(at + 16);
      s.offset = b.u64(at + 24);
      s.size = b.u64(at + 32);
      s.link = b.u32(at + 40);
      s.info = b.u32(at + 44);
      s.addralign = b.u64(at + 48);
      s.entsize = b.u64(at + 56);
   } else {
      s.flags = b.u32(at + 8);
      s.addr = b.u32(at + 12);
      s.offset = b.u32(at + 16);
      s.size = b.u32(at + 20);
      s.link = b.u32(at + 24);
      s.info = b.u32(at + 28);
      s.addralign = b.u32(at + 32);
      s.entsize = b.u32(at + 36);
   }
   return s;
}

Segment read_segment(const Bytes &b, uint64_t at, bool is64) {
   Segment p;
   p.type = b.u32(at);
   if (is64) {
      p.flags = b.u32(at + 4);
      p.offset = b.u64(at + 8);
      p.vaddr = b.u64(at + 16);
      p.filesz = b.u64(at + 32);
      p.memsz = b.u64(at + 40);
      p.align = b.u64(at + 48);
   } else {
      p.offset = b.u32(at + 4);
      p.vaddr = b.u32(at + 8);
      p.filesz = b.u32(at + 16);
      p.memsz = b.u32(at + 20);
      p.flags = b.u32(at + 24);
      p.align = b.u32(at + 28);
   }
   return p;
}

// PT_LOAD segments must come in ascending p_vaddr order without overlapping (the ELF
// specification's rule): the dynamic linker maps them one after the other with MAP_FIXED, so an
// overlapping segment would silently replace part of an earlier one.
void check_load_order(const std::vector<Segment> &segments) {
   const Segment *previous = nullptr;
   size_t previous_index = 0;
   for (size_t i = 0; i < segments.size(); ++i) {
      const Segment &p = segments[i];
      if (p.type != PT_LOAD) continue;
      const std::string header = "program header [" + std::to_string(i) + "]";
      if (p.vaddr + p.memsz < p.vaddr) {
         fail("loadable segment wraps around the address space", header + " p_vaddr + p_memsz",
              "an end inside the address space", hex(p.vaddr) + " + " + hex(p.memsz));
      }
      if (previous != nullptr && p.vaddr < previous->vaddr + previous->memsz) {
         fail("loadable segments overlap or are out of order", header + " p_vaddr",
              "PT_LOAD segments in ascending order, apart: p_vaddr at or above " +
                 hex(previous->vaddr + previous->memsz) + ", where program header [" +
                 std::to_string(previous_index) + "] ends",
              hex(p.vaddr) + " in " + header);
      }
      previous = &p;
      previous_index = i;
   }
}

void check_entry_size(unsigned found, size_t expected, const char *field) {
   if (found != expected) {
      fail(std::string(field) + " is wrong", field, std::to_string(expected),
           std::to_string(found));
   }
}

} // namespace

Image read_headers(const unsigned char *data, size_t size, Facts &facts) {
   read_ident(data, size, facts);
   Image image{Bytes(data, size)};
   Bytes &b = image.bytes;
   const bool is64 = facts.elf_class == ELFCLASS64;
   image.is64 = is64;
   b.set_big_endian(facts.data == ELFDATA2MSB);

   facts.type = b.u16(16);
   facts.machine = image.machine = b.u16(18);
   facts.version = b.u32(20);
   const uint64_t phoff = is64 ? b.u64(32) : b.u32(28);
   const uint64_t shoff = is64 ? b.u64(40) : b.u32(32);
   const unsigned at = is64 ? 54 : 42; // e_phentsize, then e_phnum, e_shentsize, e_shnum
   const unsigned phentsize = b.u16(at), shentsize = b.u16(at + 4);
   uint64_t phnum = b.u16(at + 2), shnum = b.u16(at + 6);

   // Section headers first: with more than 0xfeff sections or 0xfffe segments the real counts
   // live in section 0 (e_shnum == 0, e_phnum == PN_XNUM).
   if (shoff != 0) {
      check_entry_size(shentsize, shdr_size(is64), "e_shentsize");
      if (shnum == 0 || phnum == PN_XNUM) {
         check_table(b, shoff, 1, shentsize, "section header table extends beyond the file",
                     "e_shoff");
         const Section first = read_section(b, shoff, is64);
         if (shnum == 0) shnum = first.size;
         if (phnum == PN_XNUM) phnum = first.info;
      }
      check_table(b, shoff, shnum, shentsize, "section header table extends beyond the file",
                  "e_shoff");
      image.sections.reserve(shnum);
      for (uint64_t i = 0; i < shnum; ++i) {
         const Section s = read_section(b, shoff + i * shentsize, is64);
         if (s.type != SHT_NULL && s.type != SHT_NOBITS && !b.contains(s.offset, s.size)) {
            fail("section extends beyond the file",
                 "section [" + std::to_string(i) + "] sh_offset + sh_size",
                 "<= " + std::to_string(size) + " (the file size)",
                 hex(s.offset) + " + " + hex(s.size));
         }
         image.sections.push_back(s);
      }
   }

   if (phnum != 0) {
      check_entry_size(phentsize, phdr_size(is64), "e_phentsize");
      check_table(b, phoff, phnum, phentsize, "program header table extends beyond the file",
                  "e_phoff");
      image.segments.reserve(phnum);
      for (uint64_t i = 0; i < phnum; ++i) {
         const Segment p = read_segment(b, phoff + i * phentsize, is64);
         if (!b.contains(p.offset, p.filesz)) {
            fail("segment extends beyond the file",
                 "program header [" + std::to_string(i) + "] p_offset + p_filesz",
                 "<= " + std::to_string(size) + " (the file size)",
                 hex(p.offset) + " + " + hex(p.filesz));
         }
         image.segments.push_back(p);
      }
      check_load_order(image.segments);
   }
   return image;
}

void read_segments(const Image &image, Facts &facts) {
   for (const Segment &p : image.segments) {
      switch (p.type) {
      case PT_INTERP:
         facts.has_interp = true;
         facts.interp = image.bytes.c_string(p.offset, p.offset + p.filesz, "PT_INTERP");
         break;
      case PT_DYNAMIC: facts.has_dynamic = true; break;
      case PT_GNU_STACK:
         facts.has_gnu_stack = true;
         facts.exec_stack = facts.exec_stack || (p.flags & PF_X) != 0;
         break;
      case PT_GNU_RELRO: facts.has_relro = true; break;
      case PT_TLS: facts.tls_size = p.memsz > facts.tls_size ? p.memsz : facts.tls_size; break;
      default: break;
      }
   }
   if (!image.segments.empty() && !facts.has_gnu_stack) facts.exec_stack = true;
}

std::optional<uint64_t> Image::file_offset(uint64_t vaddr, uint64_t length) const {
   for (const Segment &p : segments) {
      if (p.type != PT_LOAD || vaddr < p.vaddr) continue;
      const uint64_t skip = vaddr - p.vaddr;
      if (skip <= p.filesz && length <= p.filesz - skip) return p.offset + skip;
   }
   return std::nullopt;
}

} // namespace detail

bool read_facts_memory(const void *data, size_t size, Facts &out, ParseError &error) {
   out = Facts{};
   error = ParseError{};
   if (data == nullptr) size = 0;
   try {
      const auto *bytes = static_cast<const unsigned char *>(data);
      if (size == 0) detail::fail("file too short", "file size", "at least 64 bytes", "0");
      const detail::Image image = detail::read_headers(bytes, size, out);
      detail::read_segments(image, out);
      detail::read_dynamic(image, out);
      detail::read_symbols(image, out);
      detail::read_notes(image, out);
      return true;
   } catch (const detail::Failure &failure) {
      error = failure.error;
   } catch (const std::bad_alloc &) {
      error = ParseError{"memory", "enough memory for the file's facts", "an allocation failure",
                         "out of memory"};
   }
   return false;
}

bool read_facts(int fd, Facts &out, ParseError &error, uint64_t max_size) {
   out = Facts{};
   error = ParseError{};
   struct stat st {};
   if (fstat(fd, &st) != 0) {
      error =
         ParseError{"fstat", "a readable descriptor", std::strerror(errno), "cannot read file"};
      return false;
   }
   if (!S_ISREG(st.st_mode)) {
      error = ParseError{"file type", "a regular file", "mode " + detail::hex(st.st_mode),
                         "not a regular file"};
      return false;
   }
   const auto file_size = static_cast<uint64_t>(st.st_size);
   if (file_size > max_size) {
      error = ParseError{"file size", "at most " + std::to_string(max_size) + " bytes",
                         std::to_string(file_size), "file too large"};
      return false;
   }
   std::vector<unsigned char> bytes;
   try {
      bytes.resize(static_cast<size_t>(file_size));
   } catch (const std::bad_alloc &) {
      error = ParseError{"memory", std::to_string(file_size) + " bytes for the file",
                         "an allocation failure", "out of memory"};
      return false;
   }
   size_t done = 0;
   while (done < bytes.size()) {
      const ssize_t n = pread(fd, bytes.data() + done, bytes.size() - done, off_t(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
         error = ParseError{"pread", "the file's bytes", std::strerror(errno), "cannot read file"};
         return false;
      }
      if (n == 0) {
         error = ParseError{"file size", std::to_string(bytes.size()) + " bytes (as fstat said)",
                            std::to_string(done), "file shrank while being read"};
         return false;
      }
      done += static_cast<size_t>(n);
   }
   return read_facts_memory(bytes.data(), bytes.size(), out, error);
}

} // namespace modkit::elf
