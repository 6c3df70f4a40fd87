// unit_tests.cpp - the CLI's small pieces in-process: the host runtime, compat's judgement and
// the project templates. The manifest grammar and the search-path rule are the loader's
// (tests/loader/inspect_api_tests.cpp).
#include "compat.hpp"
#include "module_file.hpp"
#include "templates.hpp"
#include "this_host.hpp"

#include "abi_table.hpp"

#include <doctest/doctest.h>

#include <elf.h>

using namespace modkit::cli;

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
   REQUIRE(glibc != nullptr);
   CHECK(find("GLIBCXX") != nullptr);
   CHECK(find("CXXABI") != nullptr);
   CHECK(glibc->library.find("libc.so.6") != std::string::npos);
   const TargetInfo target = this_host_target();
   CHECK(target.pointer_size == sizeof(void *));
   CHECK(target.elf_class == (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32));
}

TEST_CASE("compat judges a module file against a host description") {
   AbiModel host = current_abi_model();
   host.runtime = host_runtime_versions();
   const ModuleFile self = read_module_file("/proc/self/exe", compat_host(host)); // an executable: the loader refuses it
   const CompatResult result = judge_compat(self, host);
   REQUIRE_FALSE(result.reasons.empty());
   CHECK(result.reasons[0].check.rfind("elf.", 0) == 0); // elf.interp (PIE) or elf.type
   // The newest runtime versions this very program needs are no newer than those it runs on.
   for (const auto &r : result.reasons) CHECK(r.check != "runtime");
   SUBCASE("a runtime older than the file needs is a reason") {
      for (auto &r : *host.runtime) r.highest = "1.0";
      const CompatResult old = judge_compat(read_module_file("/proc/self/exe", compat_host(host)), host);
      bool found = false;
      for (const auto &r : old.reasons) found = found || (r.check == "runtime" && r.message.find(", host has 1.0") != std::string::npos);
      CHECK(found);
   }
   SUBCASE("without a runtime section the versions are not compared, and it says so") {
      host.runtime.reset();
      const CompatResult none = judge_compat(read_module_file("/proc/self/exe", compat_host(host)), host);
      REQUIRE(none.notes.size() == 1);
      CHECK(none.notes[0].find("no runtime section") != std::string::npos);
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
