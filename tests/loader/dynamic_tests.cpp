// dynamic_tests.cpp - calling slots by name with JSON, as hosts without C headers do, and
// categories described in JSON at run time.
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>
#include <vector>

using test::contains;
using test::Host;
using json = nlohmann::json;

namespace {

struct Result {
   modkit_status status;
   json doc;
};

Result dispatch(Host &host, const char *category, const char *slot, const std::string &args) {
   modkit_buffer *out = modkit_loader_buffer_create();
   const modkit_status status =
      modkit_loader_dispatch_json(host.loader.get(), category, slot, args.data(), args.size(), nullptr, out);
   const modkit_str text = modkit_loader_buffer_data(out);
   Result r{status, json::parse(std::string(text.data, text.size))};
   modkit_loader_buffer_destroy(out);
   return r;
}

void load_three(Host &host) {
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "answers": {"decide": 0, "check_event_for_spam": 0}}},
                 {"module": "probe_b", "config": {"tag": "b", "answers": {"decide": 2, "check_event_for_spam": 1}}},
                 {"module": "probe_c", "config": {"tag": "c", "answers": {"decide": 1, "check_event_for_spam": 0}}}])");
}

} // namespace

TEST_CASE("dynamic dispatch gives the same decision as the typed path") {
   Host host;
   load_three(host);
   auto r = dispatch(host, TEST_CATEGORY_ID, "decide", R"({"input": 7})");
   CHECK(r.status == MODKIT_OK);
   CHECK(r.doc["outcome"] == "decided");
   CHECK(r.doc["module"] == "probe_b");
   CHECK(r.doc["answer"] == json{{"result", 2}});
   REQUIRE(r.doc["answers"].size() == 2);
   CHECK(r.doc["answers"][0] == json{{"module", "probe_a"}, {"status", "ok"}, {"outputs", {{"result", 0}}}});

   auto typed = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = 0;
   auto out = modkit::first_non_zero(typed.raw(), answer, [&](const modkit_loader_entry &e, int32_t *res) {
      return typed.fn(e)(e.user_data, &call, 7, res);
   });
   CHECK(host.loader.module(out.module_index).name == r.doc["module"]);
   CHECK(answer == r.doc["answer"]["result"]);
}

TEST_CASE("dynamic dispatch passes structs by pointer: the spam checker's event") {
   Host host;
   load_three(host);
   auto r = dispatch(host, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam",
                     R"({"event": {"sender": "@mallory:example.org", "type": "m.room.message", "content_json": {"body": "hi"}}})");
   CHECK(r.status == MODKIT_OK);
   CHECK(r.doc["module"] == "probe_b");
   CHECK(r.doc["answer"] == json{{"result", MODKIT_SPAM_FORBIDDEN}});
   CHECK(host.logged("a:check_event_for_spam(@mallory:example.org)"));
}

TEST_CASE("dynamic dispatch refuses arguments that do not fit, naming the argument") {
   Host host;
   load_three(host);
   SUBCASE("wrong type") {
      auto r = dispatch(host, TEST_CATEGORY_ID, "decide", R"({"input": "seven"})");
      CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
      CHECK(contains(r.doc["error"].get<std::string>(), "input"));
   }
   SUBCASE("out of range") {
      auto r = dispatch(host, TEST_CATEGORY_ID, "decide", R"([4294967296])");
      CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
   }
   SUBCASE("missing") {
      auto r = dispatch(host, TEST_CATEGORY_ID, "decide", R"({})");
      CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
      CHECK(contains(r.doc["error"].get<std::string>(), "input"));
   }
   SUBCASE("not JSON") {
      auto r = dispatch(host, TEST_CATEGORY_ID, "decide", R"({"input": )");
      CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
      CHECK(r.doc["error"] == "arguments are not valid JSON");
   }
   SUBCASE("unknown slot") {
      auto r = dispatch(host, TEST_CATEGORY_ID, "nope", "{}");
      CHECK(r.status == MODKIT_E_NOT_FOUND);
   }
   CHECK(host.calls().empty());
}

TEST_CASE("dynamic dispatch applies each slot's policy") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "answers": {"allow": true}, "errors": {"decide": 4}}},
                 {"module": "probe_b", "config": {"tag": "b", "answers": {"allow": false}}}])");
   auto all = dispatch(host, TEST_CATEGORY_ID, "allow", R"({"subject": "room"})");
   CHECK(all.doc["outcome"] == "decided");
   CHECK(all.doc["module"] == "probe_b");
   auto error = dispatch(host, TEST_CATEGORY_ID, "decide", R"({"input": 1})");
   CHECK(error.status == MODKIT_E_INTERNAL);
   CHECK(error.doc["outcome"] == "error");
   CHECK(error.doc["answers"][0]["status"] == "internal");
   auto chained = dispatch(host, TEST_CATEGORY_ID, "federated", R"({"user": "@x:y"})");
   CHECK(chained.doc["outcome"] == "no_opinion");
   CHECK(chained.doc["chain_to"] == "decide");
   auto merged = dispatch(host, TEST_CATEGORY_ID, "collect", "{}");
   CHECK(merged.doc["answers"][1]["outputs"] == json{{"out", "b"}});
}

TEST_CASE("one module's callback can be called alone") {
   Host host;
   load_three(host);
   modkit_buffer *out = modkit_loader_buffer_create();
   const std::string args = R"({"input": 3})";
   CHECK(modkit_loader_call_json(host.loader.get(), "probe_c", TEST_CATEGORY_ID, "decide", args.data(), args.size(),
                                 nullptr, out) == MODKIT_OK);
   modkit_str text = modkit_loader_buffer_data(out);
   CHECK(json::parse(std::string(text.data, text.size)) ==
         json{{"module", "probe_c"}, {"status", "ok"}, {"outputs", {{"result", 1}}}});
   CHECK(host.calls() == std::vector<std::string>{"c:decide(3)"});
   CHECK(modkit_loader_call_json(host.loader.get(), "nobody", TEST_CATEGORY_ID, "decide", args.data(), args.size(),
                                 nullptr, out) == MODKIT_E_NOT_FOUND);
   modkit_loader_buffer_destroy(out);
}

TEST_CASE("describe lists every module's registrations") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/_modkit/a"], "cache": "words",
                                                   "answers": {"check_event_for_spam": 0}}}])");
   modkit_buffer *out = modkit_loader_buffer_create();
   REQUIRE(modkit_loader_describe_json(host.loader.get(), out) == MODKIT_OK);
   modkit_str text = modkit_loader_buffer_data(out);
   const json doc = json::parse(std::string(text.data, text.size));
   modkit_loader_buffer_destroy(out);
   REQUIRE(doc["modules"].size() == 1);
   const json &m = doc["modules"][0];
   CHECK(m["name"] == "probe_a");
   CHECK(m["config"]["tag"] == "a");
   CHECK(m["registrations"][MODKIT_SPAM_CHECKER_ID] == json{"check_event_for_spam"});
   CHECK(m["registrations"][TEST_CATEGORY_ID].size() == TEST_SLOT_COUNT);
   CHECK(m["web_resources"] == json{"/_modkit/a"});
   CHECK(m["cached_functions"] == json{"words"});
   CHECK(doc["categories"].size() == 3);
}

namespace {

// The test category again, but described in JSON instead of C.
json test_category_json() {
   json slots = json::array();
   const modkit_category *c = test_category();
   const char *combines[] = {"first_non_zero", "all_true", "run_all", "merge", "single", "keyed", "chained"};
   const char *on_errors[] = {"fail_open", "fail_closed", "propagate"};
   for (uint32_t i = 0; i < c->slot_count; ++i) {
      const modkit_slot_desc &s = c->slots[i];
      slots.push_back({{"name", s.name}, {"signature", s.signature}, {"combine", combines[s.combine]},
                       {"on_error", on_errors[s.on_error]}, {"out_max", s.out_max},
                       {"chain_to", s.chain_to ? json(s.chain_to) : json()}});
   }
   return json::array({{{"id", "modkit.test"}, {"major", 1}, {"minor", 0}, {"slots", slots}}});
}

} // namespace

TEST_CASE("a category described in JSON at run time works like one from a C header") {
   const std::string text = test_category_json().dump();
   std::vector<std::string> lines;
   // The probes also declare the spam checker: a host must provide it to load them.
   const modkit_category *spam_checker[] = {modkit_spam_checker_category()};
   modkit_loader_options o{};
   o.struct_size = sizeof o;
   o.categories = spam_checker;
   o.category_count = 1;
   o.categories_json = text.c_str();
   o.log = [](void *lines, modkit_log_level, const char *, modkit_str m) {
      static_cast<std::vector<std::string> *>(lines)->emplace_back(m.data, m.size);
   };
   o.log_user_data = &lines;
   modkit_loader *loader = nullptr;
   REQUIRE(modkit_loader_create(&o, &loader) == MODKIT_OK);
   const std::string config = R"({"module_path": [")" + test::fixture_dir() + R"("], "modules": [
      {"module": "probe_a", "config": {"tag": "a", "answers": {"decide": 0}}},
      {"module": "probe_b", "config": {"tag": "b", "answers": {"decide": 3}}}]})";
   REQUIRE(modkit_loader_load(loader, config.data(), config.size()) == MODKIT_OK);
   modkit_buffer *out = modkit_loader_buffer_create();
   const std::string args = R"({"input": 1})";
   CHECK(modkit_loader_dispatch_json(loader, "modkit.test", "decide", args.data(), args.size(), nullptr, out) ==
         MODKIT_OK);
   modkit_str r = modkit_loader_buffer_data(out);
   const json doc = json::parse(std::string(r.data, r.size));
   CHECK(doc["module"] == "probe_b");
   CHECK(doc["answer"]["result"] == 3);
   modkit_loader_buffer_destroy(out);
   modkit_loader_destroy(loader);
}

TEST_CASE("a malformed JSON category is refused at creation, naming where") {
   std::vector<std::string> lines;
   auto create = [&](const std::string &text) {
      modkit_loader_options o{};
      o.struct_size = sizeof o;
      o.categories_json = text.c_str();
      o.log = [](void *lines, modkit_log_level, const char *, modkit_str m) {
         static_cast<std::vector<std::string> *>(lines)->emplace_back(m.data, m.size);
      };
      o.log_user_data = &lines;
      modkit_loader *loader = nullptr;
      const modkit_status s = modkit_loader_create(&o, &loader);
      modkit_loader_destroy(loader);
      return s;
   };
   CHECK(create(R"([{"id": "x", "major": 1, "slots": [{"name": "a", "signature": "v: i32", "combine": "best", "on_error": "fail_open"}]}])") ==
         MODKIT_E_INVALID_ARGUMENT);
   CHECK(contains(lines.back(), "/0/slots/0/combine: unknown \"best\"; expected one of first_non_zero"));
   CHECK(create(R"([{"id": "x", "major": 1, "slots": [{"name": "a", "signature": "v: int", "combine": "run_all", "on_error": "fail_open"}]}])") ==
         MODKIT_E_INVALID_ARGUMENT);
   INFO(lines.back());
   CHECK(contains(lines.back(), "slot 'a': signature 'v: int': column 4 ('int'): unknown type"));
   CHECK(create("{}") == MODKIT_E_INVALID_ARGUMENT);
   CHECK(contains(lines.back(), "expected an array of categories"));
   // The reason is also data, for hosts that do not read the log.
   CHECK(std::string(modkit_loader_create_error()) == lines.back());
}

TEST_CASE("describe_json's categories can be fed back as categories_json") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "answers": {"check_event_for_spam": 3}}}])");
   modkit_buffer *out = modkit_loader_buffer_create();
   REQUIRE(modkit_loader_describe_json(host.loader.get(), out) == MODKIT_OK);
   const modkit_str text = modkit_loader_buffer_data(out);
   const std::string categories = json::parse(std::string(text.data, text.size))["categories"].dump();
   modkit_loader_buffer_destroy(out);

   // A host that knows the categories only as JSON loads and dispatches the same modules.
   modkit_loader_options o{};
   o.struct_size = sizeof o;
   o.categories_json = categories.c_str();
   o.log = [](void *, modkit_log_level, const char *, modkit_str) {};
   modkit_loader *loader = nullptr;
   REQUIRE(modkit_loader_create(&o, &loader) == MODKIT_OK);
   CHECK(std::string(modkit_loader_create_error()).empty());
   const std::string config = R"({"module_path": [")" + test::fixture_dir() +
                              R"("], "modules": [{"module": "probe_a", "config": {"tag": "a", "answers": {"check_event_for_spam": 3}}}]})";
   REQUIRE(modkit_loader_load(loader, config.data(), config.size()) == MODKIT_OK);
   modkit_buffer *result = modkit_loader_buffer_create();
   const std::string args = R"({"event": {"sender": "@m:x"}})";
   CHECK(modkit_loader_dispatch_json(loader, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam", args.data(), args.size(),
                                     nullptr, result) == MODKIT_OK);
   const modkit_str r = modkit_loader_buffer_data(result);
   CHECK(json::parse(std::string(r.data, r.size))["answer"]["result"] == 3);
   modkit_loader_buffer_destroy(result);
   modkit_loader_destroy(loader);
}

TEST_CASE("concurrent first dynamic calls of a slot prepare it once and all get the same answer") {
   Host host;
   load_three(host);
   // No slot has been called dynamically yet: every thread below may be the first.
   std::atomic<bool> go{false};
   std::atomic<int> wrong{0};
   std::vector<std::thread> threads;
   for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
         while (!go) std::this_thread::yield();
         for (int i = 0; i < 20; ++i) {
            auto r = (t + i) % 2 == 0 ? dispatch(host, TEST_CATEGORY_ID, "decide", R"({"input": 7})")
                                      : dispatch(host, MODKIT_SPAM_CHECKER_ID, "check_event_for_spam",
                                                 R"({"event": {"sender": "@s:x", "type": "m.room.message"}})");
            if (r.status != MODKIT_OK || r.doc["outcome"] != "decided" || r.doc["module"] != "probe_b") ++wrong;
         }
      });
   }
   go = true;
   for (auto &t : threads) t.join();
   CHECK(wrong == 0);
}

TEST_CASE("a category that passed once is accepted again, and a changed one is checked again") {
   const std::string good = R"([{"id": "x", "major": 1, "slots": [{"name": "a", "signature": "v: i32",
                                 "combine": "run_all", "on_error": "fail_open"}]}])";
   const std::string bad = R"([{"id": "x", "major": 1, "slots": [{"name": "a", "signature": "v: i33",
                                "combine": "run_all", "on_error": "fail_open"}]}])";
   auto create = [](const std::string &text) {
      modkit_loader_options o{};
      o.struct_size = sizeof o;
      o.categories_json = text.c_str();
      o.log = [](void *, modkit_log_level, const char *, modkit_str) {};
      modkit_loader *loader = nullptr;
      const modkit_status s = modkit_loader_create(&o, &loader);
      modkit_loader_destroy(loader);
      return s;
   };
   CHECK(create(good) == MODKIT_OK);
   CHECK(create(good) == MODKIT_OK); // from the memo
   CHECK(create(bad) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(contains(modkit_loader_create_error(), "signature 'v: i33': column 4 ('i33'): unknown type"));
}
