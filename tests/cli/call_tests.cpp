// call_tests.cpp - `modkit call`: a callback of a sample module invoked from the command line,
// and every way the call can be refused (exit 1) or be a usage error (exit 2).
#include "run.hpp"

#include <doctest/doctest.h>

using namespace cli_test;

namespace {

const char spam_config[] = R"({"blocked_words": ["Buy Now"], "max_length": 200})";

std::string file_in(const std::string &dir, const std::string &name, const std::string &text) {
   const std::string path = work_dir("call_" + dir + "_" + name) + "/" + name;
   write_file(path, text);
   return path;
}

// check_event_for_spam's arguments for a message of the given type and body.
std::string event_args(const std::string &type, const std::string &body) {
   return nlohmann::json{{"event", {{"sender", "@mallory:example.org"}, {"type", type}, {"content_json", {{"body", body}}}}}}
      .dump();
}

} // namespace

TEST_CASE("call invokes a spam-checker slot of the C sample and prints the combined answer") {
   if (spam_c().empty()) return;
   const std::string config = file_in("c_sample", "config.json", spam_config);
   const Run spam = run_modkit({"call", spam_c(), "spam_checker.check_event_for_spam", "--config", config, "--args",
                                event_args("m.room.message", "BUY NOW, cheap")});
   INFO(spam.out << spam.err);
   CHECK(spam.status == 0);
   // stdout is the answer alone, so it can be piped; the module's log goes to stderr.
   const auto answer = spam.json();
   CHECK(answer["outcome"] == "decided");
   CHECK(answer["module"] == "spam_c");
   CHECK(answer["answer"]["result"] == 1); // M_FORBIDDEN
   REQUIRE(answer["answers"].size() == 1);
   CHECK(answer["answers"][0]["status"] == "ok");
   CHECK(contains(spam.err, "log info spam_c: refused a message from @mallory:example.org: it contains \"buy now\""));

   const Run ham = run_modkit({"call", spam_c(), "modkit.spam_checker.check_event_for_spam", "--config", config,
                               "--args", event_args("m.room.message", "hello")});
   CHECK(ham.status == 0);
   CHECK(ham.json()["outcome"] == "no_opinion");
   CHECK(ham.json()["answers"][0]["outputs"]["result"] == 0);
}

TEST_CASE("call --json reports the target, the arguments, the load and the answer") {
   if (spam_c().empty()) return;
   const std::string config = file_in("json", "config.json", spam_config);
   // Arguments from a file, and positionally: check_username_for_spam(user_profile, requester_id).
   const std::string args = file_in("json", "args.json",
                                    R"([{"user_id": "@x:example.org", "display_name": "Buy now!"}, "@admin:example.org"])");
   const Run run = run_modkit({"call", "--json", spam_c(), "spam_checker.check_username_for_spam", "--config", config,
                               "--args", "@" + args});
   INFO(run.out << run.err);
   CHECK(run.status == 0);
   const auto doc = run.json();
   for (const char *key : {"command", "ok", "target", "args", "file", "load", "status", "result", "reasons"})
      CHECK_MESSAGE(doc.contains(key), key);
   CHECK(doc["command"] == "call");
   CHECK(doc["ok"] == true);
   CHECK(doc["target"] == nlohmann::json{{"category", "modkit.spam_checker"},
                                         {"version", "1.0"},
                                         {"slot", "check_username_for_spam"},
                                         {"signature", "user_profile: &user_profile, requester_id: str, is_spam: *bool"}});
   CHECK(doc["args"][1] == "@admin:example.org");
   CHECK(doc["load"]["outcome"] == "loaded");
   CHECK(doc["load"]["message"] == "loaded, initialised, called, deinitialised and unloaded");
   CHECK(doc["status"] == "ok");
   CHECK(doc["result"]["answer"]["is_spam"] == true);
   CHECK(doc["reasons"].empty());
}

TEST_CASE("call reaches the C++ SDK sample the same way") {
#ifdef CLI_SPAM_FILTER
   const std::string config = file_in("cpp_sample", "config.json", R"({"blocked_words": ["Viagra"], "ttl": "5m"})");
   const Run run = run_modkit({"call", CLI_SPAM_FILTER, "spam_checker.check_event_for_spam", "--config", config,
                               "--args", event_args("m.room.message", "cheap viagra")});
   INFO(run.out << run.err);
   CHECK(run.status == 0);
   CHECK(run.json()["outcome"] == "decided");
   CHECK(run.json()["module"] == "spam_filter");
#endif
}

TEST_CASE("call refuses what it cannot run, with exit 2 and a message saying what is wrong") {
   if (spam_c().empty()) return;
   const std::string config = file_in("usage", "config.json", spam_config);
   struct Case {
      std::vector<std::string> args;
      const char *message;
   } cases[] = {
      {{"call", spam_c(), "check_event_for_spam"}, "must be named CATEGORY.SLOT"},
      {{"call", spam_c(), "spam.check_event_for_spam"}, "no category \"spam\"; the standard categories are modkit.spam_checker"},
      {{"call", spam_c(), "spam_checker.check_everything"}, "has no slot \"check_everything\"; its slots are check_event_for_spam"},
      {{"call", spam_c(), "spam_checker.check_event_for_spam", "--args", "{\"event\":"}, "--args must be a JSON object"},
      {{"call", spam_c(), "spam_checker.check_event_for_spam", "--args", "42"}, "(event: &event, result: *i32)"},
      {{"call", spam_c(), "spam_checker.check_event_for_spam", "--args", "@/no/such/args.json"}, "/no/such/args.json"},
      {{"call", "/no/such/module.so", "spam_checker.check_event_for_spam"}, "/no/such/module.so"},
      {{"call", spam_c()}, "slot is required"},
      // The arguments are checked against the signature after the module loaded; the message
      // names the argument and the field.
      {{"call", spam_c(), "spam_checker.check_event_for_spam", "--config", config, "--args",
        R"({"event": {"sender": "@a:b", "contents": {}}})"},
       "argument 'event': unknown field 'contents' of struct 'event'"},
      {{"call", spam_c(), "spam_checker.user_may_join_room", "--config", config, "--args",
        R"({"user_id": "@a:b", "room_id": "!r:b", "is_invited": "yes"})"},
       "is_invited"},
   };
   for (const Case &c : cases) {
      const Run run = run_modkit(c.args);
      INFO(c.args.back() << "\n" << run.out << run.err);
      CHECK(run.status == 2);
      CHECK(run.out.empty());
      CHECK(contains(run.err, c.message));
   }
}

TEST_CASE("call exits 1 when the module is refused, registers no such callback, or its callback fails") {
   if (spam_c().empty()) return;
   SUBCASE("the loader refuses the config") {
      const std::string config = file_in("bad_config", "config.json", R"({"blocked_words": "buy now"})");
      const Run run = run_modkit({"call", "--json", spam_c(), "spam_checker.check_event_for_spam", "--config", config,
                                  "--args", event_args("m.room.message", "hi")});
      CHECK(run.status == 1);
      const auto doc = run.json();
      CHECK(doc["load"]["outcome"] == "refused");
      CHECK(doc["load"]["errors"][0]["pointer"].get<std::string>().rfind("/modules/0/config/blocked_words", 0) == 0);
      CHECK(doc["result"].is_null());
   }
   SUBCASE("the module does not register the slot") {
      const std::string config = file_in("unregistered", "config.json", spam_config);
      const Run run = run_modkit({"call", spam_c(), "spam_checker.user_may_invite", "--config", config, "--args",
                                  R"({"inviter": "@a:b", "invitee": "@c:d", "room_id": "!r:b"})"});
      CHECK(run.status == 1);
      CHECK(contains(run.err, "spam_c registers no callback for modkit.spam_checker.user_may_invite"));
      CHECK(run.json()["answers"].empty()); // the (empty) answer is still printed
   }
   SUBCASE("the callback returns an error status") {
      const Run run = run_modkit({"call", cli_fixture("cli_callbacks"), "spam_checker.check_event_for_spam", "--args",
                                  event_args("fail", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 1);
      CHECK(run.json()["outcome"] == "error");
      CHECK(run.json()["answers"][0]["status"] == "internal");
      CHECK(contains(run.err, "the callback failed (error): cli_callbacks with status internal"));
      // What the module printed is shown on stderr, never mixed into the answer.
      CHECK(contains(run.err, "cli_callbacks: checking an event of type fail"));
   }
   SUBCASE("the callback answers when asked to") {
      const Run run = run_modkit({"call", cli_fixture("cli_callbacks"), "spam_checker.check_event_for_spam", "--args",
                                  event_args("spam", "")});
      CHECK(run.status == 0);
      CHECK(run.json()["answer"]["result"] == 1);
   }
   SUBCASE("the file is refused before any of it runs") {
      const Run run = run_modkit({"call", "--json", cli_fixture("cli_rpath"), "spam_checker.check_event_for_spam"});
      CHECK(run.status == 1);
      const auto doc = run.json();
      CHECK(doc["load"].is_null());
      CHECK(contains(doc["reasons"].dump(), "not loaded: the loader would refuse the file"));
   }
}

TEST_CASE("a callback that crashes or hangs ends the child process, not modkit") {
   SUBCASE("crash") {
      const Run run = run_modkit({"call", "--json", cli_fixture("cli_callbacks"), "spam_checker.check_event_for_spam",
                                  "--args", event_args("crash", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 1);
      const auto doc = run.json();
      CHECK(doc["load"]["outcome"] == "crashed");
      CHECK(doc["load"]["phase"] == "call");
      CHECK(doc["load"]["message"] == "crashed with signal 11 (SIGSEGV) during call");
      CHECK(doc["result"].is_null());
   }
   SUBCASE("hang") {
      const Run run = run_modkit({"call", cli_fixture("cli_callbacks"), "spam_checker.user_may_join_room", "--timeout",
                                  "1", "--args", R"({"user_id": "@a:b", "room_id": "!r:b", "is_invited": false})"});
      INFO(run.out << run.err);
      CHECK(run.status == 1);
      CHECK(run.out.empty());
      CHECK(contains(run.err, "timed out after 1 s during call and was killed"));
   }
}

TEST_CASE("call waits for a callback that suspends (ABI 1.1) until --timeout") {
   const std::string module = cli_fixture("cli_async");
   SUBCASE("completed later from the module's thread") {
      const Run run = run_modkit({"call", module, "spam_checker.check_event_for_spam", "--args", event_args("later", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 0);
      CHECK(run.json()["outcome"] == "decided");
      CHECK(run.json()["answer"]["result"] == 1);
      CHECK(run.seconds >= 0.2); // the module completes 200 ms after the call
      // Nothing was left pending, so the module was deinitialised (and joined its thread).
      CHECK(contains(run.err, "cli_async: deinit joined the worker"));
   }
   SUBCASE("completed before the callback returned MODKIT_PENDING") {
      const Run run = run_modkit({"call", module, "spam_checker.check_event_for_spam", "--args", event_args("early", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 0);
      CHECK(run.json()["answer"]["result"] == 1);
   }
   SUBCASE("completed later with an error status") {
      const Run run =
         run_modkit({"call", module, "spam_checker.check_event_for_spam", "--args", event_args("later_fail", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 1);
      CHECK(run.json()["outcome"] == "error");
      CHECK(run.json()["answers"][0]["status"] == "internal");
      CHECK(contains(run.err, "the callback failed (error): cli_async with status internal"));
   }
   SUBCASE("never completed: a timeout at --timeout, not a hang") {
      const Run run = run_modkit({"call", "--json", module, "spam_checker.check_event_for_spam", "--timeout", "1",
                                  "--args", event_args("never", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 1);
      const auto doc = run.json();
      CHECK(doc["ok"] == false);
      CHECK(doc["status"] == "timeout");
      CHECK(doc["result"]["outcome"] == "error");
      CHECK(doc["result"]["status"] == "timeout");
      CHECK(doc["result"]["module"] == "cli_async");
      CHECK(contains(doc["reasons"].dump(), "timed out: cli_async did not complete the call within --timeout 1 s"));
      // The child was not killed: it reported the timeout, then unloaded, the loader naming the
      // module that never completed its call and leaving it loaded.
      CHECK(doc["load"]["outcome"] == "loaded");
      CHECK(contains(doc["load"]["log"].dump(), "module 'cli_async' is left loaded: calls it suspended never completed"));
      CHECK(run.seconds >= 1);
      CHECK(run.seconds < 4);
   }
   SUBCASE("never completed, in human form") {
      const Run run = run_modkit({"call", module, "spam_checker.check_event_for_spam", "--timeout", "0.5", "--args",
                                  event_args("never", "")});
      INFO(run.out << run.err);
      CHECK(run.status == 1);
      CHECK(run.json()["status"] == "timeout");
      CHECK(contains(run.err, "modkit call: timed out: cli_async did not complete the call within --timeout 0.5 s"));
   }
}

TEST_CASE("call reaches the C sample that completes from its worker thread") {
#ifdef CLI_SPAM_C_ASYNC
   const std::string config = file_in("c_async", "config.json", R"({"blocked_words": ["crypto"], "delay_ms": 300})");
   const Run spam = run_modkit({"call", CLI_SPAM_C_ASYNC, "spam_checker.check_event_for_spam", "--config", config,
                                "--args", event_args("m.room.message", "free Crypto")});
   INFO(spam.out << spam.err);
   CHECK(spam.status == 0);
   CHECK(spam.json()["module"] == "spam_c_async");
   CHECK(spam.json()["answer"]["result"] == 1);
   CHECK(spam.seconds >= 0.3);
   SUBCASE("a --timeout shorter than its delay") {
      const Run late = run_modkit({"call", CLI_SPAM_C_ASYNC, "spam_checker.check_event_for_spam", "--config", config,
                                   "--timeout", "0.1", "--args", event_args("m.room.message", "free crypto")});
      INFO(late.out << late.err);
      CHECK(late.status == 1);
      CHECK(late.json()["status"] == "timeout");
      CHECK(contains(late.err, "timed out: spam_c_async did not complete the call within --timeout 0.1 s"));
      // It completes the cancelled call itself, so it is unloaded normally.
      CHECK(!contains(late.err, "left loaded"));
   }
#endif
}
