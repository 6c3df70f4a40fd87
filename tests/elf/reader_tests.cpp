// read_facts on real files: what the reader reports about each fixture.
#include "fixture.hpp"

#include <doctest/doctest.h>
#include <modkit/manifest.h>

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

using namespace modkit::elf;
using namespace modkit::elf::test;

namespace {

bool has_need(const Facts &facts, const std::string &file, const std::string &version_prefix) {
   return std::any_of(facts.version_needs.begin(), facts.version_needs.end(),
                      [&](const VersionNeed &n) {
                         return n.file == file && n.version.rfind(version_prefix, 0) == 0;
                      });
}

const Symbol *import_named(const Facts &facts, const std::string &name) {
   for (const Symbol &s : facts.imports) {
      if (s.name == name) return &s;
   }
   return nullptr;
}

} // namespace

TEST_CASE("the good module's facts are read from its file") {
   const Facts facts = facts_of(ELF_GOOD);
   const HostFacts host = HostFacts::current();

   CHECK(facts.elf_class == host.elf_class);
   CHECK(facts.data == host.data);
   CHECK(facts.machine == host.machine);
   CHECK(facts.type == ET_DYN);
   CHECK(facts.ident_version == EV_CURRENT);
   CHECK_FALSE(facts.has_interp);
   CHECK(facts.has_dynamic);

   SUBCASE("one manifest, with the module's JSON") {
      REQUIRE(facts.manifests.size() == 1);
      CHECK(facts.modkit_note_count == 1);
      const std::string &json = facts.manifests[0];
      CHECK(json.front() == '{');
      CHECK(json.back() == '}'); // trailing NULs stripped
      CHECK(contains(json, "\"name\":\"elf_good\""));
      CHECK(contains(json, "\"registers\":\"modkit.spam_checker\""));
      CHECK(contains(json, "\"abi\":\"" MODKIT_ABI_VERSION_STRING "\""));
   }
   SUBCASE("exactly one export: the entry function") {
      REQUIRE(facts.exports.size() == 1);
      CHECK(facts.exports[0].name == MODKIT_ENTRY_SYMBOL);
      CHECK(facts.exports[0].type == STT_FUNC);
      CHECK(facts.exports[0].bind == STB_GLOBAL);
      CHECK(facts.exports[0].defined);
      CHECK(facts.unique_symbols.empty());
      CHECK(facts.ifunc_symbols.empty());
   }
   SUBCASE("libc is needed, with a GLIBC_ version, and imports carry it") {
      CHECK(std::find(facts.needed.begin(), facts.needed.end(), "libc.so.6") != facts.needed.end());
      CHECK(has_need(facts, "libc.so.6", "GLIBC_"));
      const Symbol *strlen_import = import_named(facts, "strlen");
      REQUIRE(strlen_import != nullptr);
      CHECK_FALSE(strlen_import->defined);
      CHECK(strlen_import->version.rfind("GLIBC_", 0) == 0);
   }
   SUBCASE("hardening facts match the link flags") {
      CHECK_FALSE(facts.exec_stack);
      CHECK(facts.has_gnu_stack);
      CHECK(facts.has_relro);
      CHECK(facts.bind_now);
      CHECK_FALSE(facts.textrel);
      CHECK_FALSE(facts.static_tls);
      CHECK(facts.tls_size == 0);
      CHECK_FALSE(facts.has_irelative);
      CHECK(facts.rpath.empty());
      CHECK(facts.runpath.empty());
   }
}

TEST_CASE("each defect fixture shows up in the facts"){
   SUBCASE("-z execstack"){const Facts facts = facts_of(ELF_EXECSTACK);
CHECK(facts.has_gnu_stack);
CHECK(facts.exec_stack);
}
SUBCASE("1 MiB initial-exec TLS") {
   const Facts facts = facts_of(ELF_STATIC_TLS);
   CHECK(facts.static_tls);
   CHECK(facts.tls_size == (1u << 20));
}
SUBCASE("two manifest notes") {
   const Facts facts = facts_of(ELF_TWO_MANIFESTS);
   REQUIRE(facts.manifests.size() == 2);
   CHECK(facts.modkit_note_count == 2);
   const bool other =
      contains(facts.manifests[0], "elf_other") || contains(facts.manifests[1], "elf_other");
   CHECK(other);
}
SUBCASE("no manifest note") {
   const Facts facts = facts_of(ELF_NO_MANIFEST);
   CHECK(facts.manifests.empty());
   CHECK(facts.modkit_note_count == 0);
}
SUBCASE("the entry is an IFUNC") {
   const Facts facts = facts_of(ELF_IFUNC_ENTRY);
   REQUIRE(facts.ifunc_symbols.size() == 1);
   CHECK(facts.ifunc_symbols[0] == MODKIT_ENTRY_SYMBOL);
}
SUBCASE("a hidden IFUNC leaves an IRELATIVE relocation") {
   const Facts facts = facts_of(ELF_HIDDEN_IFUNC);
   CHECK(facts.has_irelative);
   CHECK(facts.ifunc_symbols.empty());
}
SUBCASE("an absolute address in code") { CHECK(facts_of(ELF_TEXTREL).textrel); }
SUBCASE("a PIE executable has PT_INTERP") {
   const Facts facts = facts_of(ELF_PIE);
   CHECK(facts.type == ET_DYN);
   CHECK(facts.has_interp);
   CHECK(contains(facts.interp, "ld-linux"));
}
SUBCASE("a non-PIE executable") {
   const Facts facts = facts_of(ELF_NO_PIE);
   CHECK(facts.type == ET_EXEC);
   CHECK(facts.has_interp);
}
SUBCASE("a relocatable object: no segments, the manifest from its SHT_NOTE section") {
   const Facts facts = facts_of(ELF_OBJECT);
   CHECK(facts.type == ET_REL);
   CHECK_FALSE(facts.has_dynamic);
   CHECK_FALSE(facts.exec_stack);
   REQUIRE(facts.manifests.size() == 1);
   CHECK(contains(facts.manifests[0], "elf_good"));
}
#ifdef ELF_UNIQUE
SUBCASE("-fgnu-unique makes an inline function's static STB_GNU_UNIQUE") {
   const Facts facts = facts_of(ELF_UNIQUE);
   REQUIRE(facts.unique_symbols.size() == 1);
   CHECK(facts.unique_symbols[0] == "_ZZ7countervE1n");
   const auto it = std::find_if(facts.exports.begin(), facts.exports.end(),
                                [](const Symbol &s) { return s.name == "_ZZ7countervE1n"; });
   REQUIRE(it != facts.exports.end());
   CHECK(it->bind == STB_GNU_UNIQUE);
   CHECK(it->type == STT_OBJECT);
}
#endif
}

TEST_CASE("read_facts reads an open descriptor") {
   const OpenFile file(open(ELF_GOOD, O_RDONLY | O_CLOEXEC));
   const int fd = file.get();
   REQUIRE(fd >= 0);
   Facts facts;
   ParseError error;

   SUBCASE("the same facts as from memory") {
      REQUIRE_MESSAGE(read_facts(fd, facts, error), error.message());
      const Facts memory = facts_of(ELF_GOOD);
      CHECK(facts.manifests == memory.manifests);
      CHECK(facts.needed == memory.needed);
      CHECK(facts.exports.size() == memory.exports.size());
   }
   SUBCASE("a file over max_size is refused before it is read") {
      CHECK_FALSE(read_facts(fd, facts, error, 1000));
      CHECK(error.problem == "file too large");
      CHECK(error.field == "file size");
      CHECK(error.expected == "at most 1000 bytes");
      CHECK(error.found == std::to_string(file_bytes(ELF_GOOD).size()));
   }
}

TEST_CASE("read_facts refuses a directory") {
   const OpenFile dir(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
   REQUIRE(dir.get() >= 0);
   Facts facts;
   ParseError error;
   CHECK_FALSE(read_facts(dir.get(), facts, error));
   CHECK(error.problem == "not a regular file");
}

TEST_CASE("a text file named .so is not an ELF file") {
   Facts facts;
   ParseError error;
   const Bytes bytes = file_bytes(ELF_NOT_ELF);
   CHECK_FALSE(read_facts_memory(bytes.data(), bytes.size(), facts, error));
   CHECK(error.problem == "not an ELF file");
   CHECK(error.found == "23 21 2f 62"); // "#!/b"
   CHECK(error.message() == "not an ELF file: expected 7f 45 4c 46, found 23 21 2f 62");
}
