// timers_tasks_tests.cpp - modkit.timers/1 and modkit.tasks/1 as a module sees them: firing,
// never overlapping, suspending, cancelling, the concurrency limit and the queue's bound.
#include "probe_host.hpp"

using test::ask;
using test::eventually;
using test::Host;
using test::load_with_services;

TEST_CASE("a one-shot timer fires once; a repeating one keeps firing until cancelled") {
   Host host;
   load_with_services(host, R"([{"module": "services_a", "config": {"timer": {"delay_ms": 1}}},
                                {"module": "services_b", "config": {"timer": {"delay_ms": 1, "period_ms": 2}}}])");
   CHECK(eventually([&] { return ask(host, "services_a", 1) == 1 && ask(host, "services_b", 1) >= 5; }));
   std::this_thread::sleep_for(std::chrono::milliseconds(20));
   CHECK(ask(host, "services_a", 1) == 1); // one-shot: never again
   CHECK(ask(host, "services_a", 3) == MODKIT_E_NOT_FOUND); // it fired its last time

   CHECK(ask(host, "services_b", 3) == MODKIT_OK);
   const int32_t at_cancel = ask(host, "services_b", 1);
   std::this_thread::sleep_for(std::chrono::milliseconds(30));
   CHECK(ask(host, "services_b", 1) <= at_cancel + 1); // a run under way may still finish
   CHECK(ask(host, "services_b", 3) == MODKIT_E_NOT_FOUND);
}

TEST_CASE("a repeating timer never overlaps itself, also when its runs suspend") {
   Host host;
   // Runs take 8 ms against a 1 ms period: overlapping would show up as two at once.
   load_with_services(host, R"([{"module": "services_a", "config": {"timer": {"period_ms": 1, "work_ms": 8}}},
                                {"module": "services_b", "config": {"timer": {"period_ms": 1, "suspend_ms": 8}}}])",
                      R"({"event_threads": 4})");
   CHECK(eventually([&] { return ask(host, "services_a", 1) >= 4 && ask(host, "services_b", 1) >= 4; }));
   CHECK(ask(host, "services_a", 2) == 1);
   CHECK(ask(host, "services_b", 2) == 1);
}

TEST_CASE("a failing timer is logged with the module's name and keeps running") {
   Host host;
   load_with_services(host, R"([{"module": "services_a", "config": {"timer": {"period_ms": 1, "status": 4}}}])");
   CHECK(eventually([&] { return ask(host, "services_a", 1) >= 3; }));
   CHECK(host.logged("timer 1 failed: internal"));
}

TEST_CASE("is_background_instance follows the host config") {
   Host on, off;
   load_with_services(on, R"([{"module": "services_a"}])");
   load_with_services(off, R"([{"module": "services_a"}])", R"({"background_instance": false})");
   CHECK(ask(on, "services_a", 7) == 1);
   CHECK(ask(off, "services_a", 7) == 0);
}

TEST_CASE("background tasks run off the caller, at most the module's concurrency at once") {
   Host host;
   load_with_services(host, R"([{"module": "services_a", "services": {"tasks": {"concurrency": 2}},
                                 "config": {"tasks": {"count": 8, "work_ms": 10}}},
                                {"module": "services_b", "config": {"tasks": {"count": 3, "suspend": true}}}])",
                      R"({"task_threads": 6})");
   CHECK(eventually([&] { return ask(host, "services_a", 4) == 8 && ask(host, "services_b", 4) == 3; }));
   CHECK(ask(host, "services_a", 5) == 2); // six threads, but this module may use two
   CHECK(ask(host, "services_a", 6) == 0);
}

TEST_CASE("a failed task is logged with the module's and the task's names") {
   Host host;
   load_with_services(host, R"([{"module": "services_a", "config": {"tasks": {"count": 1, "status": 10}}}])");
   CHECK(eventually([&] { return ask(host, "services_a", 4) == 1; }));
   CHECK(host.logged("background task 'probe work' failed: timeout"));
}

TEST_CASE("tasks beyond the module's queue are refused at once") {
   Host host;
   // One runs, two wait, the fourth and fifth are refused: run() returns MODKIT_E_DENIED.
   load_with_services(host, R"([{"module": "services_a", "services": {"tasks": {"concurrency": 1, "queue": 2}},
                                 "config": {"tasks": {"count": 5, "work_ms": 50}}}])");
   CHECK(host.logged("background task 'probe work' refused: 2 tasks already wait for a turn"));
   CHECK(eventually([&] { return ask(host, "services_a", 4) == 3; }));
   // Room again once they ran: three more are accepted, and again the last two refused.
   CHECK(ask(host, "services_a", 8) == MODKIT_E_DENIED);
   CHECK(eventually([&] { return ask(host, "services_a", 4) == 6; }));
}

TEST_CASE("bad service settings are refused with the field and what was expected") {
   Host host;
   const auto errors = test::load_errors([&] {
      load_with_services(host, R"([{"module": "services_a", "services": {"tasks": {"concurrency": 0}},
                                    "permissions": {"http": ["ftp://x/"], "smtp": true}}])",
                         R"({"event_threads": "two", "storage": {"path": 3}, "colour": 1})");
   });
   std::vector<std::string> texts;
   for (const auto &e : errors) texts.push_back(e.pointer + ": " + e.message);
   const auto has = [&](const std::string &t) {
      return std::any_of(texts.begin(), texts.end(), [&](const std::string &x) { return x.find(t) != std::string::npos; });
   };
   CHECK(has("/services/event_threads: expected an integer from 1 to 64, got string \"two\""));
   CHECK(has("/services/storage/path: expected a file path or \":memory:\", got integer 3"));
   CHECK(has("/services/colour: unknown key"));
   CHECK(has("/modules/0/services/tasks/concurrency: expected an integer from 1 to 256, got integer 0"));
   CHECK(has("/modules/0/permissions/http/0: expected an http:// or https:// URL prefix"));
   CHECK(has("/modules/0/permissions/smtp: unknown key; expected \"http\""));
}
