// Coroutine callbacks (ABI 1.1), compiled as C++20: a callback that finishes at once answers
// synchronously; one that suspends returns MODKIT_PENDING and completes its call from the
// thread that resumes it; a completion that beats the return is answered by the trampoline;
// exceptions become statuses; a host that cannot suspend gets its answer after the coroutine
// ends; a cancelled call still completes; the arguments outlive the C call.
#include "fake_host.hpp"

#include <modkit/sdk.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

static_assert(MODKIT_SDK_HAS_COROUTINES == 1, "this file is compiled as C++20 with coroutines");

using namespace std::chrono_literals;

// ---- a category of the test's own, with a tuple result and a void slot ----

static const char TEST_GAUGES_ID[] = "test.gauges";

extern "C" {
typedef struct test_gauge_callbacks {
   uint32_t struct_size;
   modkit_status (*on_reading)(void *user_data, modkit_call *call, modkit_str name);
   modkit_status (*measure)(void *user_data, modkit_call *call, modkit_str name, int64_t *width, bool *fits);
} test_gauge_callbacks;
}

struct GaugeCallbacks {
   modkit::Callback<void(std::string_view name)> on_reading;
   modkit::Callback<std::tuple<int64_t, bool>(std::string_view name)> measure;
};

template <>
struct modkit::CategoryTraits<GaugeCallbacks> {
   using callbacks = GaugeCallbacks;
   using c_callbacks = test_gauge_callbacks;
   static const char *id() noexcept { return TEST_GAUGES_ID; }
   static constexpr uint16_t major = 1;
   static constexpr uint16_t minor = 0;
   static constexpr auto slots = std::make_tuple(MODKIT_SDK_SLOT(on_reading), MODKIT_SDK_SLOT(measure));
};

namespace {


// The event's strings live in host memory the test overwrites once the callback returned.
struct HostEvent {
   std::string id = "$ev1", room = "!room:example.org", sender = "@mallory:example.org",
               type = "m.room.message", content = R"({"body":"buy now"})";
   modkit_event c{};

   HostEvent() {
      c.struct_size = sizeof c;
      c.event_id = str(id);
      c.room_id = str(room);
      c.sender = str(sender);
      c.type = str(type);
      c.state_key = {nullptr, 0};
      c.content_json = str(content);
      c.unsigned_json = {nullptr, 0};
      c.origin_server_ts = 1234;
   }
   void scribble() {
      for (std::string *s : {&id, &room, &sender, &type, &content}) s->assign(s->size(), '#');
   }
};

// An awaitable that resumes the coroutine on another thread and waits for it there, so the
// coroutine ends before the trampoline that started it has returned.
struct FinishElsewhere {
   bool await_ready() const noexcept { return false; }
   bool await_suspend(std::coroutine_handle<> h) const {
      std::thread([h] { h.resume(); }).join();
      return true; // h may be finished and freed: touch nothing of it
   }
   void await_resume() const noexcept {}
};

struct Harness {
   FakeHost host;
   std::unique_ptr<modkit::Api> api;
   modkit_call call;

   Harness() {
      host.categories.insert(TEST_GAUGES_ID);
      api = std::make_unique<modkit::Api>(
         modkit::detail::HostContext{host.api(), host.host(), "harness", "modkit.spam_checker,test.gauges"});
      host.begin_init();
      call.request_id = "req-7";
   }

   modkit_spam_checker_callbacks spam() {
      const Registration *r = host.find_registration(MODKIT_SPAM_CHECKER_ID);
      REQUIRE(r != nullptr);
      return r->as<modkit_spam_checker_callbacks>();
   }
   test_gauge_callbacks gauges() {
      const Registration *r = host.find_registration(TEST_GAUGES_ID);
      REQUIRE(r != nullptr);
      return r->as<test_gauge_callbacks>();
   }
   void *user_data(const char *category) { return host.find_registration(category)->user_data; }

   // check_event_for_spam through the C slot, on an armed call, as an async host calls it.
   modkit_status check(const modkit_event *event, modkit_spam_result *result) {
      call.arm();
      return call.returned(spam().check_event_for_spam(user_data(MODKIT_SPAM_CHECKER_ID), &call, event, result));
   }
};

} // namespace

TEST_CASE("a coroutine callback that does not suspend answers synchronously") {
   Harness h;
   modkit::Completion<bool> resolved;
   resolved.set_value(true);
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [resolved](const modkit::Event &e) -> modkit::task<modkit::SpamResult> {
      const bool spam = co_await resolved; // resolved already: no suspension
      co_return spam && e.sender() == "@mallory:example.org" ? modkit::SpamResult::forbidden
                                                              : modkit::SpamResult::not_spam;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));

   HostEvent event;
   modkit_spam_result result = MODKIT_NOT_SPAM;
   CHECK(h.check(&event.c, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);
   CHECK(h.call.completions == 0);
   CHECK(h.call.misuses == 0);
   CHECK(h.call.state == modkit_call::idle);
}

TEST_CASE("a coroutine callback that suspends completes its call from the resuming thread") {
   Harness h;
   modkit::Completion<bool> verdict;
   const std::thread::id host_thread = std::this_thread::get_id();
   std::atomic<bool> resumed_elsewhere{false};
   std::string seen_sender, seen_content, seen_request;
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [&](modkit::Call &call,
                                        const modkit::Event &e) -> modkit::task<modkit::SpamResult> {
      const bool spam = co_await verdict;
      // One get_id() per coroutine: clang may reuse a value read before a suspension.
      resumed_elsewhere = std::this_thread::get_id() != host_thread;
      // The event and the call outlive the C call that passed them.
      seen_sender = std::string(e.sender());
      seen_content = std::string(e.content_json());
      seen_request = std::string(call.request_id());
      co_return spam ? modkit::SpamResult::limit_exceeded : modkit::SpamResult::not_spam;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));

   auto event = std::make_unique<HostEvent>();
   modkit_spam_result result = MODKIT_NOT_SPAM;
   REQUIRE(h.check(&event->c, &result) == MODKIT_PENDING);
   CHECK(h.call.state == modkit_call::suspended);
   CHECK(result == MODKIT_NOT_SPAM); // not written before the coroutine ends
   event->scribble();                // the host's argument memory is no longer the callback's
   event.reset();

   std::thread([&] { verdict.set_value(true); }).join();
   CHECK(h.call.wait() == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_LIMIT_EXCEEDED);
   CHECK(resumed_elsewhere);
   CHECK(seen_sender == "@mallory:example.org");
   CHECK(seen_content == R"({"body":"buy now"})");
   CHECK(seen_request == "req-7");
   CHECK(h.call.completions == 1);
   CHECK(h.call.misuses == 0);

   SUBCASE("a second resolution changes nothing") {
      CHECK_FALSE(verdict.set_value(false));
      CHECK(h.call.completions == 1);
      CHECK(h.call.misuses == 0);
   }
}

TEST_CASE("a coroutine with several outputs, and a void one, write them when they complete") {
   Harness h;
   modkit::Completion<int64_t> width;
   modkit::Completion<> logged;
   std::vector<std::string> readings;
   GaugeCallbacks callbacks;
   callbacks.measure = [&](std::string_view name) -> modkit::task<std::tuple<int64_t, bool>> {
      const int64_t w = co_await width;
      co_return std::tuple<int64_t, bool>{w * static_cast<int64_t>(name.size()), name.size() < 4};
   };
   callbacks.on_reading = [&](std::string_view name) -> modkit::task<void> {
      co_await logged;
      readings.emplace_back(name);
   };
   h.api->register_callbacks(std::move(callbacks));
   const test_gauge_callbacks c = h.gauges();
   void *user_data = h.user_data(TEST_GAUGES_ID);

   std::string name = "abc";
   int64_t w = 0;
   bool fits = false;
   h.call.arm();
   REQUIRE(h.call.returned(c.measure(user_data, &h.call, str(name), &w, &fits)) == MODKIT_PENDING);
   name = "zzzzzzzz";
   std::thread([&] { width.set_value(5); }).join();
   CHECK(h.call.wait() == MODKIT_OK);
   CHECK(w == 15);
   CHECK(fits);

   modkit_call second;
   second.arm();
   REQUIRE(second.returned(c.on_reading(user_data, &second, str(name))) == MODKIT_PENDING);
   std::thread([&] { logged.set_value(); }).join();
   CHECK(second.wait() == MODKIT_OK);
   CHECK(readings == std::vector<std::string>{"zzzzzzzz"});
}

TEST_CASE("a coroutine that ends on another thread before the trampoline returns is answered by it") {
   Harness h;
   std::thread::id finished_on;
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [&](const modkit::Event &) -> modkit::task<modkit::SpamResult> {
      co_await FinishElsewhere{};
      finished_on = std::this_thread::get_id();
      co_return modkit::SpamResult::too_large;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));

   HostEvent event;
   modkit_spam_result result = MODKIT_NOT_SPAM;
   CHECK(h.check(&event.c, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_TOO_LARGE);
   CHECK(finished_on != std::this_thread::get_id());
   CHECK(h.call.completions == 0); // answered, not completed
   CHECK(h.call.misuses == 0);
   CHECK(h.call.state == modkit_call::idle);
}

TEST_CASE("completions racing the trampoline's return answer every call exactly once") {
   Harness h;
   std::mutex mutex;
   std::vector<modkit::Completion<int>> queue;
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [&](const modkit::Event &) -> modkit::task<modkit::SpamResult> {
      modkit::Completion<int> answer;
      {
         std::lock_guard<std::mutex> lock(mutex);
         queue.push_back(answer);
      }
      const int n = co_await answer;
      co_return n % 2 ? modkit::SpamResult::forbidden : modkit::SpamResult::too_large;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));
   const auto c = h.spam();
   void *user_data = h.user_data(MODKIT_SPAM_CHECKER_ID);

   std::atomic<bool> stop{false};
   std::atomic<int> resolved{0};
   std::thread resolver([&] {
      while (!stop || resolved < 400) {
         std::vector<modkit::Completion<int>> taken;
         {
            std::lock_guard<std::mutex> lock(mutex);
            taken.swap(queue);
         }
         for (auto &completion : taken) completion.set_value(resolved++);
         if (taken.empty()) std::this_thread::yield();
      }
   });

   HostEvent event;
   int pending = 0, answered = 0;
   for (int i = 0; i < 400; ++i) {
      modkit_call call;
      modkit_spam_result result = MODKIT_NOT_SPAM;
      call.arm();
      const modkit_status status = call.returned(c.check_event_for_spam(user_data, &call, &event.c, &result));
      if (status == MODKIT_PENDING) {
         ++pending;
         REQUIRE(call.wait() == MODKIT_OK);
      } else {
         ++answered;
         REQUIRE(status == MODKIT_OK);
         // Ended before the trampoline decided (nothing completed), or completed before the
         // trampoline returned MODKIT_PENDING (the host's race): never both, never twice.
         REQUIRE(call.completions == call.early_completions);
         REQUIRE(call.completions <= 1);
      }
      CHECK((result == MODKIT_SPAM_FORBIDDEN || result == MODKIT_SPAM_TOO_LARGE));
      REQUIRE(call.misuses == 0);
   }
   stop = true;
   resolver.join();
   CHECK(pending + answered == 400);
   MESSAGE(pending << " calls suspended, " << answered << " answered before returning");
}

TEST_CASE("an exception leaving a coroutine callback becomes the call's status") {
   Harness h;
   modkit::Completion<std::string> outcome;
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [&](const modkit::Event &) -> modkit::task<modkit::SpamResult> {
      const std::string what = co_await outcome;
      if (what == "denied") throw modkit::Error(MODKIT_E_DENIED, "the classifier said no");
      if (what == "std") throw std::runtime_error("the classifier broke");
      co_return modkit::SpamResult::not_spam;
   };
   callbacks.should_drop_federated_event = [](const modkit::Event &) -> modkit::task<bool> {
      throw modkit::Error(MODKIT_E_UNSUPPORTED, "thrown before the first suspension");
      co_return false;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));
   HostEvent event;
   modkit_spam_result result = MODKIT_SPAM_TOO_LARGE;

   SUBCASE("a modkit::Error after suspending") {
      REQUIRE(h.check(&event.c, &result) == MODKIT_PENDING);
      std::thread([&] { outcome.set_value("denied"); }).join();
      CHECK(h.call.wait() == MODKIT_E_DENIED);
      CHECK(h.host.logged(MODKIT_LOG_ERROR, "check_event_for_spam failed (denied): the classifier said no"));
   }
   SUBCASE("a std::exception after suspending") {
      REQUIRE(h.check(&event.c, &result) == MODKIT_PENDING);
      std::thread([&] { outcome.set_value("std"); }).join();
      CHECK(h.call.wait() == MODKIT_E_INTERNAL);
      CHECK(h.host.logged(MODKIT_LOG_ERROR, "check_event_for_spam failed (internal): the classifier broke"));
   }
   SUBCASE("a completion resolved with an error") {
      REQUIRE(h.check(&event.c, &result) == MODKIT_PENDING);
      std::thread([&] { outcome.set_error(MODKIT_E_TIMEOUT, "the classifier took too long"); }).join();
      CHECK(h.call.wait() == MODKIT_E_TIMEOUT);
      CHECK(h.host.logged(MODKIT_LOG_ERROR, "failed (timeout): the classifier took too long"));
   }
   SUBCASE("a throw before the first suspension is answered synchronously") {
      bool drop = true;
      h.call.arm();
      const auto c = h.spam();
      CHECK(h.call.returned(c.should_drop_federated_event(h.user_data(MODKIT_SPAM_CHECKER_ID), &h.call,
                                                          &event.c, &drop)) == MODKIT_E_UNSUPPORTED);
      CHECK(drop); // untouched
      CHECK(h.host.logged(MODKIT_LOG_ERROR, "should_drop_federated_event failed (unsupported)"));
      CHECK(h.call.completions == 0);
   }
   CHECK(result == MODKIT_SPAM_TOO_LARGE); // a failed call writes no output
   CHECK(h.call.misuses == 0);
}

TEST_CASE("a host that cannot suspend gets its answer once the coroutine has run to its end") {
   Harness h;
   modkit::Completion<bool> verdict;
   std::atomic<bool> suspendable{true};
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [&](modkit::Call &call,
                                        const modkit::Event &) -> modkit::task<modkit::SpamResult> {
      suspendable = call.can_suspend();
      const bool spam = co_await verdict;
      co_return spam ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));
   HostEvent event;
   modkit_spam_result result = MODKIT_NOT_SPAM;
   std::thread resolver([&] {
      std::this_thread::sleep_for(50ms);
      verdict.set_value(true);
   });

   SUBCASE("a call that was not armed") {
      // Not armed, as a synchronous dispatch of a 1.1 host makes it.
      CHECK(h.spam().check_event_for_spam(h.user_data(MODKIT_SPAM_CHECKER_ID), &h.call, &event.c, &result) ==
            MODKIT_OK);
   }
   SUBCASE("a 1.0 host, whose table ends before call_can_suspend") {
      modkit_host_api old = *h.host.api();
      old.struct_size = offsetof(modkit_host_api, call_can_suspend);
      old.abi_minor = 0;
      old.call_can_suspend = nullptr;
      old.call_complete = nullptr;
      // The binding reaches the host through its context: point a fresh Api at the old table.
      FakeHost &host = h.host;
      host.registrations.clear();
      modkit::Api api(modkit::detail::HostContext{&old, host.host(), "harness", "modkit.spam_checker"});
      modkit::SpamCheckerCallbacks again;
      again.check_event_for_spam = [&](modkit::Call &call,
                                       const modkit::Event &) -> modkit::task<modkit::SpamResult> {
         suspendable = call.can_suspend();
         const bool spam = co_await verdict;
         co_return spam ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
      };
      api.register_spam_checker_callbacks(std::move(again));
      h.call.arm(); // even an armed handle: the table says the host predates suspension
      CHECK(h.spam().check_event_for_spam(h.user_data(MODKIT_SPAM_CHECKER_ID), &h.call, &event.c, &result) ==
            MODKIT_OK);
      h.call.state = modkit_call::idle;
   }
   resolver.join();
   CHECK(result == MODKIT_SPAM_FORBIDDEN);
   CHECK_FALSE(suspendable);
   CHECK(h.call.completions == 0);
   CHECK(h.call.misuses == 0);
}

TEST_CASE("a cancelled call that suspended is still completed") {
   Harness h;
   modkit::Completion<bool> verdict;
   modkit::SpamCheckerCallbacks callbacks;
   callbacks.check_event_for_spam = [&](modkit::Call &call,
                                        const modkit::Event &) -> modkit::task<modkit::SpamResult> {
      const bool spam = co_await verdict;
      call.throw_if_cancelled();
      co_return spam ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
   };
   h.api->register_spam_checker_callbacks(std::move(callbacks));
   HostEvent event;
   modkit_spam_result result = MODKIT_NOT_SPAM;
   REQUIRE(h.check(&event.c, &result) == MODKIT_PENDING);
   h.call.cancelled = true;
   CHECK_FALSE(h.call.final_status().has_value());
   std::thread([&] { verdict.set_value(true); }).join();
   CHECK(h.call.wait() == MODKIT_E_CANCELLED);
   CHECK(result == MODKIT_NOT_SPAM);
   CHECK(h.call.completions == 1);
   CHECK(h.call.misuses == 0);
}

TEST_CASE("the fake host refuses a completion in the wrong state") {
   FakeHost host;
   const modkit_host_api *api = host.api();
   modkit_call call;
   CHECK_FALSE(api->call_can_suspend(&call));
   CHECK(api->call_complete(&call, MODKIT_OK) == MODKIT_E_INVALID_ARGUMENT); // never armed
   call.arm();
   CHECK(api->call_can_suspend(&call));
   CHECK(api->call_complete(&call, MODKIT_E_DENIED) == MODKIT_OK); // before the return
   CHECK(call.returned(MODKIT_PENDING) == MODKIT_E_DENIED);
   CHECK(call.early_completions == 1);
   CHECK(api->call_complete(&call, MODKIT_OK) == MODKIT_E_STATE); // twice
   call.arm();
   CHECK(call.returned(MODKIT_PENDING) == MODKIT_PENDING);
   CHECK_FALSE(api->call_can_suspend(&call));
   CHECK(api->call_complete(&call, MODKIT_OK) == MODKIT_OK);
   CHECK(api->call_complete(&call, MODKIT_OK) == MODKIT_E_STATE);
   CHECK(call.final_status() == MODKIT_OK);
   CHECK(call.misuses == 3);
}

TEST_CASE("Callback::operator() runs a coroutine callback to its end") {
   modkit::Completion<int> value;
   modkit::Callback<int(int)> twice = [&](int n) -> modkit::task<int> { co_return n * co_await value; };
   CHECK(twice.is_coroutine());
   modkit::Call call(nullptr, nullptr);
   CHECK_FALSE(call.can_suspend());
   std::thread resolver([&] {
      std::this_thread::sleep_for(20ms);
      value.set_value(2);
   });
   CHECK(twice(call, 21) == 42);
   resolver.join();

   modkit::Callback<int(int)> plain = [](int n) { return n + 1; };
   CHECK_FALSE(plain.is_coroutine());
   CHECK(plain(call, 1) == 2);
}

TEST_CASE("tasks await tasks, and a Completion awaited after resolution does not suspend") {
   auto inner = [](modkit::Completion<int> c) -> modkit::task<int> { co_return 1 + co_await c; };
   modkit::Completion<int> c;
   auto outer = [&]() -> modkit::task<int> {
      const int a = co_await inner(c);
      const int b = co_await inner(c); // resolved by now
      co_return a + b;
   };
   std::optional<int> got;
   modkit::detail::start_detached(outer(), [&](modkit::detail::Outcome<int> &&o) noexcept { got = o.take(); });
   CHECK_FALSE(got.has_value());
   CHECK_FALSE(c.ready());
   c.set_value(10);
   CHECK(c.ready());
   CHECK(got == 22);

   SUBCASE("an exception crosses task boundaries") {
      auto failing = []() -> modkit::task<int> {
         throw std::runtime_error("deep");
         co_return 0;
      };
      auto caller = [&]() -> modkit::task<std::string> {
         try {
            co_await failing();
         } catch (const std::runtime_error &e) {
            co_return std::string("caught ") + e.what();
         }
         co_return std::string("not caught");
      };
      CHECK(modkit::detail::run_blocking(caller()) == "caught deep");
   }
}

// Callbacks registered as a password auth provider on a harness's host; the Api lives as long
// as the registration uses it.
struct AuthProvider {
   std::unique_ptr<modkit::Api> api;
   modkit_password_auth_provider_callbacks c{};
   void *user_data = nullptr;
};

AuthProvider register_auth(Harness &h, modkit::PasswordAuthProviderCallbacks callbacks) {
   h.host.categories.insert(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   AuthProvider p;
   p.api = std::make_unique<modkit::Api>(
      modkit::detail::HostContext{h.host.api(), h.host.host(), "harness", "modkit.password_auth_provider"});
   p.api->register_password_auth_provider_callbacks(std::move(callbacks));
   const Registration *r = h.host.find_registration(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   REQUIRE(r != nullptr);
   p.c = r->as<modkit_password_auth_provider_callbacks>();
   p.user_data = r->user_data;
   return p;
}

TEST_CASE("a coroutine slot with a writer fills its buffer output when it completes") {
   Harness h;
   modkit::Completion<bool> directory;
   modkit::PasswordAuthProviderCallbacks callbacks;
   callbacks.check_3pid_auth = [&](std::string_view medium, std::string_view address,
                                   std::string_view password) -> modkit::task<std::optional<std::string>> {
      const bool known = co_await directory; // e.g. an LDAP bind
      if (!known || medium != "email" || password != "hunter2") co_return std::nullopt;
      co_return "@" + std::string(address.substr(0, address.find('@'))) + ":example.org";
   };
   const AuthProvider provider = register_auth(h, std::move(callbacks));
   const auto &c = provider.c;
   void *user_data = provider.user_data;

   std::string medium = "email", address = "ada@example.org", password = "hunter2";
   modkit_auth_result result = MODKIT_AUTH_NO_OPINION;
   modkit_buffer user_id;
   h.call.arm();
   REQUIRE(h.call.returned(c.check_3pid_auth(user_data, &h.call, str(medium), str(address), str(password),
                                             &result, &user_id)) == MODKIT_PENDING);
   address = "mallory@example.org";
   std::thread([&] { directory.set_value(true); }).join();
   CHECK(h.call.wait() == MODKIT_OK);
   CHECK(result == MODKIT_AUTH_AUTHENTICATED);
   CHECK(user_id.data == "@ada:example.org");
}

TEST_CASE("a coroutine auth checker suspends its call, and an undeclared login type is refused") {
   Harness h;
   modkit::Completion<bool> directory;
   modkit::PasswordAuthProviderCallbacks callbacks;
   callbacks.auth_checkers.add(
      {"m.login.password", {"password"}},
      [&](std::string_view username, std::string_view, const nlohmann::json &login) -> modkit::task<std::optional<std::string>> {
         const std::string user(username), password = login.value("password", ""); // before suspending
         const bool bound = co_await directory;                                    // e.g. an LDAP bind
         if (!bound || password != "hunter2") co_return std::nullopt;
         co_return "@" + user + ":example.org";
      });
   const AuthProvider provider = register_auth(h, std::move(callbacks));
   const auto &c = provider.c;
   void *user_data = provider.user_data;

   std::string user = "ada", type = "m.login.password", login = R"({"password": "hunter2"})";
   modkit_auth_result result = MODKIT_AUTH_NO_OPINION;
   modkit_buffer user_id;
   h.call.arm();
   REQUIRE(h.call.returned(c.auth_checkers(user_data, &h.call, str(user), str(type), str(login), &result,
                                           &user_id)) == MODKIT_PENDING);
   user = "mallory"; // the host's strings may be gone once the callback returned
   std::thread([&] { directory.set_value(true); }).join();
   CHECK(h.call.wait() == MODKIT_OK);
   CHECK(result == MODKIT_AUTH_AUTHENTICATED);
   CHECK(user_id.data == "@ada:example.org");

   std::string other = "org.example.token";
   modkit_call call;
   call.arm();
   CHECK(call.returned(c.auth_checkers(user_data, &call, str(user), str(other), str(login), &result, &user_id)) ==
         MODKIT_E_INVALID_ARGUMENT);
}
