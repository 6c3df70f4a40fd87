// corpus_tests.cpp - the bad-module corpus of research section 2.9 in one place: every case that
// can be built here is loaded through the loader and must be refused at its stage with its own
// message, leaving nothing loaded and the process able to load a good module afterwards.
//
// Fixtures come from tests/fixtures, from tests/elf and tests/sdk when those are built (CMake
// passes "" otherwise, and the case is reported as skipped), or are made here from the probe's
// bytes. Not here: the cases that can only fail inside dlopen or module code (a constructor that
// crashes, exits, aborts, hangs or exhausts memory), which would end this process by design and
// run in `modkit check`'s child process instead (tests/cli/check_tests.cpp), and the cases that
// cannot be built here, which docs/security.md lists with the reason.
#include "support.hpp"

#include "fixture.hpp" // tests/elf: the byte patches' helpers

#include "elf/elf_policy.hpp"
#include "elf/host_runtime.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <functional>

namespace {

namespace bytes = modkit::elf::test;
using test::contains;
using test::fixture;
using test::Host;
using test::load_errors;
using test::TempDir;

// One bad module and the refusal it must get.
struct Case {
   std::string item;        // the item of research section 2.9 it belongs to
   std::string name;
   std::string path;        // the module file; empty when it is not built here (skipped says why)
   std::string stage;       // the stage of the first error
   modkit_status code;
   std::string message;     // a part of the first error's message that names this defect
   std::string entry = {};  // more keys of the module's host-config entry: ", \"config\": ..."
   std::string skipped = {};
};

std::string written(const TempDir &dir, const std::string &name, const std::string &content) {
   const auto path = dir.path / (name + ".so");
   std::ofstream(path, std::ios::binary) << content;
   std::filesystem::permissions(path, std::filesystem::perms(0644));
   return path.string();
}

// The probe's bytes with one defect, as a file of its own.
std::string patched(const TempDir &dir, const std::string &name, const std::function<void(bytes::Bytes &)> &edit) {
   bytes::Bytes content = bytes::file_bytes(fixture("probe_a").c_str());
   REQUIRE(content.size() > sizeof(Elf64_Ehdr));
   REQUIRE(content[EI_CLASS] == ELFCLASS64); // the patches assume the 64-bit little-endian layout
   REQUIRE(content[EI_DATA] == ELFDATA2LSB);
   edit(content);
   return written(dir, name, std::string(content.begin(), content.end()));
}

// A copy of the probe at dir/name.so with these permissions.
std::string copied(const std::filesystem::path &dir, const std::string &name, std::filesystem::perms mode) {
   const auto path = dir / (name + ".so");
   std::filesystem::copy_file(fixture("probe_a"), path);
   std::filesystem::permissions(path, mode);
   return path.string();
}

// A fixture of another test directory: its path, or a skipped case when it is not built.
Case elsewhere(Case c, const char *path, const char *why_missing) {
   c.path = std::filesystem::path(path).lexically_normal().string(); // object paths hold "/./"
   if (c.path.empty()) c.skipped = why_missing;
   return c;
}

constexpr const char *not_built_elf = "tests/elf is not in MODKIT_TEST_AREAS";

std::vector<Case> corpus(const TempDir &dir) {
   using modkit::elf::HostFacts;
   using modkit::elf::machine_name;
   using modkit::elf::osabi_name;
   const modkit_status invalid = MODKIT_E_INVALID_ARGUMENT, version = MODKIT_E_VERSION_MISMATCH,
                       denied = MODKIT_E_DENIED, internal = MODKIT_E_INTERNAL;
   const unsigned other_machine = HostFacts::current().machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
   std::vector<Case> out;

   // 1-5: header and file level, refused by the ELF reader and the structural checks.
   out.push_back({"1 file", "empty file", written(dir, "empty", ""), "inspect", invalid,
                  "file too short: expected at least 64 bytes, found 0"});
   out.push_back({"1 file", "ELF truncated to 40 bytes",
                  patched(dir, "truncated", [](bytes::Bytes &b) { b.resize(40); }), "inspect", invalid,
                  "file too short: expected at least 64 bytes, found 40"});
   out.push_back({"1 file", "shell script named .so", written(dir, "script", "#!/bin/sh\nexit 0\n"), "inspect",
                  invalid, "not an ELF file: expected 7f 45 4c 46, found 23 21 2f 62"});
   out.push_back({"2 ident", "EI_CLASS = ELFCLASS32",
                  patched(dir, "class32", [](bytes::Bytes &b) { b[EI_CLASS] = ELFCLASS32; }), "inspect", invalid,
                  "ELF class: expected 64-bit (ELFCLASS64), found 32-bit (ELFCLASS32)"});
   out.push_back({"2 ident", "EI_DATA = ELFDATA2MSB",
                  patched(dir, "msb", [](bytes::Bytes &b) { b[EI_DATA] = ELFDATA2MSB; }), "inspect", invalid,
                  "data encoding: expected little-endian (ELFDATA2LSB), found big-endian (ELFDATA2MSB)"});
   out.push_back({"2 ident", "EI_VERSION = 0", patched(dir, "ei_version", [](bytes::Bytes &b) { b[EI_VERSION] = 0; }),
                  "inspect", invalid, "ELF version: expected EV_CURRENT (1) in e_ident[EI_VERSION], found 0"});
   out.push_back({"2 ident", "EI_OSABI = 97", patched(dir, "osabi", [](bytes::Bytes &b) { b[EI_OSABI] = 97; }),
                  "inspect", invalid,
                  "OS ABI: expected " + osabi_name(ELFOSABI_NONE) + " or " + osabi_name(ELFOSABI_GNU) + ", found " +
                     osabi_name(97)});
   out.push_back({"3 machine", "e_machine of another architecture",
                  patched(dir, "machine",
                          [&](bytes::Bytes &b) {
                             bytes::put16(b, offsetof(Elf64_Ehdr, e_machine), static_cast<uint16_t>(other_machine));
                          }),
                  "inspect", invalid,
                  "machine: expected " + machine_name(HostFacts::current().machine) + ", found " +
                     machine_name(other_machine)});
   out.push_back(elsewhere({"4 type", "relocatable object (ET_REL)", "", "inspect", invalid,
                            "file type: expected shared object (ET_DYN), found a relocatable object (ET_REL)"},
                           CORPUS_ELF_OBJECT, not_built_elf));
   out.push_back(elsewhere({"4 type", "PIE executable", "", "inspect", invalid,
                            "file type: expected a shared object (ET_DYN without PT_INTERP), found a "
                            "position-independent executable"},
                           CORPUS_ELF_PIE, not_built_elf));
   out.push_back(elsewhere({"4 type", "non-PIE executable", "", "inspect", invalid,
                            "file type: expected shared object (ET_DYN), found a non-PIE executable (ET_EXEC)"},
                           CORPUS_ELF_NO_PIE, not_built_elf));
   out.push_back({"5 bounds", "e_phoff beyond the end of the file",
                  patched(dir, "phoff",
                          [](bytes::Bytes &b) { bytes::put64(b, offsetof(Elf64_Ehdr, e_phoff), b.size() + 4096); }),
                  "inspect", invalid, "program header table extends beyond the file"});
   out.push_back({"5 bounds", "e_phentsize = 0",
                  patched(dir, "phentsize",
                          [](bytes::Bytes &b) { bytes::put16(b, offsetof(Elf64_Ehdr, e_phentsize), 0); }),
                  "inspect", invalid, "e_phentsize is wrong: expected 56, found 0"});
   out.push_back({"5 bounds", "overlapping PT_LOAD segments",
                  patched(dir, "overlap",
                          [](bytes::Bytes &b) {
                             const size_t first = bytes::program_header(b, PT_LOAD, 0);
                             const size_t second = bytes::program_header(b, PT_LOAD, 1);
                             bytes::put64(b, second + offsetof(Elf64_Phdr, p_vaddr),
                                          bytes::get(b, first + offsetof(Elf64_Phdr, p_vaddr), 8));
                          }),
                  "inspect", invalid, "loadable segments overlap or are out of order"});

   // 6: the file and its directories, refused before a byte is parsed.
   const auto link = dir.path / "link.so";
   std::filesystem::create_symlink(fixture("probe_a"), link);
   out.push_back({"6 trust", "symbolic link to a good module", link.string(), "trust", denied,
                  "is a symbolic link; expected a regular file"});
   out.push_back({"6 trust", "group-writable file", copied(dir.path, "group_writable", std::filesystem::perms(0664)),
                  "trust", denied, "is writable by its group (mode 0664); expected write permission for the owner only"});
   Case owner{"6 trust", "file owned by another user", copied(dir.path, "other_owner", std::filesystem::perms(0644)),
              "trust", denied, "is owned by uid 4242; expected root (0) or the host's user"};
   if (::geteuid() != 0 || ::chown(owner.path.c_str(), 4242, 4242) != 0) {
      owner.path.clear();
      owner.skipped = "changing a file's owner needs root";
   }
   out.push_back(owner);
   const auto open_dir = dir.path / "world_writable";
   std::filesystem::create_directory(open_dir);
   out.push_back({"6 trust", "world-writable parent directory", copied(open_dir, "probe", std::filesystem::perms(0644)),
                  "trust", denied, "directory " + open_dir.string() + " is writable by everyone (mode 0777)"});
   std::filesystem::permissions(open_dir, std::filesystem::perms(0777));

   // 7-9: the manifest, the ABI version and the entry symbol.
   out.push_back(elsewhere({"7 note", "no modkit note", "", "inspect", version,
                            "manifest: expected a note with owner \"modkit\""},
                           CORPUS_ELF_NO_MANIFEST, not_built_elf));
   out.push_back(elsewhere({"7 note", "two modkit notes", "", "inspect", version,
                            "manifest: expected exactly one note with owner \"modkit\" and type 0x4d4b0001 "
                            "(MODKIT_DECLARE_MODULE), found 2 manifest notes"},
                           CORPUS_ELF_TWO_MANIFESTS, not_built_elf));
   out.push_back({"7 note", "n_descsz beyond its segment",
                  patched(dir, "descsz",
                          [](bytes::Bytes &b) { bytes::put32(b, bytes::manifest_note_offset(b) + 4, 0x10000); }),
                  "inspect", invalid, "note descriptor runs past its segment"});
   out.push_back({"7 note", "n_namesz = 0",
                  patched(dir, "namesz", [](bytes::Bytes &b) { bytes::put32(b, bytes::manifest_note_offset(b), 0); }),
                  "inspect", invalid, "note without an owner: expected at least 1"});
   out.push_back({"7 note", "descriptor 4 bytes late (the uint64_t padding bug)", fixture("misaligned_manifest"),
                  "inspect", invalid,
                  "manifest: expected a JSON object with \"name\", \"version\" and \"abi\" strings (modkit/manifest.h), "
                  "found text that is not a JSON object"});
   out.push_back({"8 compat", "ABI major + 1", fixture("abi_major2"), "inspect", version,
                  "built for ABI 2.0, host provides 1.1 (the major versions must be equal)"});
   out.push_back({"8 compat", "ABI minor newer than the host's", fixture("abi_minor_newer"), "inspect", version,
                  "built for ABI 1.7, host provides 1.1"});
   // Declared, not registered: the module's code never runs, so only the manifest can say it.
   out.push_back({"8 compat", "a declared category the host does not provide", fixture("declares_missing_category"),
                  "inspect", MODKIT_E_NOT_FOUND,
                  "declared category: expected one the host provides (modkit.spam_checker, modkit.test, "
                  "modkit.undeclared), found modkit.nonexistent"});
   out.push_back({"9 symbols", "entry symbol missing", fixture("no_entry"), "inspect", invalid,
                  "entry symbol: expected modkit_module_entry exported as a defined function, found no such export"});
   out.push_back(elsewhere({"9 symbols", "entry exported as an IFUNC", "", "inspect", invalid,
                            "found an indirect function (STT_GNU_IFUNC), whose resolver would run inside dlopen"},
                           CORPUS_ELF_IFUNC_ENTRY, not_built_elf));
   out.push_back(elsewhere({"9 symbols", "entry exported as data", "", "inspect", invalid,
                            "entry symbol: expected modkit_module_entry as a function (STT_FUNC), found a"},
                           CORPUS_ELF_ENTRY_OBJECT, not_built_elf));

   // 10-15: hygiene, each check switchable per module (hygiene_exceptions).
   out.push_back({"10 hygiene", "-z execstack", fixture("probe_execstack"), "inspect", denied,
                  "executable stack: expected PT_GNU_STACK without PF_X"});
   out.push_back(elsewhere({"11 hygiene", "1 MiB initial-exec TLS (DF_STATIC_TLS)", "", "inspect", denied,
                            "found DF_STATIC_TLS with 1048576 bytes of TLS"},
                           CORPUS_ELF_STATIC_TLS, not_built_elf));
   out.push_back(elsewhere({"12 hygiene", "STB_GNU_UNIQUE symbol", "", "inspect", denied,
                            "unique symbols: expected no STB_GNU_UNIQUE symbols"},
                           CORPUS_ELF_UNIQUE, "only GCC emits STB_GNU_UNIQUE, and only where tests/elf is built"));
   out.push_back(elsewhere({"13 hygiene", "DT_TEXTREL", "", "inspect", denied, "text relocations: expected no DT_TEXTREL"},
                           CORPUS_ELF_TEXTREL, not_built_elf));
   out.push_back({"13 hygiene", "DT_RPATH naming a world-writable directory", fixture("rpath_world_writable"),
                  "inspect", denied,
                  "library search path (RPATH/RUNPATH): expected entries inside the module's directory ($ORIGIN), "
                  "found /tmp"});
   out.push_back({"13 hygiene", "DT_RUNPATH outside the module's directory", fixture("runpath_outside"), "inspect",
                  denied, "found /opt/modkit-elsewhere/lib"});
   out.push_back({"14 hygiene", "DT_NEEDED on a library that cannot be found", fixture("uses_dep_missing"), "inspect",
                  denied, "needed libraries: expected libraries the dynamic linker can find, found libmodkit_fixture_dep.so"});
   out.push_back({"15 hygiene", "requires GLIBC_2.99", fixture("needs_glibc_2_99"), "inspect", denied,
                  "found GLIBC_2.99 required of libc.so.6"});

   // 16-17: what would fail inside dlopen. An IFUNC resolver is refused before it can run; an
   // undefined symbol makes dlopen(RTLD_NOW) fail cleanly.
   out.push_back(elsewhere({"16 probe", "IFUNC resolver (would run inside dlopen)", "", "inspect", denied,
                            "IFUNC resolvers: expected no STT_GNU_IFUNC symbols or IRELATIVE relocations"},
                           CORPUS_ELF_HIDDEN_IFUNC, not_built_elf));
   out.push_back({"17 probe", "undefined symbol (linked without -z defs)", fixture("undefined_symbol"), "link", invalid,
                  "undefined symbol: modkit_fixture_dep_value"});

   // 18: the runtime contract at load time.
   out.push_back(elsewhere({"18 contract", "init throws a C++ exception", "", "init", internal,
                            "init failed with status internal: init broke", R"(, "config": {"init": "std"})"},
                           CORPUS_SDK_THROWER, "tests/sdk is not in MODKIT_TEST_AREAS"));
   out.push_back({"18 contract", "init returns failure", fixture("probe_a"), "init", internal,
                  "init failed with status internal: the probe was told to fail",
                  R"(, "config": {"tag": "x", "fail_init": true})"});
   out.push_back({"18 contract", "struct_size smaller than required", fixture("short_descriptor"), "link", version,
                  "descriptor struct_size is 16; expected at least"});
   out.push_back({"18 contract", "entry returns NULL", fixture("declines"), "link", version,
                  "modkit_module_entry returned NULL: the module declined ABI 1.1"});
   return out;
}

// True when the dynamic linker has the file mapped (RTLD_NOLOAD maps nothing and runs nothing).
bool mapped(const std::string &path) {
   void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
   if (handle == nullptr) return false;
   ::dlclose(handle);
   return true;
}

} // namespace

TEST_CASE("the bad-module corpus: each case is refused at its stage with its own message") {
   TempDir dir;
   const std::vector<Case> cases = corpus(dir);
   std::vector<std::string> skipped;
   size_t refused = 0;
   for (const Case &c : cases) {
      if (c.path.empty()) {
         skipped.push_back(c.name + ": " + c.skipped);
         continue;
      }
      INFO("corpus item ", c.item, ", ", c.name, " (", c.path, ")");
      {
         Host host;
         const auto errors = load_errors([&] {
            host.loader.load(R"({"modules": [{"module": ")" + c.path + "\"" + c.entry + "}]}");
         });
         REQUIRE(!errors.empty());
         const modkit::LoadErrorItem &first = errors.front();
         INFO("first error: ", first.text);
         CHECK(first.stage == c.stage);
         CHECK(first.code == c.code);
         CHECK(first.module == c.path);
         CHECK(first.file == c.path);
         CHECK(contains(first.message, c.message));
         for (const modkit::LoadErrorItem &e : errors) CHECK(e.stage == first.stage);
         CHECK(host.loader.module_count() == 0);
      }
      // Refused before dlopen, or unloaded again: nothing of it stays in the process.
      CHECK_FALSE(mapped(c.path));
      ++refused;
   }
   CHECK(refused + skipped.size() == cases.size());

   // Every refusal left the process running and the loader usable.
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a"}}])");
   CHECK(host.loader.module_count() == 1);

   std::string summary = "bad-module corpus: " + std::to_string(cases.size()) + " cases, " + std::to_string(refused) +
                         " refused in process, " + std::to_string(skipped.size()) + " skipped in this build";
   for (const std::string &s : skipped) summary += "\n  skipped " + s;
   MESSAGE(summary);
}

TEST_CASE("a module needing a newer glibc than the host's is refused before dlopen, naming both versions") {
   const std::string path = fixture("needs_glibc_2_99");
   const std::string entry = R"([{"module": "needs_glibc_2_99")";
   std::string glibc;
   for (const modkit::elf::RuntimeVersion &r : modkit::elf::host_runtime_versions())
      if (r.family == "GLIBC") glibc = "GLIBC_" + r.highest + " in " + r.library;
   REQUIRE(!glibc.empty());

   SUBCASE("the symbol_versions check refuses it") {
      Host host;
      auto errors = load_errors([&] { host.load(entry + "}]"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "inspect");
      CHECK(errors[0].code == MODKIT_E_DENIED);
      CHECK(errors[0].pointer == "/modules/0/module");
      CHECK(errors[0].text == "/modules/0/module: module 'needs_glibc_2_99' (" + path +
                                 "): inspect: symbol versions: expected none newer than the host's runtime provides (" +
                                 glibc + "; rebuild the module against an older runtime), found GLIBC_2.99 required "
                                         "of libc.so.6");
      CHECK_FALSE(mapped(path));
   }
   SUBCASE("switched off with a reason, the dynamic linker refuses it at link, and the host carries on") {
      Host host;
      auto errors = load_errors([&] {
         host.load(entry +
                   R"(, "hygiene_exceptions": {"symbol_versions": "built on the next release; host upgrade due"}}])");
      });
      CHECK(host.logged("module 'needs_glibc_2_99': hygiene check symbol_versions is off by the host config (built "
                        "on the next release; host upgrade due); it found: symbol versions: expected none newer"));
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "link");
      CHECK(errors[0].code == MODKIT_E_INVALID_ARGUMENT);
      CHECK(errors[0].module == "needs_glibc_2_99");
      CHECK(errors[0].file == path);
      CHECK(contains(errors[0].message, "the dynamic linker refused the file after it passed the static checks: "));
      CHECK(contains(errors[0].message, "version `GLIBC_2.99' not found (required by " + path + ")"));
      CHECK_FALSE(mapped(path));
      Host after;
      after.load(R"([{"module": "probe_a", "config": {"tag": "a"}}])");
      CHECK(after.loader.module_count() == 1);
   }
}
