// dispatch_tests.cpp - several modules answering one callback, under each combination and
// exception policy, through real fixture modules in config order.
#include "support.hpp"

#include <map>

using test::Host;
using Kind = modkit::Outcome::Kind;

namespace {

// Three probes, a, b and c, configured with per-slot answers and errors.
void load_three(Host &host, const std::string &a, const std::string &b, const std::string &c) {
   host.load(R"([{"module": "probe_a", "config": {"tag": "a")" + a + R"(}},
                 {"module": "probe_b", "config": {"tag": "b")" + b + R"(}},
                 {"module": "probe_c", "config": {"tag": "c")" + c + R"(}}])");
}

template <auto Member>
auto int_invoker(const modkit::Slot<Member> &slot, modkit_call &call) {
   return [&slot, &call](const modkit_loader_entry &e, int32_t *r) { return slot.fn(e)(e.user_data, &call, r); };
}

} // namespace

TEST_CASE("first non-zero: the earliest module in config order with an answer decides") {
   Host host;
   load_three(host, R"(, "answers": {"decide": 0})", R"(, "answers": {"decide": 2})", R"(, "answers": {"decide": 1})");
   auto slot = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
   REQUIRE(slot.size() == 3);
   modkit_call call = modkit_call_make(modkit_str_from_cstr("req-1"));
   int32_t answer = 0;
   auto out = modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
      return slot.fn(e)(e.user_data, &call, 7, r);
   });
   CHECK(out.kind == Kind::decided);
   CHECK(out.module_index == 1);
   CHECK(answer == 2);
   // c is never called; the request ID reached each module through the call handle.
   CHECK(host.calls() == std::vector<std::string>{"a:decide(7)@req-1", "b:decide(7)@req-1"});
}

TEST_CASE("first non-zero: every module answering zero is no opinion") {
   Host host;
   load_three(host, "", "", "");
   auto slot = host.loader.slot<&test_callbacks::lenient>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = 0;
   auto out = modkit::first_non_zero(slot.raw(), answer, int_invoker(slot, call));
   CHECK(out.kind == Kind::no_opinion);
   CHECK(answer == 0);
   CHECK(host.calls().size() == 3);
}

TEST_CASE("exception policies decide what a failing callback does to the dispatch") {
   Host host;
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = 0;
   SUBCASE("propagate: the error stops the dispatch and reaches the host") {
      load_three(host, "", R"(, "errors": {"decide": 4})", R"(, "answers": {"decide": 1})");
      auto slot = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
      auto out = modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
         return slot.fn(e)(e.user_data, &call, 1, r);
      }, 0, host.loader.observer());
      CHECK(out.kind == Kind::error);
      CHECK(out.status == MODKIT_E_INTERNAL);
      CHECK(out.module_index == 1);
      CHECK(host.calls() == std::vector<std::string>{"a:decide(1)", "b:decide(1)"});
      // The failure is logged under the module's name.
      CHECK(host.logged("modkit.test.decide failed with status internal"));
   }
   SUBCASE("fail closed: the deny answer is used") {
      load_three(host, R"(, "errors": {"strict": 4})", R"(, "answers": {"strict": 0})", "");
      auto slot = host.loader.slot<&test_callbacks::strict>(TEST_CATEGORY_ID);
      auto out = modkit::first_non_zero(slot.raw(), answer, int_invoker(slot, call), 3);
      CHECK(out.kind == Kind::failed_closed);
      CHECK(out.module_index == 0);
      CHECK(answer == 3);
      CHECK(host.calls() == std::vector<std::string>{"a:strict"});
   }
   SUBCASE("fail open: the failing module is skipped") {
      load_three(host, R"(, "errors": {"lenient": 4})", R"(, "answers": {"lenient": 2})", "");
      auto slot = host.loader.slot<&test_callbacks::lenient>(TEST_CATEGORY_ID);
      auto out = modkit::first_non_zero(slot.raw(), answer, int_invoker(slot, call));
      CHECK(out.kind == Kind::decided);
      CHECK(out.module_index == 1);
      CHECK(answer == 2);
   }
   SUBCASE("an answer outside the slot's enum counts as a failure") {
      load_three(host, R"(, "answers": {"decide": 9})", R"(, "answers": {"decide": 1})", "");
      auto slot = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
      auto out = modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
         return slot.fn(e)(e.user_data, &call, 0, r);
      });
      CHECK(out.kind == Kind::error);
      CHECK(out.status == MODKIT_E_INVALID_ARGUMENT);
      CHECK(out.module_index == 0);
      CHECK(answer == 0);
   }
}

TEST_CASE("all true: the first false denies and later modules are skipped") {
   Host host;
   modkit_call call = modkit_call_make({"", 0});
   bool allowed = false;
   SUBCASE("one module denies") {
      load_three(host, R"(, "errors": {"allow": 4})", R"(, "answers": {"allow": false})", "");
      auto slot = host.loader.slot<&test_callbacks::allow>(TEST_CATEGORY_ID);
      auto out = modkit::all_true(slot.raw(), allowed, [&](const modkit_loader_entry &e, bool *r) {
         return slot.fn(e)(e.user_data, &call, modkit_str_from_cstr("room"), r);
      });
      CHECK(out.kind == Kind::decided);
      CHECK(out.module_index == 1);
      CHECK_FALSE(allowed);
      CHECK(host.calls() == std::vector<std::string>{"a:allow", "b:allow"});
   }
   SUBCASE("everyone allows") {
      load_three(host, "", "", "");
      auto slot = host.loader.slot<&test_callbacks::allow>(TEST_CATEGORY_ID);
      auto out = modkit::all_true(slot.raw(), allowed, [&](const modkit_loader_entry &e, bool *r) {
         return slot.fn(e)(e.user_data, &call, modkit_str_from_cstr("room"), r);
      });
      CHECK(out.kind == Kind::no_opinion);
      CHECK(allowed);
   }
}

TEST_CASE("run all: every module is notified in order, a failure is skipped under fail-open") {
   Host host;
   load_three(host, "", R"(, "errors": {"notify": 4})", "");
   auto slot = host.loader.slot<&test_callbacks::notify>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   struct Count {
      int failures = 0;
      void failed(const modkit_loader_slot &, const modkit_loader_entry &, modkit_status, bool) { ++failures; }
   } observer;
   auto out = modkit::run_all(slot.raw(), [&](const modkit_loader_entry &e) {
      return slot.fn(e)(e.user_data, &call, modkit_str_from_cstr("joined"));
   }, observer);
   CHECK(out.kind == Kind::no_opinion);
   CHECK(observer.failures == 1);
   CHECK(host.calls() == std::vector<std::string>{"a:notify(joined)", "b:notify(joined)", "c:notify(joined)"});
}

TEST_CASE("merge: each module's output is folded in order; a failing module contributes nothing") {
   Host host;
   load_three(host, "", R"(, "errors": {"collect": 4})", "");
   auto slot = host.loader.slot<&test_callbacks::collect>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   modkit_buffer *buffer = modkit_loader_buffer_create();
   std::vector<std::string> merged;
   struct Out {}; // the output lives in the shared buffer, cleared per module
   auto out = modkit::merge<Out>(slot.raw(), [&](const modkit_loader_entry &e, Out *) {
      modkit_loader_buffer_clear(buffer);
      return slot.fn(e)(e.user_data, &call, buffer);
   }, [&](const Out &, const modkit_loader_entry &) {
      const modkit_str data = modkit_loader_buffer_data(buffer);
      merged.emplace_back(data.data, data.size);
      return merged.back() == "stop";
   });
   modkit_loader_buffer_destroy(buffer);
   CHECK(out.kind == Kind::no_opinion);
   CHECK(merged == std::vector<std::string>{"a", "c"});
}

TEST_CASE("single registrant: only the first module in config order is called") {
   Host host;
   load_three(host, R"(, "answers": {"only": 0})", R"(, "answers": {"only": 2})", "");
   auto slot = host.loader.slot<&test_callbacks::only>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = -1;
   auto out = modkit::single(slot.raw(), answer, int_invoker(slot, call));
   CHECK(out.kind == Kind::decided);
   CHECK(out.module_index == 0);
   CHECK(answer == 0);
   CHECK(host.calls() == std::vector<std::string>{"a:only"});
}

TEST_CASE("keyed: only the modules registered for the key are asked, in config order") {
   Host host;
   load_three(host, R"(, "login_type": "m.login.token", "answers": {"login": 1})",
              R"(, "login_type": "m.login.password", "answers": {"login": 0})",
              R"(, "login_type": "m.login.password", "answers": {"login": 3})");
   modkit_call call = modkit_call_make({"", 0});
   // The host learns each module's key once, at startup.
   auto types = host.loader.slot<&test_callbacks::login_types>(TEST_CATEGORY_ID);
   std::map<uint32_t, std::string> key_of;
   modkit_buffer *buffer = modkit_loader_buffer_create();
   for (const auto &e : types) {
      modkit_loader_buffer_clear(buffer);
      REQUIRE(types.fn(e)(e.user_data, &call, buffer) == MODKIT_OK);
      const modkit_str k = modkit_loader_buffer_data(buffer);
      key_of[e.module_index] = std::string(k.data, k.size);
   }
   modkit_loader_buffer_destroy(buffer);

   auto slot = host.loader.slot<&test_callbacks::login>(TEST_CATEGORY_ID);
   int32_t answer = 0;
   auto out = modkit::keyed(slot.raw(), [&](const modkit_loader_entry &e) { return key_of[e.module_index] == "m.login.password"; },
                            answer, [&](const modkit_loader_entry &e, int32_t *r) {
                               return slot.fn(e)(e.user_data, &call, modkit_str_from_cstr("m.login.password"), r);
                            });
   CHECK(out.kind == Kind::decided);
   CHECK(out.module_index == 2);
   CHECK(answer == 3);
   CHECK(host.calls() == std::vector<std::string>{"b:login", "c:login"});
}

TEST_CASE("chained: when nobody objects to the first slot, the chained slot runs") {
   Host host;
   load_three(host, "", R"(, "answers": {"decide": 2})", "");
   auto first = host.loader.slot<&test_callbacks::federated>(TEST_CATEGORY_ID);
   auto next = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
   CHECK(std::string(first.raw().desc->chain_to) == "decide");
   modkit_call call = modkit_call_make({"", 0});
   int32_t answer = 0;
   auto out = modkit::chained(first.raw(),
                              [&](const modkit_loader_entry &e, int32_t *r) {
                                 return first.fn(e)(e.user_data, &call, modkit_str_from_cstr("@eve:remote.example"), r);
                              },
                              next.raw(),
                              [&](const modkit_loader_entry &e, int32_t *r) { return next.fn(e)(e.user_data, &call, 5, r); },
                              answer);
   CHECK(out.kind == Kind::decided);
   CHECK(out.module_index == 1);
   CHECK(answer == 2);
   CHECK(host.calls() == std::vector<std::string>{"a:federated", "b:federated", "c:federated", "a:decide(5)",
                                                  "b:decide(5)"});
}

TEST_CASE("the standard spam checker category dispatches like any other") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "answers": {"check_event_for_spam": 0}}},
                 {"module": "probe_b", "config": {"tag": "b", "answers": {"check_event_for_spam": 3}}}])");
   auto slot = host.loader.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
   modkit_event event{};
   event.struct_size = sizeof event;
   event.sender = modkit_str_from_cstr("@mallory:example.org");
   modkit_call call = modkit_call_make({"", 0});
   modkit_spam_result result = MODKIT_NOT_SPAM;
   auto out = modkit::first_non_zero(slot.raw(), result, [&](const modkit_loader_entry &e, modkit_spam_result *r) {
      return slot.fn(e)(e.user_data, &call, &event, r);
   }, MODKIT_SPAM_FORBIDDEN);
   CHECK(out.module_index == 1);
   CHECK(result == MODKIT_SPAM_RESOURCE_LIMIT_EXCEEDED);
   CHECK(std::string(modkit_spam_result_errcode(result)) == "M_RESOURCE_LIMIT_EXCEEDED");
}

TEST_CASE("registration after init is refused with MODKIT_E_STATE and changes nothing") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "late_register": true}}])");
   auto slot = host.loader.slot<&test_callbacks::notify>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   const modkit_loader_entry &e = *slot.begin();
   CHECK(slot.fn(e)(e.user_data, &call, modkit_str_from_cstr("x")) == MODKIT_E_STATE);
   CHECK(slot.size() == 1);
}

TEST_CASE("the host answers capability queries for its categories and facilities") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "report_caps": true}}])");
   CHECK(host.log.front() == "a:caps:110");
}

TEST_CASE("answers are checked against the slot's out_max, whatever the answer type") {
   modkit_slot_desc desc{};
   desc.name = "probe";
   desc.on_error = MODKIT_ON_ERROR_PROPAGATE;
   const modkit_loader_entry entries[] = {{nullptr, nullptr, 0, 0}};
   const modkit_loader_slot slot{nullptr, &desc, entries, 1};
   // Each module "answers" what the test stores here.
   auto answering = [](auto value) {
      return [value](const modkit_loader_entry &, decltype(value) *out) {
         *out = value;
         return MODKIT_OK;
      };
   };
   SUBCASE("within 0..out_max decides") {
      desc.out_max = 3;
      int32_t answer = 0;
      CHECK(modkit::first_non_zero(slot, answer, answering(int32_t{3})).kind == Kind::decided);
      CHECK(answer == 3);
      CHECK(modkit::single(slot, answer, answering(int32_t{0})).kind == Kind::decided);
   }
   SUBCASE("above out_max or negative is the module's error") {
      desc.out_max = 3;
      int32_t answer = 0;
      for (int32_t bad : {4, -1, INT32_MIN}) {
         CAPTURE(bad);
         const auto out = modkit::first_non_zero(slot, answer, answering(bad));
         CHECK(out.kind == Kind::error);
         CHECK(out.status == MODKIT_E_INVALID_ARGUMENT);
         CHECK(modkit::single(slot, answer, answering(bad)).kind == Kind::error);
      }
      CHECK(answer == 0);
   }
   SUBCASE("an unsigned answer too large for int64 is out of range too") {
      desc.out_max = 3;
      uint64_t answer = 0;
      CHECK(modkit::first_non_zero(slot, answer, answering(UINT64_MAX)).kind == Kind::error);
   }
   SUBCASE("out_max -1 accepts any value, negative ones included") {
      desc.out_max = -1;
      int64_t answer = 0;
      CHECK(modkit::first_non_zero(slot, answer, answering(int64_t{-5})).kind == Kind::decided);
      CHECK(answer == -5);
   }
   SUBCASE("bool answers are never range-checked") {
      desc.out_max = 0;
      bool answer = false;
      CHECK(modkit::first_non_zero(slot, answer, answering(true)).kind == Kind::decided);
   }
}
