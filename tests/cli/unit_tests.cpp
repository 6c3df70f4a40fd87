// unit_tests.cpp - the CLI's small pieces in-process: the manifest, search
// paths, the host runtime, compat's judgement and the project templates.
#include "compat.hpp"
#include "host_runtime.hpp"
#include "manifest.hpp"
#include "module_file.hpp"
#include "templates.hpp"

#include "abi_table.hpp"
#include "elf/symbol_versions.hpp"

#include <doctest/doctest.h>

#include <elf.h>

using namespace modkit::cli;

TEST_CASE("the manifest is read as the loader reads it") {
   Manifest m;
   std::string problem;
   REQUIRE(parse_manifest(R"({"name":"x","version":"1.0.0","abi":"1.2","sdk":"c-1.0","compiler":"12","registers":"a, b,,c "})",
                          m, problem));
   CHECK(m.name == "x");
   CHECK(*m.abi_major == 1);
   CHECK(*m.abi_minor == 2);
   CHECK(m.registers == std::vector<std::string>{"a", "b", "c"});
   REQUIRE(parse_manifest(R"({"name":"x","version":"1","abi":"one"})", m, problem));
   CHECK_FALSE(m.abi_major);
   CHECK_FALSE(parse_manifest("[1,2]", m, problem));
   CHECK(problem == "text that is not a JSON object");
   CHECK_FALSE(parse_manifest(R"({"name":"x","abi":"1.0"})", m, problem));
   CHECK_FALSE(parse_manifest("{\"name\":", m, problem));
   unsigned major = 0, minor = 0;
   CHECK(parse_major_minor("1.10", major, minor));
   CHECK(minor == 10);
   CHECK_FALSE(parse_major_minor("1", major, minor));
   CHECK_FALSE(parse_major_minor("1.0.0", major, minor));
   CHECK_FALSE(parse_major_minor("1.x", major, minor));
}

TEST_CASE("library search paths must stay in the module's directory; DT_RPATH is flagged anyway") {
   modkit::elf::Facts facts;
   const std::string dir = "/opt/modules";
   CHECK(check_search_paths(facts, dir).empty());
   facts.runpath = "$ORIGIN:$ORIGIN/lib:${ORIGIN}/deps/./x:/opt/modules/lib";
   CHECK(check_search_paths(facts, dir).empty());
   for (const char *outside : {"$ORIGIN/../lib", "/opt/lib", "$ORIGINAL", "/opt/modules-old", "lib"}) {
      facts.runpath = outside;
      const auto findings = check_search_paths(facts, dir);
      INFO(outside);
      REQUIRE(findings.size() == 1);
      CHECK(findings[0].check == "hygiene.runpath");
      CHECK(findings[0].loader_refuses);
      CHECK(findings[0].found == outside);
   }
   facts.runpath.clear();
   facts.rpath = "$ORIGIN";
   auto findings = check_search_paths(facts, dir);
   REQUIRE(findings.size() == 1);
   CHECK(findings[0].check == "hygiene.rpath");
   CHECK_FALSE(findings[0].loader_refuses);
   facts.rpath = "/usr/local/lib";
   findings = check_search_paths(facts, dir);
   REQUIRE(findings.size() == 2);
   CHECK(findings[0].check == "hygiene.runpath");
   CHECK(findings[1].check == "hygiene.rpath");
}

TEST_CASE("the host runtime is what this process runs on") {
   const auto runtime = host_runtime_versions();
   auto find = [&](const char *family) -> const RuntimeVersion * {
      for (const auto &r : runtime) {
         if (r.family == family) return &r;
      }
      return nullptr;
   };
   // This test program is C++: libc, libstdc++ and libgcc_s are all loaded.
   const RuntimeVersion *glibc = find("GLIBC");
   const RuntimeVersion *glibcxx = find("GLIBCXX");
   REQUIRE(glibc != nullptr);
   REQUIRE(glibcxx != nullptr);
   CHECK(find("CXXABI") != nullptr);
   CHECK(glibc->library.find("libc.so.6") != std::string::npos);
   // The newest version libc defines is at least the one this very program needs.
   const ModuleFile self = read_module_file("/proc/self/exe");
   REQUIRE(self.error == ModuleFile::Error::none);
   std::vector<std::string> needs;
   for (const auto &n : self.facts.version_needs) needs.push_back(n.version);
   for (const auto &need : modkit::elf::highest_versions(needs)) {
      const RuntimeVersion *have = find(need.family.c_str());
      REQUIRE_MESSAGE(have != nullptr, need.family);
      CHECK(modkit::elf::compare_versions(need.number, *modkit::elf::parse_dotted(have->highest)) <= 0);
   }
}

TEST_CASE("compat judges a module file against a host description") {
   const ModuleFile self = read_module_file("/proc/self/exe"); // an executable: the loader refuses it
   AbiModel host = current_abi_model();
   host.runtime = host_runtime_versions();
   const CompatResult result = judge_compat(self, host);
   REQUIRE_FALSE(result.reasons.empty());
   CHECK(result.reasons[0].check.rfind("elf.", 0) == 0); // elf.interp (PIE) or elf.type
   SUBCASE("a runtime older than the file needs is a reason") {
      for (auto &r : *host.runtime) r.highest = "1.0";
      const CompatResult old = judge_compat(self, host);
      bool found = false;
      for (const auto &r : old.reasons) found = found || (r.check == "runtime" && r.message.find(", host has 1.0") != std::string::npos);
      CHECK(found);
   }
   SUBCASE("without a runtime section the versions are not compared, and it says so") {
      host.runtime.reset();
      const CompatResult none = judge_compat(self, host);
      REQUIRE(none.notes.size() == 1);
      CHECK(none.notes[0].find("no runtime section") != std::string::npos);
   }
   SUBCASE("host facts follow the description's target") {
      host.target.machine = EM_AARCH64;
      host.target.byte_order = "big";
      const auto facts = host_facts(host.target);
      CHECK(facts.machine == EM_AARCH64);
      CHECK(facts.data == ELFDATA2MSB);
   }
}

TEST_CASE("modkit new's templates are complete") {
   CHECK(class_name_for("my_spam_filter") == "MySpamFilter");
   CHECK(class_name_for("x") == "X");
   CHECK(class_name_for("__") == "Module");
   CHECK(class_name_for("_2fa") == "Module2fa");
   for (const char *lang : {"c", "cpp"}) {
      const auto files = project_files("word_guard", lang);
      REQUIRE(files.size() == 4);
      CHECK(files[0].path == "CMakeLists.txt");
      CHECK(files[1].path == std::string("word_guard.") + lang);
      CHECK(files[2].path == "README.md");
      CHECK(files[3].path == "config.json");
      for (const auto &f : files) {
         INFO(lang << " " << f.path);
         CHECK(f.text.find('@') == std::string::npos); // every placeholder filled in
         if (f.path != "config.json") CHECK(f.text.find("word_guard") != std::string::npos);
      }
      CHECK(files[0].text.find("find_package(modkit 1 CONFIG REQUIRED)") != std::string::npos);
      CHECK(files[0].text.find("modkit_add_module(word_guard SOURCES word_guard.") != std::string::npos);
      CHECK(nlohmann::json::parse(files[3].text).is_object());
   }
   CHECK(project_files("word_guard", "c")[1].text.find("MODKIT_DECLARE_MODULE(descriptor, \"word_guard\"") != std::string::npos);
   CHECK(project_files("word_guard", "cpp")[1].text.find("MODKIT_MODULE(WordGuard, \"word_guard\"") != std::string::npos);
}
