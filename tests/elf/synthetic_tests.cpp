// Hand-assembled minimal shared objects in every class and byte order: the toolchain here only
// builds the host's own kind, but the reader must parse the others to say what is wrong.
#include "fixture.hpp"

#include <doctest/doctest.h>
#include <modkit/manifest.h>

#include <elf.h>

#include <cstring>

using namespace modkit::elf;
using namespace modkit::elf::test;

namespace {

// Appends fields in the chosen class and byte order.
class Writer {
public:
   Writer(unsigned elf_class, unsigned data)
       : is64_(elf_class == ELFCLASS64), big_(data == ELFDATA2MSB) {}

   bool is64() const { return is64_; }
   size_t size() const { return bytes_.size(); }
   Bytes take() { return std::move(bytes_); }

   void put(uint64_t value, unsigned width) {
      for (unsigned i = 0; i < width; ++i) {
         const unsigned shift = 8 * (big_ ? width - 1 - i : i);
         bytes_.push_back(static_cast<unsigned char>(value >> shift));
      }
   }
   void u16(uint64_t v) { put(v, 2); }
   void u32(uint64_t v) { put(v, 4); }
   void word(uint64_t v) { put(v, is64_ ? 8 : 4); }
   void raw(const void *data, size_t size) {
      const auto *p = static_cast<const unsigned char *>(data);
      bytes_.insert(bytes_.end(), p, p + size);
   }
   void pad(size_t align) {
      while (bytes_.size() % align != 0) bytes_.push_back(0);
   }

   // One program header; the fields sit in a different order in each class.
   void phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t size, uint64_t align) {
      u32(type);
      if (is64_) u32(flags);
      word(offset); // p_offset
      word(offset); // p_vaddr: the file is mapped at 0
      word(offset); // p_paddr
      word(size);   // p_filesz
      word(size);   // p_memsz
      if (!is64_) u32(flags);
      word(align);
   }

private:
   bool is64_, big_;
   Bytes bytes_;
};

constexpr char manifest_json[] = "{\"name\":\"synthetic\"}";

// ehdr, 4 program headers (PT_LOAD of the whole file, PT_DYNAMIC, PT_NOTE, PT_GNU_STACK),
// the dynamic table, its strings and the manifest note. No section headers.
Bytes synthetic_module(unsigned elf_class, unsigned data, unsigned machine) {
   Writer w(elf_class, data);
   const size_t ehsize = w.is64() ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
   const size_t phentsize = w.is64() ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
   const size_t word = w.is64() ? 8 : 4;
   const size_t phnum = 4;
   const size_t dynamic_at = ehsize + phnum * phentsize, dynamic_size = 4 * 2 * word;
   const char strings[] = "\0libc.so.6"; // sizeof includes the final NUL
   const size_t strings_at = dynamic_at + dynamic_size;
   const size_t note_at = (strings_at + sizeof strings + 3) & ~size_t(3);
   const size_t desc_size = (sizeof manifest_json + 3) & ~size_t(3);
   const size_t note_size = 12 + 8 + desc_size;
   const size_t file_size = note_at + note_size;

   const unsigned char ident[EI_NIDENT] = {0x7f,
                                           'E',
                                           'L',
                                           'F',
                                           static_cast<unsigned char>(elf_class),
                                           static_cast<unsigned char>(data),
                                           EV_CURRENT,
                                           ELFOSABI_NONE};
   w.raw(ident, sizeof ident);
   w.u16(ET_DYN);
   w.u16(machine);
   w.u32(EV_CURRENT);
   w.word(0);      // e_entry
   w.word(ehsize); // e_phoff
   w.word(0);      // e_shoff
   w.u32(0);       // e_flags
   w.u16(ehsize);
   w.u16(phentsize);
   w.u16(phnum);
   w.u16(w.is64() ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
   w.u16(0); // e_shnum
   w.u16(0); // e_shstrndx

   w.phdr(PT_LOAD, PF_R, 0, file_size, 0x1000);
   w.phdr(PT_DYNAMIC, PF_R, dynamic_at, dynamic_size, word);
   w.phdr(PT_NOTE, PF_R, note_at, note_size, 4);
   w.phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 16);

   w.word(DT_NEEDED), w.word(1);
   w.word(DT_STRTAB), w.word(strings_at);
   w.word(DT_STRSZ), w.word(sizeof strings);
   w.word(DT_NULL), w.word(0);
   w.raw(strings, sizeof strings);
   w.pad(4);

   w.u32(sizeof MODKIT_NOTE_OWNER);
   w.u32(sizeof manifest_json);
   w.u32(MODKIT_NOTE_TYPE_MANIFEST);
   w.raw(MODKIT_NOTE_OWNER "\0", 8);
   w.raw(manifest_json, sizeof manifest_json);
   w.pad(4);
   REQUIRE(w.size() == file_size);
   return w.take();
}

} // namespace

TEST_CASE("foreign classes and byte orders are parsed, then refused by check_ident") {
   struct Case {
      unsigned elf_class, data, machine;
      std::vector<std::string> findings;
   };
   const HostFacts host{ELFCLASS64, EM_X86_64}; // fixed, so the expected findings are too
   const Case cases[] = {
      {ELFCLASS64, ELFDATA2LSB, EM_X86_64, {}},
      {ELFCLASS32, ELFDATA2LSB, EM_386, {"elf.class", "elf.machine"}},
      {ELFCLASS32, ELFDATA2MSB, EM_PPC, {"elf.class", "elf.data", "elf.machine"}},
      {ELFCLASS64, ELFDATA2MSB, EM_PPC64, {"elf.data", "elf.machine"}},
   };
   for (const Case &c : cases) {
      CAPTURE(c.elf_class);
      CAPTURE(c.data);
      const Facts facts = facts_of(synthetic_module(c.elf_class, c.data, c.machine));
      CHECK(facts.elf_class == c.elf_class);
      CHECK(facts.data == c.data);
      CHECK(facts.machine == c.machine);
      CHECK(facts.type == ET_DYN);
      CHECK(facts.needed == std::vector<std::string>{"libc.so.6"});
      CHECK(facts.manifests == std::vector<std::string>{manifest_json});
      CHECK_FALSE(facts.exec_stack);
      CHECK(checks(check_ident(facts, host)) == c.findings);
   }
}

TEST_CASE("the synthetic module's own corruptions") {
   Bytes bytes = synthetic_module(ELFCLASS32, ELFDATA2MSB, EM_PPC);
   Facts facts;
   ParseError error;

   SUBCASE("DT_NEEDED pointing past DT_STRSZ") {
      const size_t needed_value = sizeof(Elf32_Ehdr) + 4 * sizeof(Elf32_Phdr) + 4;
      REQUIRE(bytes[needed_value + 3] == 1); // big-endian 1
      bytes[needed_value + 3] = 0x40;
      CHECK_FALSE(read_facts_memory(bytes.data(), bytes.size(), facts, error));
      CHECK(error.problem == "string outside DT_STRTAB");
      CHECK(error.field == "DT_NEEDED");
   }
   SUBCASE("no PT_GNU_STACK means an executable stack") {
      const size_t stack_type = sizeof(Elf32_Ehdr) + 3 * sizeof(Elf32_Phdr);
      REQUIRE(bytes[stack_type] == 0x64);    // PT_GNU_STACK = 0x6474e551, big-endian
      std::memset(&bytes[stack_type], 0, 4); // PT_NULL
      const Facts read = facts_of(bytes);
      CHECK_FALSE(read.has_gnu_stack);
      CHECK(read.exec_stack);
   }
}
