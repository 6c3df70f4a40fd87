// Corruptions of the good module's bytes: each must give a specific parse error or finding.
#include "fixture.hpp"

#include <doctest/doctest.h>

#include <elf.h>
#include <fcntl.h>

using namespace modkit::elf;
using namespace modkit::elf::test;

namespace {

// The good module's bytes, checked to be the 64-bit little-endian layout the patches assume.
Bytes good_bytes() {
   Bytes bytes = file_bytes(ELF_GOOD);
   REQUIRE(bytes.size() > sizeof(Elf64_Ehdr));
   REQUIRE(bytes[EI_CLASS] == ELFCLASS64);
   REQUIRE(bytes[EI_DATA] == ELFDATA2LSB);
   return bytes;
}

struct Failed {
   ParseError error;
   Facts partial;
};

Failed parse_failure(const Bytes &bytes) {
   Failed out;
   const bool ok = read_facts_memory(bytes.data(), bytes.size(), out.partial, out.error);
   REQUIRE_FALSE(ok);
   return out;
}

std::vector<Finding> structure_of(const Bytes &bytes) {
   return check_structure(facts_of(bytes), HostFacts::current());
}

} // namespace

TEST_CASE("the good module's bytes pass every check") {
   const Facts facts = facts_of(good_bytes());
   CHECK(check_structure(facts, HostFacts::current()).empty());
   CHECK(check_hygiene(facts).empty());
}

TEST_CASE("identification bytes that cannot be parsed are explained by check_ident") {
   Bytes bytes = good_bytes();

   SUBCASE("EI_CLASS = ELFCLASS32") {
      bytes[EI_CLASS] = ELFCLASS32;
      const Failed failed = parse_failure(bytes); // the ELF64 fields make no sense as ELF32 ones
      CHECK(failed.partial.elf_class == ELFCLASS32);
      CHECK(failed.partial.machine == HostFacts::current().machine);
      const std::vector<Finding> ident = check_ident(failed.partial, HostFacts::current());
      REQUIRE_FALSE(ident.empty());
      CHECK(ident.front().check == "elf.class");
      CHECK(ident.front().message() ==
            "ELF class: expected 64-bit (ELFCLASS64), found 32-bit (ELFCLASS32)");
   }
   SUBCASE("EI_DATA = ELFDATA2MSB") {
      bytes[EI_DATA] = ELFDATA2MSB;
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.message() ==
            "e_shentsize is wrong: expected 64, found 16384"); // 0x0040 swapped
      const std::vector<Finding> ident = check_ident(failed.partial, HostFacts::current());
      REQUIRE_FALSE(ident.empty());
      CHECK(ident.front().check == "elf.data");
      CHECK(ident.front().message() ==
            "data encoding: expected little-endian (ELFDATA2LSB), found big-endian (ELFDATA2MSB)");
   }
   SUBCASE("EI_CLASS = 3 is not parsed at all") {
      bytes[EI_CLASS] = 3;
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.field == "e_ident[EI_CLASS]");
      CHECK(failed.error.message() ==
            "unsupported ELF class: expected ELFCLASS32 (1) or ELFCLASS64 (2), found 3");
      CHECK(failed.partial.elf_class == 0); // nothing to hand to check_ident
      CHECK(failed.partial.machine == 0);
   }
}

TEST_CASE("identification and machine mismatches are findings, not parse errors") {
   Bytes bytes = good_bytes();

   SUBCASE("EI_VERSION = 0") {
      bytes[EI_VERSION] = EV_NONE;
      const std::vector<Finding> findings = structure_of(bytes);
      REQUIRE(checks(findings) == std::vector<std::string>{"elf.version"});
      CHECK(findings[0].message() ==
            "ELF version: expected EV_CURRENT (1) in e_ident[EI_VERSION], found 0");
   }
   SUBCASE("EI_OSABI = 97") {
      bytes[EI_OSABI] = ELFOSABI_ARM;
      const std::vector<Finding> findings = structure_of(bytes);
      REQUIRE(checks(findings) == std::vector<std::string>{"elf.osabi"});
      CHECK(findings[0].message() == "OS ABI: expected System V (ELFOSABI_NONE) or GNU/Linux "
                                     "(ELFOSABI_GNU), found ARM (ELFOSABI_ARM)");
   }
   SUBCASE("EI_OSABI = ELFOSABI_GNU is accepted") {
      bytes[EI_OSABI] = ELFOSABI_GNU;
      CHECK(structure_of(bytes).empty());
   }
   SUBCASE("e_machine of another architecture") {
      const HostFacts host = HostFacts::current();
      const unsigned other = host.machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
      put16(bytes, offsetof(Elf64_Ehdr, e_machine), static_cast<uint16_t>(other));
      const std::vector<Finding> findings = structure_of(bytes);
      REQUIRE(checks(findings) == std::vector<std::string>{"elf.machine"});
      CHECK(findings[0].message() ==
            "machine: expected " + machine_name(host.machine) + ", found " + machine_name(other));
      if (host.machine == EM_X86_64) {
         CHECK(findings[0].message() ==
               "machine: expected x86-64 (EM_X86_64), found AArch64 (EM_AARCH64)");
      }
   }
}

TEST_CASE("header tables outside the file are parse errors") {
   Bytes bytes = good_bytes();

   SUBCASE("e_phoff beyond the end of the file") {
      put64(bytes, offsetof(Elf64_Ehdr, e_phoff), bytes.size() + 4096);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.field == "e_phoff");
      CHECK(failed.error.problem == "program header table extends beyond the file");
      CHECK(contains(failed.error.expected, std::to_string(bytes.size())));
   }
   SUBCASE("e_phentsize = 0") {
      put16(bytes, offsetof(Elf64_Ehdr, e_phentsize), 0);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.message() == "e_phentsize is wrong: expected 56, found 0");
   }
   SUBCASE("e_shentsize = 12") {
      put16(bytes, offsetof(Elf64_Ehdr, e_shentsize), 12);
      CHECK(parse_failure(bytes).error.message() == "e_shentsize is wrong: expected 64, found 12");
   }
   SUBCASE("e_shoff beyond the end of the file") {
      put64(bytes, offsetof(Elf64_Ehdr, e_shoff), bytes.size() - 8);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.field == "e_shoff");
      CHECK(failed.error.problem == "section header table extends beyond the file");
   }
   SUBCASE("a segment whose p_filesz runs past the end") {
      put64(bytes, program_header(bytes, PT_NOTE) + offsetof(Elf64_Phdr, p_filesz), bytes.size());
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.problem == "segment extends beyond the file");
      CHECK(contains(failed.error.field, "p_offset + p_filesz"));
   }
   SUBCASE("a section whose sh_size runs past the end") {
      const uint64_t shoff = get(bytes, offsetof(Elf64_Ehdr, e_shoff), 8);
      put64(bytes, shoff + sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_size), bytes.size());
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.problem == "section extends beyond the file");
      CHECK(contains(failed.error.field, "section [1]"));
   }
}

TEST_CASE("loadable segments must be in ascending order and apart") {
   Bytes bytes = good_bytes();
   const size_t first = program_header(bytes, PT_LOAD, 0), second = program_header(bytes, PT_LOAD, 1);
   const uint64_t first_vaddr = get(bytes, first + offsetof(Elf64_Phdr, p_vaddr), 8);
   const uint64_t first_end = first_vaddr + get(bytes, first + offsetof(Elf64_Phdr, p_memsz), 8);
   REQUIRE(first_end > first_vaddr);

   SUBCASE("the second PT_LOAD starting inside the first") {
      put64(bytes, second + offsetof(Elf64_Phdr, p_vaddr), first_end - 1);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.problem == "loadable segments overlap or are out of order");
      CHECK(contains(failed.error.field, "p_vaddr"));
      CHECK(contains(failed.error.expected, "p_vaddr at or above 0x"));
      CHECK(contains(failed.error.found, "in program header ["));
   }
   SUBCASE("the second PT_LOAD below the first") {
      put64(bytes, first + offsetof(Elf64_Phdr, p_vaddr), first_vaddr + 0x100000);
      CHECK(parse_failure(bytes).error.problem == "loadable segments overlap or are out of order");
   }
   SUBCASE("a PT_LOAD whose end wraps around") {
      put64(bytes, second + offsetof(Elf64_Phdr, p_memsz), ~uint64_t(0));
      CHECK(parse_failure(bytes).error.problem == "loadable segment wraps around the address space");
   }
}

TEST_CASE("short files are parse errors") {
   SUBCASE("truncated to 40 bytes") {
      Bytes bytes = good_bytes();
      bytes.resize(40);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.message() == "file too short: expected at least 64 bytes, found 40");
      CHECK(failed.partial.elf_class == 0);
   }
   SUBCASE("empty") {
      const Bytes bytes;
      CHECK(parse_failure(bytes).error.message() ==
            "file too short: expected at least 64 bytes, found 0");
   }
   SUBCASE("only the magic") {
      const Bytes bytes{0x7f, 'E', 'L', 'F'};
      CHECK(parse_failure(bytes).error.problem == "file too short");
   }
}

TEST_CASE("malformed notes are parse errors") {
   Bytes bytes = good_bytes();
   const size_t note = manifest_note_offset(bytes);

   SUBCASE("n_namesz = 0") {
      put32(bytes, note, 0);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.field == "n_namesz");
      CHECK(failed.error.message() ==
            "note without an owner: expected at least 1 (the owner name and its NUL), found 0");
   }
   SUBCASE("n_descsz beyond its segment") {
      put32(bytes, note + 4, 0x10000);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.field == "n_descsz");
      CHECK(failed.error.problem == "note descriptor runs past its segment");
      CHECK(failed.error.found == "65536");
   }
   SUBCASE("n_namesz beyond its segment") {
      put32(bytes, note, 0x10000);
      const Failed failed = parse_failure(bytes);
      CHECK(failed.error.field == "n_namesz");
      CHECK(failed.error.problem == "note name runs past its segment");
   }
   SUBCASE("another note type from owner modkit is counted, not taken as the manifest") {
      put32(bytes, note + 8, 0x4d4b0002);
      const Facts facts = facts_of(bytes);
      CHECK(facts.manifests.empty());
      CHECK(facts.modkit_note_count == 1);
      const Finding missing =
         finding(check_structure(facts, HostFacts::current()), "manifest.missing");
      CHECK(missing.found == "none (1 other modkit note)");
   }
}

TEST_CASE("without section headers the manifest is still read from PT_NOTE") {
   Bytes bytes = good_bytes();
   put64(bytes, offsetof(Elf64_Ehdr, e_shoff), 0);
   put16(bytes, offsetof(Elf64_Ehdr, e_shnum), 0);
   put16(bytes, offsetof(Elf64_Ehdr, e_shstrndx), 0);
   const Facts facts = facts_of(bytes);
   REQUIRE(facts.manifests.size() == 1);
   CHECK(contains(facts.manifests[0], "elf_good"));
   CHECK(facts.exports.empty()); // .dynsym is found through the section headers
   CHECK(facts.needed == facts_of(good_bytes()).needed); // DT_NEEDED comes from PT_DYNAMIC
   CHECK(checks(check_structure(facts, HostFacts::current())) ==
         std::vector<std::string>{"entry.missing"});
}

TEST_CASE("read_facts reports corruptions of a file on disk") {
   Bytes bytes = good_bytes();
   ParseError error;
   Facts facts;

   SUBCASE("truncated to 40 bytes") {
      bytes.resize(40);
      const TempFile temp(bytes);
      const OpenFile file(open(temp.path().c_str(), O_RDONLY | O_CLOEXEC));
      REQUIRE(file.get() >= 0);
      CHECK_FALSE(read_facts(file.get(), facts, error));
      CHECK(error.message() == "file too short: expected at least 64 bytes, found 40");
   }
   SUBCASE("empty") {
      const TempFile temp(Bytes{});
      const OpenFile file(open(temp.path().c_str(), O_RDONLY | O_CLOEXEC));
      REQUIRE(file.get() >= 0);
      CHECK_FALSE(read_facts(file.get(), facts, error));
      CHECK(error.problem == "file too short");
   }
   SUBCASE("e_machine patched") {
      const unsigned other = HostFacts::current().machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
      put16(bytes, offsetof(Elf64_Ehdr, e_machine), static_cast<uint16_t>(other));
      const TempFile temp(bytes);
      const OpenFile file(open(temp.path().c_str(), O_RDONLY | O_CLOEXEC));
      REQUIRE(file.get() >= 0);
      REQUIRE_MESSAGE(read_facts(file.get(), facts, error), error.message());
      CHECK(facts.machine == other);
      CHECK(checks(check_structure(facts, HostFacts::current())) ==
            std::vector<std::string>{"elf.machine"});
   }
}
