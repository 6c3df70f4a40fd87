// check_structure and check_hygiene: the verdict on each fixture, and on hand-made facts.
#include "fixture.hpp"

#include <doctest/doctest.h>

#include <elf.h>

using namespace modkit::elf;
using namespace modkit::elf::test;

namespace {

using Checks = std::vector<std::string>;

std::vector<Finding> structure(const char *path) {
   return check_structure(facts_of(path), HostFacts::current());
}

std::vector<Finding> hygiene(const char *path) { return check_hygiene(facts_of(path)); }

// Facts of a well-formed module, built by hand, for the checks no fixture reaches.
Facts clean_facts() {
   const HostFacts host = HostFacts::current();
   Facts facts;
   facts.elf_class = host.elf_class;
   facts.data = host.data;
   facts.ident_version = facts.version = EV_CURRENT;
   facts.machine = host.machine;
   facts.type = ET_DYN;
   facts.has_dynamic = facts.has_gnu_stack = facts.has_relro = true;
   facts.manifests = {"{}"};
   facts.modkit_note_count = 1;
   facts.exports = {Symbol{"modkit_module_entry", "", STT_FUNC, STB_GLOBAL, true}};
   return facts;
}

} // namespace

TEST_CASE("the structural verdict on each fixture") {
   SUBCASE("good") { CHECK(structure(ELF_GOOD).empty()); }
   SUBCASE("no manifest") {
      const std::vector<Finding> findings = structure(ELF_NO_MANIFEST);
      REQUIRE(checks(findings) == Checks{"manifest.missing"});
      CHECK(findings[0].found == "none");
      CHECK(contains(findings[0].message(),
                     "manifest: expected a note with owner \"modkit\" and type 0x4d4b0001"));
   }
   SUBCASE("two manifests") {
      const std::vector<Finding> findings = structure(ELF_TWO_MANIFESTS);
      REQUIRE(checks(findings) == Checks{"manifest.duplicate"});
      CHECK(findings[0].found == "2 manifest notes");
   }
   SUBCASE("entry missing") {
      const std::vector<Finding> findings = structure(ELF_NO_ENTRY);
      REQUIRE(checks(findings) == Checks{"entry.missing"});
      CHECK(findings[0].message() == "entry symbol: expected modkit_module_entry exported as a "
                                     "defined function, found no such export (the file exports "
                                     "1 symbol)");
   }
   SUBCASE("entry is an IFUNC") {
      const std::vector<Finding> findings = structure(ELF_IFUNC_ENTRY);
      REQUIRE(checks(findings) == Checks{"entry.ifunc"});
      CHECK(contains(findings[0].found, "STT_GNU_IFUNC"));
   }
   SUBCASE("entry is data") {
      const std::vector<Finding> findings = structure(ELF_ENTRY_OBJECT);
      REQUIRE(checks(findings) == Checks{"entry.type"});
      CHECK(
         findings[0].message() ==
         "entry symbol: expected modkit_module_entry as a function (STT_FUNC), found a data object "
         "(STT_OBJECT)");
   }
   SUBCASE("PIE executable") {
      const std::vector<Finding> findings = structure(ELF_PIE);
      REQUIRE(checks(findings) == Checks{"elf.interp"});
      CHECK(contains(findings[0].found, "position-independent executable"));
      CHECK(contains(findings[0].found, "ld-linux"));
   }
   SUBCASE("non-PIE executable") {
      const std::vector<Finding> findings = structure(ELF_NO_PIE);
      REQUIRE(checks(findings) == Checks{"elf.type"});
      CHECK(findings[0].message() ==
            "file type: expected shared object (ET_DYN), found a non-PIE executable (ET_EXEC)");
   }
   SUBCASE("relocatable object") {
      const std::vector<Finding> findings = structure(ELF_OBJECT);
      REQUIRE(checks(findings) == Checks{"elf.type"});
      CHECK(contains(findings[0].found, "relocatable object (ET_REL)"));
   }
}

TEST_CASE("the hygiene verdict on each fixture"){SUBCASE("good"){CHECK(hygiene(ELF_GOOD).empty());
}
SUBCASE("-z execstack") {
   const std::vector<Finding> findings = hygiene(ELF_EXECSTACK);
   REQUIRE(checks(findings) == Checks{"hygiene.exec_stack"});
   CHECK(contains(findings[0].found, "PT_GNU_STACK with PF_X"));
   CHECK(structure(ELF_EXECSTACK).empty());
}
SUBCASE("static TLS") {
   const std::vector<Finding> findings = hygiene(ELF_STATIC_TLS);
   REQUIRE(checks(findings) == Checks{"hygiene.static_tls"});
   CHECK(findings[0].found == "DF_STATIC_TLS with 1048576 bytes of TLS (PT_TLS)");
}
SUBCASE("text relocations") {
   const std::vector<Finding> findings = hygiene(ELF_TEXTREL);
   REQUIRE(checks(findings) == Checks{"hygiene.textrel"});
   CHECK(findings[0].found == "DT_TEXTREL");
}
SUBCASE("an IFUNC entry is also a hygiene finding") {
   const std::vector<Finding> findings = hygiene(ELF_IFUNC_ENTRY);
   REQUIRE(checks(findings) == Checks{"hygiene.ifunc"});
   CHECK(contains(findings[0].found, "STT_GNU_IFUNC exports modkit_module_entry"));
}
SUBCASE("a hidden IFUNC") {
   const std::vector<Finding> findings = hygiene(ELF_HIDDEN_IFUNC);
   REQUIRE(checks(findings) == Checks{"hygiene.ifunc"});
   CHECK(findings[0].found == "R_*_IRELATIVE relocations");
   CHECK(structure(ELF_HIDDEN_IFUNC).empty());
}
#ifdef ELF_UNIQUE
SUBCASE("STB_GNU_UNIQUE") {
   const std::vector<Finding> findings = hygiene(ELF_UNIQUE);
   REQUIRE(checks(findings) == Checks{"hygiene.unique_symbols"});
   CHECK(findings[0].found == "1: _ZZ7countervE1n");
}
#endif
}

TEST_CASE("checks that no fixture reaches, on hand-made facts") {
   Facts facts = clean_facts();
   REQUIRE(check_structure(facts, HostFacts::current()).empty());
   REQUIRE(check_hygiene(facts).empty());

   SUBCASE("no PT_DYNAMIC") {
      facts.has_dynamic = false;
      CHECK(checks(check_structure(facts, HostFacts::current())) == Checks{"elf.dynamic"});
   }
   SUBCASE("a bad e_version") {
      facts.version = 7;
      const std::vector<Finding> findings = check_structure(facts, HostFacts::current());
      REQUIRE(checks(findings) == Checks{"elf.version"});
      CHECK(contains(findings[0].expected, "e_version"));
   }
   SUBCASE("an entry that is only imported") {
      facts.exports.clear();
      facts.imports = {Symbol{"modkit_module_entry", "", STT_NOTYPE, STB_GLOBAL, false}};
      const Finding missing =
         finding(check_structure(facts, HostFacts::current()), "entry.missing");
      CHECK(missing.found == "only an undefined reference to it");
   }
   SUBCASE("no PT_GNU_STACK at all") {
      facts.has_gnu_stack = false;
      facts.exec_stack = true;
      const Finding stack = finding(check_hygiene(facts), "hygiene.exec_stack");
      CHECK(contains(stack.found, "no PT_GNU_STACK"));
   }
   SUBCASE("every unique symbol is listed") {
      facts.unique_symbols = {"a", "b"};
      CHECK(finding(check_hygiene(facts), "hygiene.unique_symbols").found == "2: a, b");
   }
   SUBCASE("an IFUNC export and an IRELATIVE relocation together") {
      facts.ifunc_symbols = {"f"};
      facts.has_irelative = true;
      CHECK(finding(check_hygiene(facts), "hygiene.ifunc").found ==
            "STT_GNU_IFUNC exports f and R_*_IRELATIVE relocations");
   }
   SUBCASE("a 32-bit big-endian file for another machine gets each finding") {
      facts.elf_class = ELFCLASS32;
      facts.data = ELFDATA2MSB;
      facts.machine = EM_PPC;
      HostFacts host{ELFCLASS64, EM_X86_64};
      host.data = ELFDATA2LSB;
      const std::vector<Finding> findings = check_structure(facts, host);
      CHECK(checks(findings) == Checks{"elf.class", "elf.data", "elf.machine"});
      CHECK(findings[2].message() ==
            "machine: expected x86-64 (EM_X86_64), found PowerPC (EM_PPC)");
   }
}

TEST_CASE("human names of ELF constants") {
   CHECK(machine_name(EM_X86_64) == "x86-64 (EM_X86_64)");
   CHECK(machine_name(62) == "x86-64 (EM_X86_64)");
   CHECK(machine_name(EM_AARCH64) == "AArch64 (EM_AARCH64)");
   CHECK(machine_name(9999) == "unknown machine (9999)");
   CHECK(class_name(ELFCLASS64) == "64-bit (ELFCLASS64)");
   CHECK(class_name(7) == "unknown class (7)");
   CHECK(type_name(ET_DYN) == "shared object (ET_DYN)");
   CHECK(data_name(ELFDATA2MSB) == "big-endian (ELFDATA2MSB)");
   CHECK(osabi_name(97) == "ARM (ELFOSABI_ARM)");
   CHECK(symbol_type_name(STT_GNU_IFUNC) == "indirect function (STT_GNU_IFUNC)");
}

TEST_CASE("the host facts are this build's own") {
   const HostFacts host = HostFacts::current();
#if defined(__x86_64__)
   CHECK(host.machine == EM_X86_64);
#elif defined(__aarch64__)
   CHECK(host.machine == EM_AARCH64);
#endif
   CHECK(host.elf_class == (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32));
   CHECK(host.data == (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB));
}
