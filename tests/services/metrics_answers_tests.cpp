// metrics_answers_tests.cpp - modkit.metrics/1 (registration rules, lock-free updates, the
// Prometheus text) and call_set_error's richer answers.
#include "probe_host.hpp"

#include "loader.hpp" // white-box: a module's host handle without a module

#include <modkit/async.hpp>
#include <modkit/services/metrics.h>

using test::ask;
using test::eventually;
using test::Host;
using test::load_with_services;

namespace {

// A loader and one module's host handle, for calling the services' C tables directly.
struct Bare {
   modkit_loader_options options{};
   std::unique_ptr<modkit::loader::Loader> loader;
   modkit_host host;
   const modkit_metrics_api *metrics = nullptr;

   explicit Bare(const char *name, uint32_t max_series = 1000) {
      options.struct_size = sizeof options;
      options.log = [](void *, modkit_log_level, const char *, modkit_str) {};
      loader = std::make_unique<modkit::loader::Loader>(options);
      host.loader = loader.get();
      host.name = name;
      host.state = modkit_host::State::running;
      modkit::loader::services::ModuleGrants grants;
      grants.limits.max_series = max_series;
      loader->services().attach(host, name, grants);
      loader->services().open(host);
      metrics = static_cast<const modkit_metrics_api *>(modkit::loader::services::Services::extension(MODKIT_METRICS_ID));
   }
   ~Bare() { loader->services().detach(host); }

   modkit_status add(uint32_t kind, const char *name, std::vector<const char *> labels = {},
                     std::vector<double> buckets = {}, modkit_metric **out = nullptr) {
      modkit_metric *ignored = nullptr;
      modkit_metric_desc d{sizeof d, kind, name, "help", labels.data(), labels.size(),
                           buckets.empty() ? nullptr : buckets.data(), buckets.size()};
      return metrics->register_metric(&host, &d, out ? out : &ignored);
   }
   std::string text() const { return loader->metrics_text(MODKIT_LOADER_METRICS_MODULES); }
};

} // namespace

TEST_CASE("a metric's name, labels and buckets are checked at registration") {
   Bare b("m");
   CHECK(b.add(MODKIT_METRIC_COUNTER, "requests") == MODKIT_OK);
   CHECK(b.add(MODKIT_METRIC_GAUGE, "requests") == MODKIT_E_CONFLICT);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "Requests") == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "9lives") == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "") == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(7, "kind") == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_HISTOGRAM, "h", {"le"}) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "c", {"__x"}) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "c", {"a", "a"}) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_HISTOGRAM, "h", {}, {1, 1}) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_HISTOGRAM, "h", {}, {1, 0.5}) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(b.add(MODKIT_METRIC_HISTOGRAM, "h", {}, {0.5, 1}) == MODKIT_OK);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "a__b") == MODKIT_E_INVALID_ARGUMENT);
}

TEST_CASE("two modules cannot export one name") {
   Bare b("a_b");
   // "a.b" has the prefix of "a_b" (a_b__): its "c" would also be modkit_mod_a_b__c.
   modkit_host other;
   other.loader = b.loader.get();
   other.name = "a.b";
   other.state = modkit_host::State::running;
   b.loader->services().attach(other, "a.b", {});
   b.loader->services().open(other);
   CHECK(b.add(MODKIT_METRIC_COUNTER, "c") == MODKIT_OK);
   modkit_metric *m = nullptr;
   modkit_metric_desc d{sizeof d, MODKIT_METRIC_GAUGE, "c", "help", nullptr, 0, nullptr, 0};
   CHECK(b.metrics->register_metric(&other, &d, &m) == MODKIT_E_CONFLICT);
   b.loader->services().detach(other);
}

TEST_CASE("series are found once per label set, capped per module, and rendered in the text format") {
   Bare b("spam-filter", 3);
   modkit_metric *c = nullptr, *g = nullptr, *h = nullptr;
   REQUIRE(b.add(MODKIT_METRIC_COUNTER, "checked", {"verdict"}, {}, &c) == MODKIT_OK);
   REQUIRE(b.add(MODKIT_METRIC_GAUGE, "queue_depth", {}, {}, &g) == MODKIT_OK);
   REQUIRE(b.add(MODKIT_METRIC_HISTOGRAM, "latency_seconds", {}, {0.1, 1}, &h) == MODKIT_OK);
   modkit_metric_series *spam = nullptr, *ham = nullptr, *again = nullptr, *depth = nullptr, *lat = nullptr;
   const modkit_str s_spam = MODKIT_STR_LIT("spam"), s_ham = MODKIT_STR_LIT("h\"am");
   REQUIRE(b.metrics->series(c, &s_spam, 1, &spam) == MODKIT_OK);
   REQUIRE(b.metrics->series(c, &s_spam, 1, &again) == MODKIT_OK);
   CHECK(again == spam);
   CHECK(b.metrics->series(c, nullptr, 0, &again) == MODKIT_E_INVALID_ARGUMENT); // one label expected
   REQUIRE(b.metrics->series(c, &s_ham, 1, &ham) == MODKIT_OK);
   REQUIRE(b.metrics->series(g, nullptr, 0, &depth) == MODKIT_OK);
   CHECK(b.metrics->series(h, nullptr, 0, &lat) == MODKIT_E_DENIED); // the fourth series
   b.metrics->counter_add(spam, 2);
   b.metrics->counter_add(spam, 1);
   b.metrics->gauge_set(depth, 5);
   b.metrics->gauge_add(depth, -1.5);
   b.metrics->gauge_set(spam, 99); // another kind: ignored
   const std::string text = b.text();
   CHECK(text.find("# TYPE modkit_mod_spam_filter__checked_total counter\n") != std::string::npos);
   CHECK(text.find("modkit_mod_spam_filter__checked_total{verdict=\"spam\"} 3\n") != std::string::npos);
   CHECK(text.find("modkit_mod_spam_filter__checked_total{verdict=\"h\\\"am\"} 0\n") != std::string::npos);
   CHECK(text.find("modkit_mod_spam_filter__queue_depth 3.5\n") != std::string::npos);
}

TEST_CASE("a histogram counts observations into cumulative buckets with their sum") {
   Bare b("m");
   modkit_metric *h = nullptr;
   REQUIRE(b.add(MODKIT_METRIC_HISTOGRAM, "latency_seconds", {"op"}, {0.1, 1}, &h) == MODKIT_OK);
   modkit_metric_series *s = nullptr;
   const modkit_str op = MODKIT_STR_LIT("read");
   REQUIRE(b.metrics->series(h, &op, 1, &s) == MODKIT_OK);
   for (double v : {0.05, 0.1, 0.5, 3.0}) b.metrics->histogram_observe(s, v);
   const std::string text = b.text();
   CHECK(text.find("modkit_mod_m__latency_seconds_bucket{op=\"read\",le=\"0.1\"} 2\n") != std::string::npos);
   CHECK(text.find("modkit_mod_m__latency_seconds_bucket{op=\"read\",le=\"1\"} 3\n") != std::string::npos);
   CHECK(text.find("modkit_mod_m__latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n") != std::string::npos);
   CHECK(text.find("modkit_mod_m__latency_seconds_sum{op=\"read\"} 3.65\n") != std::string::npos);
   CHECK(text.find("modkit_mod_m__latency_seconds_count{op=\"read\"} 4\n") != std::string::npos);
}

TEST_CASE("updates from many threads are all counted") {
   Bare b("m");
   modkit_metric *c = nullptr, *g = nullptr;
   REQUIRE(b.add(MODKIT_METRIC_COUNTER, "hits", {}, {}, &c) == MODKIT_OK);
   REQUIRE(b.add(MODKIT_METRIC_GAUGE, "level", {}, {}, &g) == MODKIT_OK);
   modkit_metric_series *hits = nullptr, *level = nullptr;
   REQUIRE(b.metrics->series(c, nullptr, 0, &hits) == MODKIT_OK);
   REQUIRE(b.metrics->series(g, nullptr, 0, &level) == MODKIT_OK);
   std::vector<std::thread> threads;
   for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
         for (int i = 0; i < 10000; ++i) {
            b.metrics->counter_add(hits, 1);
            b.metrics->gauge_add(level, 0.5);
         }
      });
   for (auto &t : threads) t.join();
   const std::string text = b.text();
   CHECK(text.find("modkit_mod_m__hits_total 40000\n") != std::string::npos);
   CHECK(text.find("modkit_mod_m__level 20000\n") != std::string::npos);
}

TEST_CASE("a module's metrics and the per-callback metrics come from the loader's text") {
   Host host;
   load_with_services(host, R"([{"module": "services_a", "config": {"metrics": true, "timer": {"period_ms": 1}}}])");
   CHECK(eventually([&] { return ask(host, "services_a", 1) >= 3; }));
   const std::string text = host.loader.metrics_text();
   CHECK(text.find("modkit_mod_services_a__timer_fires_total{kind=\"repeating\"} ") != std::string::npos);
   CHECK(text.find("modkit_mod_services_a__work_seconds_bucket{le=\"0.005\"} ") != std::string::npos);
   CHECK(text.find("modkit_callback_calls_total{module=\"services_a\",category=\"modkit.test\",slot=\"decide\"} ") !=
         std::string::npos);
   host.loader.unload_module("services_a");
   CHECK(host.loader.metrics_text(MODKIT_LOADER_METRICS_MODULES).empty()); // gone with its instance
}

namespace {

struct Answer {
   int calls = 0;
   std::string errcode, message, extra;
   static void MODKIT_ABI take(void *self, modkit_call *, modkit_str code, modkit_str message, modkit_str extra) {
      auto &a = *static_cast<Answer *>(self);
      ++a.calls;
      a.errcode.assign(code.data, code.size);
      a.message.assign(message.data, message.size);
      a.extra = extra.data ? std::string(extra.data, extra.size) : "(absent)";
   }
};

modkit_status allow(Host &host, const char *subject, modkit_call *call) {
   modkit_buffer *out = modkit_loader_buffer_create();
   const std::string args = std::string("{\"subject\": \"") + subject + "\"}";
   const modkit_status s = modkit_loader_call_json(host.loader.get(), "services_a", TEST_CATEGORY_ID, "allow",
                                                   args.data(), args.size(), call, out);
   modkit_loader_buffer_destroy(out);
   return s;
}

} // namespace

TEST_CASE("call_set_error reaches the host that asked for it, checked, and no other") {
   Host host;
   load_with_services(host, R"([{"module": "services_a"}])");
   Answer answer;
   modkit_call call = modkit_call_make({nullptr, 0});
   call.on_error = Answer::take;
   call.error_user_data = &answer;
   CHECK(allow(host, "deny", &call) == MODKIT_OK);
   CHECK(answer.calls == 1);
   CHECK(answer.errcode == "M_FORBIDDEN");
   CHECK(answer.message == "not you");
   CHECK(answer.extra == R"({"subject":"deny"})");
   CHECK(host.logged("services_a:set_error=ok"));

   // A malformed answer is refused and nothing reaches the host.
   CHECK(allow(host, "bad", &call) == MODKIT_OK);
   CHECK(answer.calls == 1);
   CHECK(host.logged("services_a:set_error=invalid_argument"));

   // A host that keeps no errors (a plain call handle, a 1.0 host's) tells the module so.
   modkit_call plain = modkit_call_make({nullptr, 0});
   CHECK(allow(host, "deny", &plain) == MODKIT_OK);
   CHECK(host.logged("services_a:set_error=unsupported"));
}

TEST_CASE("an asynchronous dispatch hands call_set_error to its context's on_error") {
   Host host;
   load_with_services(host, R"([{"module": "services_a"}])");
   auto dispatch = [&](Answer *answer) {
      modkit::Outcome out;
      modkit::ReadGuard guard(host.loader.reader());
      auto slot = guard.slot<&test_callbacks::allow>(host.loader.slot_ref<&test_callbacks::allow>(TEST_CATEGORY_ID));
      using S = decltype(slot);
      modkit::AsyncContext context = host.loader.async_context(guard, "req");
      if (answer) {
         context.on_error = Answer::take;
         context.error_user_data = answer;
      }
      // The probe answers at once, so done has run when all_true returns.
      modkit::async::all_true(context, slot.raw(),
                              [](const modkit_loader_entry &e, modkit_call *c, bool *r) {
                                 return S::fn(e)(e.user_data, c, MODKIT_STR_LIT("deny"), r);
                              },
                              [&](const modkit::Outcome &o, bool) { out = o; });
      return out;
   };
   Answer answer;
   CHECK(dispatch(&answer).kind == modkit::Outcome::Kind::decided);
   CHECK(answer.calls == 1);
   CHECK(answer.errcode == "M_FORBIDDEN");
   CHECK(answer.extra == R"({"subject":"deny"})");

   // A context without on_error leaves the handle without one: the module is told.
   CHECK(dispatch(nullptr).kind == modkit::Outcome::Kind::decided);
   CHECK(host.logged("services_a:set_error=unsupported"));
}
