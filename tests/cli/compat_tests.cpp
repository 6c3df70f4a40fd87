// compat_tests.cpp - `modkit compat` against this build's `abi dump`, and against copies of it
// edited to describe older or smaller hosts.
#include "run.hpp"

#include <doctest/doctest.h>

#include <elf.h>

#include <algorithm>

using namespace cli_test;

namespace {

// This build's description, edited by edit, written to a file; returns its path.
template <class Edit>
std::string host_file(const std::string &name, Edit &&edit) {
   const Run dump = run_modkit({"abi", "dump"});
   REQUIRE(dump.status == 0);
   nlohmann::json doc = dump.json();
   edit(doc);
   const std::string path = work_dir("compat_" + name) + "/host.json";
   write_file(path, doc.dump(2));
   return path;
}

std::vector<std::string> reasons(const nlohmann::json &doc) {
   std::vector<std::string> out;
   for (const auto &r : doc["reasons"]) out.push_back(r["message"]);
   return out;
}

// The loader's message for a declared category missing from a host with these categories.
std::string missing_category(const std::string &id, const nlohmann::json &categories) {
   std::string list;
   for (const auto &c : categories) list += (list.empty() ? "" : ", ") + c["id"].get<std::string>();
   return "declared category: expected one the host provides (" + list + "), found " + id;
}

nlohmann::json this_build() {
   const Run dump = run_modkit({"abi", "dump"});
   REQUIRE(dump.status == 0);
   return dump.json();
}

} // namespace

TEST_CASE("compat accepts a module built for this host") {
   const std::string host = host_file("same", [](nlohmann::json &) {});
   const Run run = run_modkit({"compat", cli_fixture("cli_marker"), "--host", host});
   INFO(run.out << run.err);
   CHECK(run.status == 0);
   CHECK(contains(run.out, "verdict    compatible"));
   const auto doc = run_modkit({"compat", "--json", cli_fixture("cli_marker"), "--host", host}).json();
   for (const char *key : {"command", "ok", "file", "host", "module", "reasons", "notes"}) CHECK_MESSAGE(doc.contains(key), key);
   CHECK(doc["ok"] == true);
   CHECK(doc["host"]["abi"] == "1.1");
   // Without --host, the host is this build.
   CHECK(run_modkit({"compat", cli_fixture("cli_marker")}).status == 0);
   if (!spam_c().empty()) CHECK(run_modkit({"compat", spam_c(), "--host", host}).status == 0);
}

TEST_CASE("compat names every reason a module cannot load into a host") {
   SUBCASE("the host's ABI minor is older than the module's") {
#ifdef CLI_ABI_MINOR_NEWER
      const std::string host = host_file("older", [](nlohmann::json &d) { d["abi"]["minor"] = 5; });
      const Run run = run_modkit({"compat", "--json", CLI_ABI_MINOR_NEWER, "--host", host});
      CHECK(run.status == 1);
      CHECK(reasons(run.json()) == std::vector<std::string>{"built for ABI 1.7, host provides 1.5"});
      const Run human = run_modkit({"compat", CLI_ABI_MINOR_NEWER, "--host", host});
      CHECK(contains(human.out, "reason     built for ABI 1.7, host provides 1.5"));
      CHECK(contains(human.out, "verdict    incompatible"));
#endif
   }
   SUBCASE("the host's ABI major differs") {
      const std::string host = host_file("major", [](nlohmann::json &d) { d["abi"]["major"] = 2; });
      const Run run = run_modkit({"compat", "--json", cli_fixture("cli_marker"), "--host", host});
      CHECK(run.status == 1);
      CHECK(reasons(run.json()) ==
            std::vector<std::string>{"built for ABI 1.1, host provides 2.1 (the major versions must be equal)"});
   }
   SUBCASE("the host does not provide a category the module registers") {
      if (spam_c().empty()) return;
      nlohmann::json categories;
      const std::string host = host_file("no_spam", [&](nlohmann::json &d) {
         auto &cats = d["categories"];
         for (size_t i = 0; i < cats.size(); ++i) {
            if (cats[i]["id"] == "modkit.spam_checker") cats.erase(i);
         }
         categories = cats;
      });
      const Run run = run_modkit({"compat", "--json", spam_c(), "--host", host});
      CHECK(run.status == 1);
      CHECK(run.json()["reasons"][0]["check"] == "category");
      CHECK(reasons(run.json()) == std::vector<std::string>{missing_category("modkit.spam_checker", categories)});
   }
   SUBCASE("the host's libstdc++ is older than the module needs") {
      if (probe_a().empty()) return;
      const auto facts = run_modkit({"inspect", "--json", probe_a()}).json();
      const std::string needed = facts["files"][0]["versions"]["highest"]["GLIBCXX"];
      const std::string host = host_file("old_glibcxx", [](nlohmann::json &d) {
         for (auto &r : d["runtime"]) {
            if (r["family"] == "GLIBCXX") r["highest"] = "3.4.0";
         }
      });
      const Run run = run_modkit({"compat", "--json", probe_a(), "--host", host});
      CHECK(run.status == 1);
      // The probe also declares test categories no standard host has; those are reasons too.
      const auto all = reasons(run.json());
      CHECK(std::count(all.begin(), all.end(), "needs GLIBCXX_" + needed + ", host has 3.4.0") == 1);
      CHECK(std::count(all.begin(), all.end(), missing_category("modkit.test", this_build()["categories"])) == 1);
   }
   SUBCASE("the host is another machine") {
      const unsigned here = this_build()["target"]["machine"];
      const unsigned other = here == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
      auto machine_name = [](unsigned m) { return m == EM_AARCH64 ? "AArch64 (EM_AARCH64)" : "x86-64 (EM_X86_64)"; };
      const std::string host = host_file("other_machine", [&](nlohmann::json &d) { d["target"]["machine"] = other; });
      const Run run = run_modkit({"compat", "--json", cli_fixture("cli_marker"), "--host", host});
      CHECK(run.status == 1);
      const auto doc = run.json();
      CHECK(doc["reasons"][0]["check"] == "elf.machine");
      if (here == EM_AARCH64 || here == EM_X86_64)
         CHECK(doc["reasons"][0]["message"] ==
               std::string("machine: expected ") + machine_name(other) + ", found " + machine_name(here));
   }
}

TEST_CASE("compat without a runtime section compares the rest and says what it left out") {
   const std::string host = host_file("no_runtime", [](nlohmann::json &d) { d["runtime"] = nullptr; });
   const auto doc = run_modkit({"compat", "--json", cli_fixture("cli_marker"), "--host", host}).json();
   CHECK(doc["ok"] == true);
   REQUIRE(doc["notes"].size() == 1);
   CHECK(contains(doc["notes"][0].get<std::string>(), "no runtime section"));
}

TEST_CASE("compat refuses a host description it cannot read, with exit 2") {
   const std::string dir = work_dir("compat_bad");
   write_file(dir + "/list.json", "[1, 2]");
   const Run run = run_modkit({"compat", cli_fixture("cli_marker"), "--host", dir + "/list.json"});
   CHECK(run.status == 2);
   CHECK(contains(run.err, "is not an `abi dump` document: the document: expected an object, found array"));
   CHECK(run_modkit({"compat", cli_fixture("cli_marker"), "--host", dir + "/missing.json"}).status == 2);
   CHECK(run_modkit({"compat", dir + "/missing.so"}).status == 2);
}

TEST_CASE("check and compat give one verdict on a module declaring a category the host lacks") {
#ifdef CLI_DECLARES_MISSING_CATEGORY
   const std::string module = CLI_DECLARES_MISSING_CATEGORY;
   const std::string message = missing_category("modkit.nonexistent", this_build()["categories"]);
   const Run compat = run_modkit({"compat", "--json", module});
   const Run check = run_modkit({"check", "--json", module});
   INFO(compat.out << check.out);
   CHECK(compat.status == 1);
   CHECK(check.status == compat.status);
   const auto c = compat.json();
   REQUIRE(c["reasons"].size() == 1);
   CHECK(c["reasons"][0]["check"] == "category");
   CHECK(c["reasons"][0]["message"] == message);
   // check refuses it statically, as the loader would at inspect: nothing is loaded.
   const auto k = check.json();
   CHECK(k["load"].is_null());
   REQUIRE(k["file"]["findings"].size() == 1);
   CHECK(k["file"]["findings"][0]["check"] == "manifest.registers");
   CHECK(k["file"]["findings"][0]["message"] == message);
   CHECK(k["reasons"][0] == "manifest.registers: " + message);
   const Run human = run_modkit({"check", module});
   CHECK(contains(human.out, "finding    manifest.registers: " + message));
   CHECK(contains(human.out, "verdict     refused"));
   // inspect judges the file alone, against no host: the declaration is reported, not refused.
   const auto inspected = run_modkit({"inspect", "--json", module}).json();
   CHECK(inspected["ok"] == true);
   CHECK(inspected["files"][0]["manifest"]["registers"] ==
         nlohmann::json::array({"modkit.spam_checker", "modkit.nonexistent"}));
#endif
   // The same on a module that declares the test category (the probe) and on one that declares
   // only standard categories (spam_c): check and compat agree.
   for (const std::string &module : {probe_a(), spam_c()}) {
      if (module.empty()) continue;
      INFO(module);
      const int compat = run_modkit({"compat", module}).status;
      const std::string config = work_dir("one_verdict") + "/config.json";
      write_file(config, module == probe_a() ? R"({"tag": "v"})" : R"({"blocked_words": ["x"], "max_length": 10})");
      CHECK(run_modkit({"check", module, "--config", config}).status == compat);
      CHECK(compat == (module == probe_a() ? 1 : 0));
   }
}
