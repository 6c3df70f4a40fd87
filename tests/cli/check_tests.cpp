// check_tests.cpp - `modkit check`: the full load in a child process, and every way a module can
// fail it without taking modkit down.
#include "run.hpp"

#include <doctest/doctest.h>

using namespace cli_test;

namespace {

std::string config_file(const std::string &name, const std::string &json) {
   const std::string path = work_dir("configs_" + name) + "/config.json";
   write_file(path, json);
   return path;
}

} // namespace

TEST_CASE("check loads the C sample and prints its normalised config and registrations") {
   if (spam_c().empty()) return;
   const std::string config = config_file("spam_c", R"({"blocked_words": ["Buy Now"], "max_length": 200})");
   const Run human = run_modkit({"check", spam_c(), "--config", config});
   INFO(human.out << human.err);
   CHECK(human.status == 0);
   CHECK(contains(human.out, "config     {\"blocked_words\":[\"buy now\"],\"max_length\":200}"));
   CHECK(contains(human.out, "registers  modkit.spam_checker 1.0: check_event_for_spam, user_may_create_room_alias, "
                             "check_username_for_spam"));
   CHECK(contains(human.out, "outcome    loaded, initialised, deinitialised and unloaded"));

   const Run json = run_modkit({"check", "--json", spam_c(), "--config", config});
   CHECK(json.status == 0);
   const auto doc = json.json();
   for (const char *key : {"command", "ok", "file", "host_abi", "load", "reasons"}) CHECK_MESSAGE(doc.contains(key), key);
   const auto &load = doc["load"];
   for (const char *key : {"outcome", "phase", "message", "signal", "exit_code", "seconds", "limits", "errors", "module",
                           "registrations", "unloaded", "log", "output", "output_truncated"})
      CHECK_MESSAGE(load.contains(key), key);
   CHECK(load["outcome"] == "loaded");
   CHECK(load["unloaded"] == true);
   CHECK(load["module"]["name"] == "spam_c");
   CHECK(load["module"]["config"]["blocked_words"] == nlohmann::json::array({"buy now"}));
   const auto &regs = load["registrations"];
   REQUIRE(regs["categories"].size() == 1);
   CHECK(regs["categories"][0]["id"] == "modkit.spam_checker");
   CHECK(regs["categories"][0]["slots"].size() == 3);
   CHECK(regs["web_resources"].empty());
   CHECK(regs["cached_functions"].empty());
   CHECK(doc["reasons"].empty());
}

TEST_CASE("check prints the loader's errors as the loader reports them") {
   if (spam_c().empty()) return;
   const Run run = run_modkit({"check", "--json", spam_c(), "--config", config_file("bad", R"({"max_length": "long"})")});
   CHECK(run.status == 1);
   const auto doc = run.json();
   const auto &load = doc["load"];
   CHECK(load["outcome"] == "refused");
   REQUIRE_FALSE(load["errors"].empty());
   const auto &e = load["errors"][0];
   CHECK(e["stage"] == "configure");
   CHECK(e["pointer"].get<std::string>().rfind("/modules/0/config", 0) == 0);
   CHECK_FALSE(e["message"].get<std::string>().empty());
   const Run human = run_modkit({"check", spam_c(), "--config", config_file("bad2", R"({"max_length": "long"})")});
   CHECK(contains(human.out, "outcome    the loader refused the module"));
   CHECK(contains(human.out, "error      /modules/0/config"));
}

TEST_CASE("check lists categories, web resources and cached functions of the probe fixture") {
#ifdef CLI_PROBE_STANDARD
   const std::string probe = CLI_PROBE_STANDARD; // declares only the standard category it registers
   const std::string config = config_file("probe", R"({"tag": "cli", "register": false,
      "answers": {"check_event_for_spam": 1}, "web": ["/_modkit/probe/hello"], "cache": "verdicts", "ttl": "5s"})");
   const Run run = run_modkit({"check", "--json", probe, "--config", config});
   INFO(run.out << run.err);
   CHECK(run.status == 0);
   const auto doc = run.json();
   const auto &regs = doc["load"]["registrations"];
   REQUIRE(regs["categories"].size() == 1);
   CHECK(regs["categories"][0]["slots"][0]["name"] == "check_event_for_spam");
   CHECK(regs["web_resources"][0]["path"] == "/_modkit/probe/hello");
   CHECK(regs["cached_functions"][0]["name"] == "verdicts");
   CHECK(doc["load"]["module"]["config"]["ttl_ms"] == 5000); // normalised by parse_config
   bool traced = false;
   for (const auto &l : doc["load"]["log"]) traced = traced || l["message"] == "cli:deinit";
   CHECK(traced);
   const Run human = run_modkit({"check", probe, "--config", config});
   CHECK(contains(human.out, "web        /_modkit/probe/hello"));
   CHECK(contains(human.out, "caches     verdicts"));
#endif
}

TEST_CASE("check reports a module that crashes, aborts, exits, hangs or exhausts memory, and survives") {
   std::string fixture, expected, outcome;
   std::vector<std::string> extra;
   SUBCASE("segfault") {
      fixture = "cli_segv";
      expected = "crashed with signal 11 (SIGSEGV) during load";
      outcome = "crashed";
   }
   SUBCASE("abort") {
      fixture = "cli_abort";
      expected = "crashed with signal 6 (SIGABRT) during load";
      outcome = "crashed";
   }
   SUBCASE("exit(3)") {
      fixture = "cli_exit";
      expected = "exited with code 3 during load";
      outcome = "exited";
   }
   SUBCASE("an endless loop") {
      fixture = "cli_hang";
      extra = {"--timeout", "1"};
      expected = "timed out after 1 s during load and was killed";
      outcome = "timed_out";
   }
   SUBCASE("an 8 GiB allocation") {
      fixture = "cli_oom";
      extra = {"--memory", "256"};
      expected = "exhausted its memory limit of 256 MiB during load";
      outcome = "out_of_memory";
   }
   std::vector<std::string> args{"check", cli_fixture(fixture)};
   args.insert(args.end(), extra.begin(), extra.end());
   const Run human = run_modkit(args);
   INFO(human.out << human.err);
   CHECK(human.status == 1);
   CHECK(contains(human.out, "outcome    " + expected));
   CHECK(human.seconds < 10);

   args.push_back("--json");
   const Run json = run_modkit(args);
   CHECK(json.status == 1);
   const auto doc = json.json(); // the module's own stdout did not corrupt the document
   CHECK(doc["load"]["outcome"] == outcome);
   CHECK(doc["load"]["message"] == expected);
   CHECK(doc["reasons"][0] == expected);
   if (fixture != "cli_oom") // a static initialiser runs before the constructor's print
      CHECK(contains(doc["load"]["output"].get<std::string>(), fixture + ": constructor running"));
   if (fixture == "cli_segv") CHECK(doc["load"]["signal"] == nlohmann::json{{"number", 11}, {"name", "SIGSEGV"}});
   if (fixture == "cli_exit") CHECK(doc["load"]["exit_code"] == 3);
}

TEST_CASE("check reports a module whose init fails as a loader error") {
   const Run run = run_modkit({"check", "--json", cli_fixture("cli_init_fails")});
   CHECK(run.status == 1);
   const auto doc = run.json();
   CHECK(doc["load"]["outcome"] == "refused");
   REQUIRE(doc["load"]["errors"].size() == 1);
   const auto &e = doc["load"]["errors"][0];
   CHECK(e["stage"] == "init");
   CHECK(e["status"] == "config");
   CHECK(e["pointer"] == "/modules/0/config/threshold"); // where the module said the problem is
   CHECK(contains(e["message"].get<std::string>(), "expected at most 10, got 99"));
}

TEST_CASE("check does not load what the static checks refuse") {
#ifdef CLI_PROBE_EXECSTACK
   const Run run = run_modkit({"check", "--json", CLI_PROBE_EXECSTACK});
   CHECK(run.status == 1);
   const auto doc = run.json();
   CHECK(doc["load"].is_null());
   CHECK(doc["file"]["findings"][0]["check"] == "hygiene.exec_stack");
   CHECK(doc["reasons"].back() == "not loaded: the loader would refuse the file before running any of it");
#endif
#ifdef CLI_ABI_MINOR_NEWER
   // The manifest claims ABI 1.7: nothing static is wrong with the file, the loader refuses it.
   const auto newer = run_modkit({"check", "--json", CLI_ABI_MINOR_NEWER}).json();
   CHECK(newer["load"]["outcome"] == "refused");
   CHECK(newer["load"]["errors"][0]["stage"] == "inspect");
   CHECK(contains(newer["load"]["errors"][0]["message"].get<std::string>(), "built for ABI 1.7"));
#endif
}

TEST_CASE("check --host-abi judges the manifest against another host's ABI") {
   const std::string module = cli_fixture("cli_marker");
   CHECK(run_modkit({"check", module, "--host-abi", "1.1"}).status == 0);
   CHECK(run_modkit({"check", module, "--host-abi", "1.4"}).status == 0);
   const Run older = run_modkit({"check", "--json", module, "--host-abi", "0.9"});
   CHECK(older.status == 1);
   const auto doc = older.json();
   CHECK(doc["host_abi"]["compatible"] == false);
   CHECK(doc["host_abi"]["reason"] == "built for ABI 1.1, host provides 0.9 (the major versions must be equal)");
   CHECK(doc["load"]["outcome"] == "loaded"); // this build's loader still loads it
   CHECK(run_modkit({"check", module, "--host-abi", "2.0"}).status == 1);
   CHECK(run_modkit({"check", module, "--host-abi", "one"}).status == 2);
}

TEST_CASE("check refuses bad arguments with exit 2") {
   const std::string module = cli_fixture("cli_marker");
   CHECK(run_modkit({"check", module, "--timeout", "0"}).status == 2);
   CHECK(run_modkit({"check", module, "--timeout", "later"}).status == 2);
   CHECK(run_modkit({"check", module, "--config", "/no/such/config.json"}).status == 2);
   const std::string bad = work_dir("bad_config") + "/config.json";
   write_file(bad, "{not json");
   const Run run = run_modkit({"check", "--json", module, "--config", bad});
   CHECK(run.status == 2);
   CHECK(run.json()["error"]["kind"] == "usage");
   CHECK(run_modkit({"check", "/no/such/module.so"}).status == 2);
}

TEST_CASE("check prints what the C++ SDK samples register: callbacks, a cached function, a web resource") {
#ifdef CLI_SPAM_FILTER
   const std::string config = config_file("spam_filter", R"({"blocked_words": ["Viagra", "lottery"], "ttl": "5m"})");
   const Run run = run_modkit({"check", "--json", CLI_SPAM_FILTER, "--config", config});
   INFO(run.out << run.err);
   CHECK(run.status == 0);
   const auto doc = run.json();
   CHECK(doc["file"]["manifest"]["sdk"].get<std::string>().rfind("cpp-", 0) == 0);
   CHECK(doc["load"]["module"]["config"]["ttl_ms"] == 300000);
   CHECK(doc["load"]["registrations"]["categories"][0]["id"] == "modkit.spam_checker");
   CHECK(doc["load"]["registrations"]["cached_functions"][0]["name"] == "contains_blocked_word");
#endif
#ifdef CLI_HELLO_WEB
   const Run web = run_modkit({"check", CLI_HELLO_WEB});
   INFO(web.out << web.err);
   CHECK(web.status == 0);
   CHECK(contains(web.out, "web        /_modkit/hello"));
   CHECK(contains(web.out, "registers  no callbacks"));
#endif
}
