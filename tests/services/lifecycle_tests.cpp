// lifecycle_tests.cpp - the services stop and drain a module's work before its deinit, never
// call into an unloaded or reloaded-away instance, and a host may replace a service.
#include "probe_host.hpp"

#include <modkit/services/timers.h>

#include <atomic>
#include <thread>

using test::ask;
using test::eventually;
using test::Host;
using test::line_starting;
using test::load_with_services;

namespace {

const char *busy = R"([{"module": "services_a", "services": {"tasks": {"concurrency": 2}},
                        "config": {"timer": {"period_ms": 1, "work_ms": 1},
                                   "tasks": {"count": 6, "work_ms": 5}}},
                       {"module": "services_b", "config": {"timer": {"period_ms": 1, "suspend_ms": 3},
                                                           "tasks": {"count": 4, "suspend": true}}}])";

} // namespace

TEST_CASE("unload stops a module's timers and tasks before its deinit; waiting tasks get their done") {
   Host host;
   load_with_services(host, R"([{"module": "services_a", "services": {"tasks": {"concurrency": 1}},
                                 "config": {"timer": {"period_ms": 1}, "tasks": {"count": 5, "work_ms": 30}}}])");
   CHECK(eventually([&] { return ask(host, "services_a", 1) >= 2; }));
   host.loader.unload_module("services_a");
   // deinit saw every task's done: the one that ran, and four cancelled while waiting.
   CHECK(line_starting(host, "services_a:deinit ").find(" tasks=5") != std::string::npos);
}

TEST_CASE("unload and reload under load never call into a gone instance") {
   Host host;
   load_with_services(host, busy, R"({"event_threads": 2, "task_threads": 3})");
   std::atomic<bool> stop{false};
   std::thread dispatcher([&] {
      while (!stop) {
         modkit::ReadGuard guard(host.loader.reader());
         (void)guard; // dispatch traffic: read sections come and go during every change
      }
   });
   for (int i = 0; i < 15; ++i) {
      host.loader.reload_module(i % 2 ? "services_a" : "services_b");
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
   }
   host.loader.unload_module("services_a");
   stop = true;
   dispatcher.join();
   // Each instance's services were drained before its deinit (probe aborts otherwise), and the
   // surviving one still runs.
   const int32_t runs = ask(host, "services_b", 1);
   CHECK(eventually([&] { return ask(host, "services_b", 1) > runs; }));
   std::lock_guard<std::mutex> lock(host.mutex);
   CHECK(std::count_if(host.log.begin(), host.log.end(),
                       [](const std::string &l) { return l.rfind("services_a:deinit", 0) == 0; }) == 8);
}

TEST_CASE("every request admitted before the drain is answered before deinit, however close the race") {
   // A thread of the module submits storage and HTTP requests without pause while it is
   // unloaded: each request is either refused (the drain began) or answered before deinit. The
   // URL refuses connections at once, so the requests are short; it must be granted literally.
   Host host;
   load_with_services(host, R"([{"module": "services_a", "config": {"hammer": {"url": "http://127.0.0.1:1/"}},
                                 "permissions": {"http": ["http://127.0.0.1:1/"]}}])",
                      R"({"storage": {"path": ":memory:"}})");
   for (int round = 0; round < 20; ++round) {
      std::this_thread::sleep_for(std::chrono::milliseconds(round % 5));
      host.loader.reload_module("services_a"); // throws on failure
   }
   host.loader.unload_module("services_a");
   std::lock_guard<std::mutex> lock(host.mutex);
   int instances = 0;
   for (const auto &l : host.log) {
      if (l.rfind("services_a:hammer ", 0) != 0) continue;
      ++instances;
      CHECK_MESSAGE(l.find(" outstanding=0") != std::string::npos, l);
   }
   CHECK(instances == 21);
}

TEST_CASE("work that outlives the wait is reported; the module is kept until it ends") {
   Host host({"/_matrix/"}, 100);
   load_with_services(host, R"([{"module": "services_a", "config": {"tasks": {"count": 1, "work_ms": 600}}},
                                {"module": "services_b"}])");
   std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the task is running
   host.loader.unload_module("services_a");
   CHECK(host.logged("work started through the services did not end within 100 ms (task probe work)"));
   CHECK(host.logged("module 'services_a' stays mapped"));
   CHECK(line_starting(host, "services_a:deinit", 0).empty()); // never deinitialised under its task
   // Once the task has ended, the next change of the module set finishes the unload.
   std::this_thread::sleep_for(std::chrono::milliseconds(700));
   host.loader.reload_module("services_b");
   CHECK(host.logged("module 'services_a': the work it started has ended; it is unloaded now"));
   CHECK(line_starting(host, "services_a:deinit ").find(" tasks=1") != std::string::npos);
}

namespace {

// A host's own timers: it records what modules asked, fires nothing, and is told when a module
// stops.
struct OwnTimers {
   static inline std::mutex mutex;
   static inline std::vector<std::string> events;
   static modkit_status MODKIT_ABI start(modkit_host *host, uint32_t delay, uint32_t period, modkit_timer_fn,
                                         void *, uint64_t *id) {
      std::lock_guard<std::mutex> lock(mutex);
      events.push_back(std::string(modkit_loader_host_module_name(host)) + " start " + std::to_string(delay) + "/" +
                       std::to_string(period));
      if (id) *id = 42;
      return MODKIT_OK;
   }
   static modkit_status MODKIT_ABI cancel(modkit_host *, uint64_t) { return MODKIT_E_NOT_FOUND; }
   static bool MODKIT_ABI background(modkit_host *) { return false; }
   static constexpr modkit_timers_api table = {sizeof(modkit_timers_api), start, cancel, background};
};

} // namespace

TEST_CASE("a host replaces the timers service and is told before each module's deinit") {
   OwnTimers::events.clear();
   modkit::Loader::Options o = Host::options(nullptr, {});
   std::vector<std::string> log;
   std::mutex log_mutex;
   o.log = [&](modkit_log_level, const char *module, std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mutex);
      if (module) log.emplace_back(line);
   };
   o.get_extension = [](const char *id) -> const void * {
      return std::string(id) == MODKIT_TIMERS_ID ? &OwnTimers::table : nullptr;
   };
   o.module_stopping = [&](modkit_host *host) {
      std::lock_guard<std::mutex> lock(OwnTimers::mutex);
      OwnTimers::events.push_back(std::string(modkit_loader_host_module_name(host)) + " stopping");
      std::lock_guard<std::mutex> lock2(log_mutex);
      CHECK(std::none_of(log.begin(), log.end(), [](const std::string &l) { return l.find(":deinit") != std::string::npos; }));
   };
   {
      modkit::Loader loader(o);
      loader.load("{\"module_path\": [\"" + test::fixture_dir() +
                  "\"], \"modules\": [{\"module\": \"services_a\", \"config\": {\"timer\": {\"delay_ms\": 7, "
                  "\"period_ms\": 9}}}]}");
   }
   CHECK(OwnTimers::events == std::vector<std::string>{"services_a start 7/9", "services_a stopping"});
   // The other services are still the loader's: tasks ran (the probe's timer=ok came from the host).
   CHECK(std::find(log.begin(), log.end(), "services_a:timer=ok") != log.end());
}

TEST_CASE("each module instance has its own number, a reload a new one") {
   // What a host keys its per-instance state by: a reloaded module's handle may reuse an address.
   static std::vector<uint64_t> started, stopped;
   started.clear();
   stopped.clear();
   struct Recording {
      static modkit_status MODKIT_ABI start(modkit_host *host, uint32_t, uint32_t, modkit_timer_fn, void *, uint64_t *id) {
         started.push_back(modkit_loader_host_instance_id(host));
         if (id) *id = 1;
         return MODKIT_OK;
      }
   };
   static constexpr modkit_timers_api table = {sizeof(modkit_timers_api), Recording::start, OwnTimers::cancel,
                                               OwnTimers::background};
   modkit::Loader::Options o = Host::options(nullptr, {});
   o.log = [](modkit_log_level, const char *, std::string_view) {};
   o.get_extension = [](const char *id) -> const void * { return std::string(id) == MODKIT_TIMERS_ID ? &table : nullptr; };
   o.module_stopping = [](modkit_host *host) { stopped.push_back(modkit_loader_host_instance_id(host)); };
   {
      modkit::Loader loader(o);
      loader.load("{\"module_path\": [\"" + test::fixture_dir() +
                  "\"], \"modules\": [{\"module\": \"services_a\", \"config\": {\"timer\": {\"delay_ms\": 7}}}]}");
      loader.reload_module("services_a");
   }
   REQUIRE(started.size() == 2);
   CHECK(started[0] != 0);
   CHECK(started[1] != 0);
   CHECK(started[0] != started[1]);
   CHECK(stopped == started);
   CHECK(modkit_loader_host_instance_id(nullptr) == 0);
}
