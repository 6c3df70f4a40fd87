// modkit::cached over coroutine functions (C++20): concurrent callers of one key share one
// computation, failures are not cached, and an invalidation during a computation keeps its
// value out of the cache, whether it comes from the module or from the host.
#include "fake_host.hpp"

#include <modkit/sdk.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

// A coroutine's result, filled when it ends (on whatever thread).
template <class T>
struct Spawned {
   std::mutex mutex;
   std::optional<T> value;
   std::string error;
   bool done = false;

   bool finished() {
      std::lock_guard<std::mutex> lock(mutex);
      return done;
   }
   std::optional<T> get() {
      std::lock_guard<std::mutex> lock(mutex);
      return value;
   }
   std::string failure() {
      std::lock_guard<std::mutex> lock(mutex);
      return error;
   }
};

template <class T>
std::shared_ptr<Spawned<T>> spawn(modkit::task<T> t) {
   auto out = std::make_shared<Spawned<T>>();
   modkit::detail::start_detached(std::move(t), [out](modkit::detail::Outcome<T> &&o) noexcept {
      std::lock_guard<std::mutex> lock(out->mutex);
      try {
         out->value = o.take();
      } catch (const std::exception &e) {
         out->error = e.what();
      }
      out->done = true;
   });
   return out;
}

// A slow lookup: each computation waits for the test to release it, and is counted.
struct SlowLookup {
   std::mutex mutex;
   std::vector<modkit::Completion<int>> gates; // one per computation started, in order
   std::atomic<int> computations{0};

   modkit::task<int> operator()(std::string_view key) {
      modkit::Completion<int> gate;
      {
         std::lock_guard<std::mutex> lock(mutex);
         gates.push_back(gate);
      }
      ++computations;
      const std::string owned(key); // key views the cache's copy, valid across the await
      const int base = co_await gate;
      co_return base + static_cast<int>(owned.size());
   }
   modkit::Completion<int> gate(std::size_t i) {
      std::lock_guard<std::mutex> lock(mutex);
      REQUIRE(i < gates.size());
      return gates[i];
   }
};

modkit::CacheOptions entries(std::size_t n) {
   modkit::CacheOptions options;
   options.max_entries = n;
   return options;
}

} // namespace

TEST_CASE("a cached coroutine shares one computation among concurrent callers of a key") {
   SlowLookup lookup;
   modkit::cached<modkit::task<int>(std::string_view)> cache(entries(10), std::ref(lookup));

   std::vector<std::shared_ptr<Spawned<int>>> callers;
   for (int i = 0; i < 3; ++i) {
      std::string key = "abc"; // gone before the computation ends: the cache keeps its own copy
      callers.push_back(spawn(cache(key)));
   }
   auto other = spawn(cache("other"));
   CHECK(lookup.computations == 2);
   for (auto &c : callers) CHECK_FALSE(c->finished());

   std::thread([&] { lookup.gate(0).set_value(100); }).join();
   for (auto &c : callers) CHECK(c->get() == 103);
   CHECK_FALSE(other->finished());
   CHECK(cache.size() == 1);

   // A hit completes at once, without computing.
   auto hit = spawn(cache("abc"));
   CHECK(hit->get() == 103);
   CHECK(lookup.computations == 2);

   lookup.gate(1).set_value(1000);
   CHECK(other->get() == 1005);
   CHECK(cache.size() == 2);
}

TEST_CASE("a cached coroutine that fails is not cached, and its joiners see the failure") {
   std::atomic<int> computations{0};
   modkit::Completion<int> first_gate, second_gate;
   modkit::cached<modkit::task<int>(int)> cache(
      entries(10), [&](int n) -> modkit::task<int> {
         const int attempt = ++computations;
         if (attempt == 1) {
            co_await first_gate;
            throw modkit::Error(MODKIT_E_TIMEOUT, "the lookup timed out");
         }
         co_return n + co_await second_gate;
      });

   auto a = spawn(cache(7));
   auto b = spawn(cache(7));
   CHECK(computations == 1);
   std::thread([&] { first_gate.set_value(0); }).join();
   CHECK(a->failure() == "the lookup timed out");
   CHECK(b->failure() == "the lookup timed out");
   CHECK(cache.size() == 0);

   auto c = spawn(cache(7));
   CHECK(computations == 2); // computed again
   second_gate.set_value(35);
   CHECK(c->get() == 42);
   CHECK(spawn(cache(7))->get() == 42);
   CHECK(computations == 2);
}

TEST_CASE("an invalidation during a cached coroutine's computation keeps its value out") {
   FakeHost host;
   modkit::Api api(modkit::detail::HostContext{host.api(), host.host(), "module", ""});
   host.begin_init();
   SlowLookup lookup;
   modkit::cached<modkit::task<int>(std::string_view)> cache(api, "slow", entries(10), std::ref(lookup));
   host.end_init(true);
   REQUIRE(host.caches.size() == 1);

   auto early = spawn(cache("key"));
   REQUIRE(lookup.computations == 1);

   SUBCASE("by the module, for the key") { cache.invalidate("key"); }
   SUBCASE("by the module, for every key") { cache.invalidate_all(); }
   SUBCASE("by the host, with a JSON array key") {
      const std::string key = R"(["key"])";
      const modkit_str key_json{key.data(), key.size()};
      CHECK(host.caches[0].invalidate(host.caches[0].user_data, &key_json) == MODKIT_OK);
   }
   SUBCASE("through Api::invalidate_cache") { api.invalidate_cache("", "slow", nlohmann::json::array({"key"})); }

   // A caller after the invalidation does not join the stale computation.
   auto late = spawn(cache("key"));
   CHECK(lookup.computations == 2);

   std::thread([&] { lookup.gate(0).set_value(100); }).join();
   CHECK(early->get() == 103); // its own caller still gets the value
   CHECK(cache.size() == 0);   // but it is not stored
   CHECK_FALSE(late->finished());

   lookup.gate(1).set_value(200);
   CHECK(late->get() == 203);
   CHECK(cache.size() == 1);
   CHECK(spawn(cache("key"))->get() == 203);
   CHECK(lookup.computations == 2);
}

TEST_CASE("a cached member coroutine, awaited from a coroutine callback") {
   struct Module {
      std::atomic<int> lookups{0};
      modkit::Completion<bool> answer;
      modkit::task<bool> lookup_blocked(std::string_view server) {
         ++lookups;
         const bool blocked = co_await answer;
         co_return blocked && server == "evil.example";
      }
   } module;
   FakeHost host;
   modkit::Api api(modkit::detail::HostContext{host.api(), host.host(), "module", ""});
   host.begin_init();
   modkit::cached<modkit::task<bool>(std::string_view)> is_blocked(api, "is_blocked", entries(100), &module,
                                                                   &Module::lookup_blocked);
   CHECK(is_blocked.name() == "is_blocked");

   auto check = [&](std::string server) -> modkit::task<std::string> {
      const bool blocked = co_await is_blocked(server);
      co_return server + (blocked ? " blocked" : " allowed");
   };
   auto first = spawn(check("evil.example"));
   auto second = spawn(check("evil.example"));
   CHECK(module.lookups == 1);
   std::thread([&] { module.answer.set_value(true); }).join();
   CHECK(first->get() == "evil.example blocked");
   CHECK(second->get() == "evil.example blocked");
   CHECK(spawn(check("good.example"))->get() == "good.example allowed"); // answer is resolved
   CHECK(module.lookups == 2);
}

TEST_CASE("a cached coroutine called from many threads computes each key once") {
   std::atomic<int> computations{0};
   modkit::cached<modkit::task<int>(int)> cache(entries(1000), [&](int n) -> modkit::task<int> {
      ++computations;
      co_return n * 2;
   });
   std::vector<std::thread> threads;
   std::atomic<int> wrong{0};
   for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
         for (int i = 0; i < 200; ++i) {
            if (modkit::detail::run_blocking(cache(i % 50)) != (i % 50) * 2) ++wrong;
         }
      });
   }
   for (auto &t : threads) t.join();
   CHECK(wrong == 0);
   CHECK(computations == 50);
   CHECK(cache.size() == 50);
}
