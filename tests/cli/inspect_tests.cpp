// inspect_tests.cpp - `modkit inspect`, run as a user runs it.
#include "run.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace cli_test;

TEST_CASE("inspect prints the manifest and exports of the C sample") {
   if (spam_c().empty()) return; // samples not built
   const Run human = run_modkit({"inspect", spam_c()});
   INFO(human.out << human.err);
   CHECK(human.status == 0);
   CHECK(contains(human.out, "manifest   spam_c 1.0.0, ABI 1.1, SDK c-1.1"));
   CHECK(contains(human.out, "registers  modkit.spam_checker"));
   CHECK(contains(human.out, "exports    modkit_module_entry (function (STT_FUNC), global)"));
   CHECK(contains(human.out, "verdict    ok"));

   const Run json = run_modkit({"inspect", "--json", spam_c()});
   CHECK(json.status == 0);
   const auto doc = json.json();
   CHECK(doc["command"] == "inspect");
   CHECK(doc["ok"] == true);
   REQUIRE(doc["files"].size() == 1);
   const auto &file = doc["files"][0];
   for (const char *key : {"file", "ok", "error", "elf", "versions", "exports", "manifest", "findings"})
      CHECK_MESSAGE(file.contains(key), key);
   for (const char *key : {"class", "data", "osabi", "machine", "type", "soname", "needed", "rpath", "runpath", "exec_stack",
                           "static_tls", "tls_size", "textrel", "bind_now", "relro", "irelative", "init_functions",
                           "unique_symbols", "ifunc_symbols"})
      CHECK_MESSAGE(file["elf"].contains(key), key);
   CHECK(file["elf"]["type"] == "shared object (ET_DYN)");
   CHECK(file["elf"]["needed"] == nlohmann::json::array({"libc.so.6"}));
   CHECK(file["manifest"]["name"] == "spam_c");
   CHECK(file["manifest"]["abi"] == "1.1");
   CHECK(file["manifest"]["sdk"] == "c-1.1");
   CHECK(file["manifest"]["registers"] == nlohmann::json::array({"modkit.spam_checker"}));
   REQUIRE(file["exports"].size() == 1);
   CHECK(file["exports"][0]["name"] == "modkit_module_entry");
   CHECK(file["versions"]["highest"].contains("GLIBC"));
   CHECK(file["versions"]["required"][0]["file"] == "libc.so.6");
   CHECK(file["findings"].empty());
}

TEST_CASE("inspect lists every category a C++ module declares") {
   if (probe_a().empty()) return;
   const auto doc = run_modkit({"inspect", "--json", probe_a()}).json();
   const auto &m = doc["files"][0]["manifest"];
   CHECK(m["name"] == "probe_a");
   CHECK(m["registers"] == nlohmann::json::array({"modkit.test", "modkit.spam_checker"}));
   // A C++ module needs the C++ runtime's versions too.
   CHECK(doc["files"][0]["versions"]["highest"].contains("GLIBCXX"));
}

TEST_CASE("inspect runs none of the module's code; check does") {
   const std::string dir = work_dir("marker");
   const std::string marker = dir + "/constructor-ran";
   const Run inspect = run_modkit({"inspect", cli_fixture("cli_marker")}, {{"MODKIT_CLI_MARKER", marker}});
   INFO(inspect.out << inspect.err);
   CHECK(inspect.status == 0);
   CHECK_FALSE(std::filesystem::exists(marker));
   // The control: check loads the module in its child process, so the constructor runs there.
   const Run check = run_modkit({"check", cli_fixture("cli_marker")}, {{"MODKIT_CLI_MARKER", marker}});
   INFO(check.out << check.err);
   CHECK(check.status == 0);
   CHECK(std::filesystem::exists(marker));
}

TEST_CASE("inspect refuses files that are not modules, saying why") {
   const std::string dir = work_dir("not_modules");
   SUBCASE("a text file") {
      const std::string text = dir + "/notes.so";
      write_file(text, "#!/bin/sh\necho this is not a module\n");
      const Run run = run_modkit({"inspect", text});
      CHECK(run.status == 1);
      CHECK(contains(run.out, "error      not an ELF file: expected 7f 45 4c 46, found 23 21 2f 62"));
      const auto doc = run_modkit({"inspect", "--json", text}).json();
      CHECK(doc["ok"] == false);
      CHECK(doc["files"][0]["error"]["kind"] == "parse");
      CHECK(doc["files"][0]["elf"].is_null());
   }
   SUBCASE("a truncated module") {
      const std::string whole = read_file(cli_fixture("cli_marker"));
      const std::string cut = dir + "/truncated.so";
      write_file(cut, whole.substr(0, 40));
      const Run run = run_modkit({"inspect", cut});
      CHECK(run.status == 1);
      CHECK(contains(run.out, "file too short: expected at least 64 bytes, found 40"));
   }
   SUBCASE("a module cut after its headers") {
      const std::string whole = read_file(cli_fixture("cli_marker"));
      const std::string cut = dir + "/half.so";
      write_file(cut, whole.substr(0, whole.size() / 2));
      const auto doc = run_modkit({"inspect", "--json", cut}).json();
      CHECK(doc["ok"] == false);
      CHECK(doc["files"][0]["error"]["kind"] == "parse");
      CHECK(doc["files"][0]["elf"]["class"] == "64-bit (ELFCLASS64)"); // what was read before the failure
   }
   SUBCASE("an executable") {
      const auto doc = run_modkit({"inspect", "--json", MODKIT_CLI}).json();
      CHECK(doc["ok"] == false);
      const std::string check = doc["files"][0]["findings"][0]["check"];
      CHECK((check == "elf.interp" || check == "elf.type"));
   }
   SUBCASE("an empty file") {
      write_file(dir + "/empty.so", "");
      const Run run = run_modkit({"inspect", dir + "/empty.so"});
      CHECK(run.status == 1);
      CHECK(contains(run.out, "file too short"));
   }
}

TEST_CASE("inspect reports hygiene findings and exits 1") {
#ifdef CLI_PROBE_EXECSTACK
   const Run run = run_modkit({"inspect", CLI_PROBE_EXECSTACK});
   CHECK(run.status == 1);
   CHECK(contains(run.out, "hygiene.exec_stack"));
   const auto doc = run_modkit({"inspect", "--json", CLI_PROBE_EXECSTACK}).json();
   CHECK(doc["files"][0]["elf"]["exec_stack"] == true);
   CHECK(doc["files"][0]["findings"][0]["check"] == "hygiene.exec_stack");
   CHECK(doc["files"][0]["findings"][0]["loader_refuses"] == true);
#endif
}

TEST_CASE("inspect takes several files; the worst result decides the exit code") {
   const std::string dir = work_dir("several");
   write_file(dir + "/text.so", "text");
   const Run mixed = run_modkit({"inspect", "--json", cli_fixture("cli_marker"), dir + "/text.so"});
   CHECK(mixed.status == 1);
   const auto doc = mixed.json();
   REQUIRE(doc["files"].size() == 2);
   CHECK(doc["files"][0]["ok"] == true);
   CHECK(doc["files"][1]["ok"] == false);
   // An unreadable file is an I/O error: exit 2, and the other files are still reported.
   const Run missing = run_modkit({"inspect", cli_fixture("cli_marker"), dir + "/no-such.so"});
   CHECK(missing.status == 2);
   CHECK(contains(missing.out, "cannot open: No such file or directory"));
   CHECK(contains(missing.out, "verdict    ok"));
   const Run directory = run_modkit({"inspect", dir});
   CHECK(directory.status == 2);
   CHECK(contains(directory.out, "is a directory"));
}

TEST_CASE("inspect flags a manifest the loader would refuse") {
   const auto not_json = run_modkit({"inspect", "--json", cli_fixture("cli_manifest_not_json")});
   CHECK(not_json.status == 1);
   const auto doc1 = not_json.json();
   const auto &f1 = doc1["files"][0];
   CHECK(f1["manifest"].is_null());
   CHECK(f1["findings"][0]["check"] == "manifest.invalid");
   CHECK(f1["findings"][0]["found"] == "text that is not a JSON object");
   const auto bad_abi = run_modkit({"inspect", "--json", cli_fixture("cli_manifest_bad_abi")});
   CHECK(bad_abi.status == 1);
   const auto doc2 = bad_abi.json();
   const auto &f2 = doc2["files"][0];
   CHECK(f2["manifest"]["abi"] == "one");
   CHECK(f2["findings"][0]["check"] == "manifest.abi");
   // check agrees with the loader: such a file is not loaded at all.
   CHECK(run_modkit({"check", "--json", cli_fixture("cli_manifest_bad_abi")}).json()["load"].is_null());
}

TEST_CASE("inspect flags library search paths; check loads only what the loader accepts") {
   SUBCASE("a DT_RPATH outside the module's directory: the loader refuses it") {
      const Run run = run_modkit({"inspect", cli_fixture("cli_rpath")});
      CHECK(run.status == 1);
      CHECK(contains(run.out, "hygiene.runpath: library search path (RPATH/RUNPATH): expected entries inside the "
                              "module's directory ($ORIGIN), found /opt/modkit-test/lib"));
      CHECK(contains(run.out, "hygiene.rpath"));
      const auto doc = run_modkit({"check", "--json", cli_fixture("cli_rpath")}).json();
      CHECK(doc["ok"] == false);
      CHECK(doc["load"].is_null());
   }
   SUBCASE("a DT_RPATH of $ORIGIN: only the tools object") {
      const auto facts = run_modkit({"inspect", "--json", cli_fixture("cli_rpath_origin")}).json();
      CHECK(facts["files"][0]["elf"]["rpath"] == "$ORIGIN");
      REQUIRE(facts["files"][0]["findings"].size() == 1);
      CHECK(facts["files"][0]["findings"][0]["check"] == "hygiene.rpath");
      const Run check = run_modkit({"check", "--json", cli_fixture("cli_rpath_origin")});
      CHECK(check.status == 1);
      const auto doc = check.json();
      CHECK(doc["file"]["findings"][0]["loader_refuses"] == false);
      CHECK(doc["load"]["outcome"] == "loaded"); // the loader does not enforce this one
      CHECK(doc["reasons"].size() == 1);
   }
}

TEST_CASE("inspect of a shared library that is not a module lists its exports and what is missing") {
   const Run run = run_modkit({"inspect", CLI_LOADER_LIBRARY});
   CHECK(run.status == 1);
   CHECK(contains(run.out, "\n  exports    "));
   CHECK(contains(run.out, "modkit_loader_create (function (STT_FUNC), global)\n"));
   CHECK_FALSE(contains(run.out, "\\x0a"));
   CHECK(contains(run.out, "manifest.missing"));
   CHECK(contains(run.out, "entry.missing"));
   const auto doc = run_modkit({"inspect", "--json", CLI_LOADER_LIBRARY}).json();
   CHECK(doc["files"][0]["exports"].size() > 10);
   CHECK(doc["files"][0]["manifest"].is_null());
}
