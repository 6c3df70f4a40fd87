// abi_cli_tests.cpp - `modkit abi dump` and `modkit abi diff` as commands: files, exit codes,
// JSON documents. The classification itself is in abi_diff_tests.cpp.
#include "run.hpp"

#include <doctest/doctest.h>

using namespace cli_test;

namespace {

std::string dump_to(const std::string &dir, const std::string &name, bool abi_only = false) {
   const std::string path = dir + "/" + name;
   std::vector<std::string> args{"abi", "dump", "--out", path};
   if (abi_only) args.push_back("--abi-only");
   const Run run = run_modkit(args);
   INFO(run.out << run.err);
   REQUIRE(run.status == 0);
   return path;
}

} // namespace

TEST_CASE("abi dump describes this build: structs, constants, categories and runtime") {
   const Run run = run_modkit({"abi", "dump"});
   CHECK(run.status == 0);
   const auto doc = run.json();
   CHECK(doc["format"] == "modkit-abi/1");
   CHECK(doc["abi"]["version"] == "1.1");
   CHECK(doc["target"]["pointer_size"] == sizeof(void *));
   REQUIRE(doc["runtime"].is_array());
   bool glibc = false;
   for (const auto &r : doc["runtime"]) glibc = glibc || r["family"] == "GLIBC";
   CHECK(glibc);
   const auto &host_api = *std::find_if(doc["structs"].begin(), doc["structs"].end(),
                                        [](const auto &s) { return s["name"] == "modkit_host_api"; });
   CHECK(host_api["size_prefixed"] == true);
   CHECK(host_api["fields"][0] == nlohmann::json{{"name", "struct_size"}, {"type", "uint32_t"}, {"offset", 0}, {"size", 4}});
   const auto &spam = doc["categories"][0];
   CHECK(spam["id"] == "modkit.spam_checker");
   for (const char *key : {"id", "major", "minor", "version", "callbacks_size", "slots", "types"}) CHECK_MESSAGE(spam.contains(key), key);
   for (const char *key : {"name", "index", "offset", "signature", "since", "combine", "on_error", "chain_to", "out_max"})
      CHECK_MESSAGE(spam["slots"][0].contains(key), key);
   CHECK(spam["slots"][4]["chain_to"] == "user_may_invite");

   const std::string dir = work_dir("abi_dump");
   const Run written = run_modkit({"abi", "dump", "--json", "--out", dir + "/abi.json"});
   CHECK(written.status == 0);
   const auto summary = written.json();
   CHECK(summary["command"] == "abi dump");
   CHECK(summary["out"] == dir + "/abi.json");
   CHECK(nlohmann::json::parse(read_file(dir + "/abi.json"))["format"] == "modkit-abi/1");
   const auto abi_only = nlohmann::json::parse(read_file(dump_to(dir, "abi-only.json", true)));
   CHECK(abi_only["runtime"].is_null());
   CHECK(run_modkit({"abi", "dump", "--out", dir + "/no/such/dir/abi.json"}).status == 2);
}

TEST_CASE("abi diff exits 0 on compatible growth and 1 on a break, naming each change") {
   const std::string dir = work_dir("abi_diff");
   const std::string old_path = dump_to(dir, "old.json");
   nlohmann::json doc = nlohmann::json::parse(read_file(old_path));

   SUBCASE("compatible") {
      doc["abi"]["minor"] = 2;
      doc["constants"].push_back({{"name", "MODKIT_E_BUSY"}, {"group", "modkit_status"}, {"value", 13}});
      write_file(dir + "/new.json", doc.dump());
      const Run human = run_modkit({"abi", "diff", old_path, dir + "/new.json"});
      INFO(human.out << human.err);
      CHECK(human.status == 0);
      CHECK(contains(human.out, "compatible  constant MODKIT_E_BUSY: added with value 13 (modkit_status)"));
      CHECK(contains(human.out, "compatible  ABI version: minor version bumped from 1.1 to 1.2"));
      const auto json = run_modkit({"abi", "diff", "--json", old_path, dir + "/new.json"}).json();
      for (const char *key : {"command", "ok", "old", "new", "changes", "summary"}) CHECK_MESSAGE(json.contains(key), key);
      CHECK(json["ok"] == true);
      CHECK(json["summary"] == nlohmann::json{{"compatible", 2}, {"breaking", 0}, {"notes", 0}});
      CHECK(json["changes"][0]["class"] == "compatible");
   }
   SUBCASE("breaking") {
      for (auto &c : doc["constants"]) {
         if (c["name"] == "MODKIT_E_CONFIG") c["value"] = 50;
      }
      write_file(dir + "/new.json", doc.dump());
      const Run human = run_modkit({"abi", "diff", old_path, dir + "/new.json"});
      CHECK(human.status == 1);
      CHECK(contains(human.out, "breaking    constant MODKIT_E_CONFIG: value changed from 5 to 50"));
      CHECK(contains(human.out, "BREAKING"));
      const auto json = run_modkit({"abi", "diff", "--json", old_path, dir + "/new.json"}).json();
      CHECK(json["ok"] == false);
      CHECK(json["summary"]["breaking"] == 2); // the change, and "without a major version bump"
   }
   SUBCASE("unreadable input") {
      write_file(dir + "/new.json", R"({"format": "modkit-abi/1"})");
      const Run run = run_modkit({"abi", "diff", old_path, dir + "/new.json"});
      CHECK(run.status == 2);
      CHECK(contains(run.err, "missing key \"abi\""));
      CHECK(run_modkit({"abi", "diff", old_path, dir + "/none.json"}).status == 2);
   }
}

TEST_CASE("the committed ABI baseline describes this build, up to compatible growth") {
   const std::string dir = work_dir("baseline");
   const Run run = run_modkit({"abi", "diff", std::string(MODKIT_SOURCE_DIR) + "/abi/baseline/abi-1.0.json", dump_to(dir, "now.json")});
   INFO(run.out << run.err);
   CHECK(run.status == 0);
}
