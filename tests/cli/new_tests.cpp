// new_tests.cpp - `modkit new`: what it writes and what it refuses. Building the result against
// an installed modkit is the cli.new_project test (new_project.cmake).
#include "run.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace cli_test;

TEST_CASE("new writes a project for either language") {
   const std::string dir = work_dir("new");
   for (const std::string lang : {"c", "cpp"}) {
      const std::string target = dir + "/guard_" + lang;
      const Run run = run_modkit({"new", "word_guard", "--dir", target, "--lang", lang, "--json"});
      INFO(run.out << run.err);
      CHECK(run.status == 0);
      const auto doc = run.json();
      for (const char *key : {"command", "ok", "name", "lang", "dir", "files"}) CHECK_MESSAGE(doc.contains(key), key);
      CHECK(doc["files"] == nlohmann::json::array({"CMakeLists.txt", "word_guard." + lang, "README.md", "config.json"}));
      for (const auto &f : doc["files"]) CHECK(std::filesystem::is_regular_file(target + "/" + f.get<std::string>()));
   }
   // Without --dir the project goes to ./NAME; an existing empty directory is fine too.
   std::filesystem::create_directories(dir + "/empty");
   CHECK(run_modkit({"new", "x", "--dir", dir + "/empty"}).status == 0);
   const Run human = run_modkit({"new", "y", "--dir", dir + "/human"});
   CHECK(contains(human.out, "created the C++ module project y in"));
}

TEST_CASE("new refuses bad names, unknown languages and non-empty directories with exit 2") {
   const std::string dir = work_dir("new_refusals");
   for (const char *name : {"1abc", "my-module", "my module", "", "test", "all"}) {
      const Run run = run_modkit({"new", name, "--dir", dir + "/n"});
      INFO(name << ": " << run.err);
      CHECK(run.status == 2);
      CHECK_FALSE(std::filesystem::exists(dir + "/n"));
   }
   CHECK(contains(run_modkit({"new", "my-module", "--dir", dir + "/n"}).err, "is not a C identifier"));
   CHECK(run_modkit({"new", "ok", "--dir", dir + "/r", "--lang", "rust"}).status == 2);
   write_file(dir + "/taken", "");
   CHECK(contains(run_modkit({"new", "ok", "--dir", dir + "/taken"}).err, "is not a directory"));
   std::filesystem::create_directories(dir + "/full");
   write_file(dir + "/full/keep.txt", "mine");
   const Run full = run_modkit({"new", "ok", "--dir", dir + "/full", "--json"});
   CHECK(full.status == 2);
   CHECK(full.json()["error"]["kind"] == "usage");
   CHECK(read_file(dir + "/full/keep.txt") == "mine");
}
