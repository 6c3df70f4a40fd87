// modkit::cached: hits, LRU eviction order, TTL with an injected clock, invalidation (local and
// through the host's C function with a JSON key), single flight across threads, failures that
// are not cached, and the hashed index (lookups by the arguments as given, colliding hashes,
// keys without std::hash, growth).
#include "fake_host.hpp"

#include <modkit/sdk.hpp>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct ManualClock {
   std::chrono::steady_clock::time_point now{};
   std::function<std::chrono::steady_clock::time_point()> fn() {
      return [this] { return now; };
   }
};

// A function that counts its computations per key.
struct Counted {
   std::map<std::string, int> calls;
   std::mutex mutex;
   int operator()(std::string_view key) {
      std::lock_guard<std::mutex> lock(mutex);
      return ++calls[std::string(key)] * 100 + static_cast<int>(key.size());
   }
   int count(const std::string &key) {
      std::lock_guard<std::mutex> lock(mutex);
      return calls[key];
   }
};

modkit::CacheOptions entries(std::size_t n) {
   modkit::CacheOptions options;
   options.max_entries = n;
   return options;
}

} // namespace

TEST_CASE("a cached function computes once per key") {
   Counted f;
   modkit::cached<int(std::string_view)> cache(entries(10), std::ref(f));
   CHECK(cache("a") == 101);
   CHECK(cache("a") == 101);
   CHECK(cache("bb") == 102);
   CHECK(f.count("a") == 1);
   CHECK(f.count("bb") == 1);
   CHECK(cache.size() == 2);
   CHECK(cache.name().empty());
}

TEST_CASE("keys combine every argument") {
   int calls = 0;
   modkit::cached<std::string(std::string_view, int)> cache(entries(10), [&](std::string_view s, int n) {
      ++calls;
      return std::string(s) + std::to_string(n);
   });
   CHECK(cache("x", 1) == "x1");
   CHECK(cache("x", 2) == "x2");
   CHECK(cache("x", 1) == "x1");
   CHECK(calls == 2);
}

TEST_CASE("the least recently used entry is evicted first") {
   Counted f;
   modkit::cached<int(std::string_view)> cache(entries(2), std::ref(f));
   cache("a");
   cache("b");
   cache("a"); // a is now more recent than b
   cache("c"); // evicts b
   CHECK(cache.size() == 2);
   cache("a");
   CHECK(f.count("a") == 1);
   cache("b");
   CHECK(f.count("b") == 2); // b was evicted, so it was computed again ...
   cache("a");
   CHECK(f.count("a") == 1);
   cache("c");
   CHECK(f.count("c") == 2); // ... which evicted c, the least recently used then
}

TEST_CASE("entries older than the TTL are recomputed") {
   ManualClock clock;
   Counted f;
   modkit::CacheOptions options;
   options.ttl = std::chrono::seconds(10);
   options.clock = clock.fn();
   modkit::cached<int(std::string_view)> cache(options, std::ref(f));

   cache("k");
   clock.now += 9s;
   cache("k");
   CHECK(f.count("k") == 1);
   clock.now += 1s;
   cache("k"); // exactly ttl old: expired
   CHECK(f.count("k") == 2);
   clock.now += 9s;
   cache("k");
   CHECK(f.count("k") == 2);

   SUBCASE("without a TTL entries never expire") {
      Counted g;
      modkit::CacheOptions forever;
      forever.clock = clock.fn();
      modkit::cached<int(std::string_view)> keep(forever, std::ref(g));
      keep("k");
      clock.now += std::chrono::hours(24 * 365);
      keep("k");
      CHECK(g.count("k") == 1);
   }
}

TEST_CASE("invalidate drops one key, invalidate_all every key") {
   Counted f;
   modkit::cached<int(std::string_view)> cache(entries(10), std::ref(f));
   cache("a");
   cache("b");
   cache.invalidate("a");
   CHECK(cache.size() == 1);
   cache("a");
   cache("b");
   CHECK(f.count("a") == 2);
   CHECK(f.count("b") == 1);
   cache.invalidate("never cached"); // not an error
   cache.invalidate_all();
   CHECK(cache.size() == 0);
   cache("b");
   CHECK(f.count("b") == 2);
}

TEST_CASE("a computation that throws is not cached") {
   int calls = 0;
   modkit::cached<int(int)> cache(entries(10), [&](int n) {
      if (++calls == 1) throw std::runtime_error("flaky");
      return n * 2;
   });
   CHECK_THROWS_WITH_AS(cache(4), "flaky", std::runtime_error);
   CHECK(cache.size() == 0);
   CHECK(cache(4) == 8);
   CHECK(cache(4) == 8);
   CHECK(calls == 2);
}

TEST_CASE("invalid options are refused") {
   CHECK_THROWS_AS(modkit::cached<int(int)>(entries(0), [](int n) { return n; }), modkit::Error);
   CHECK_THROWS_AS(modkit::cached<int(int)>(entries(1), nullptr), modkit::Error);
}

namespace {
// Lets a test hold a computation open until it says so.
struct Gate {
   std::mutex mutex;
   std::condition_variable cv;
   bool open = false;
   int entered = 0;

   void wait_inside() {
      std::unique_lock<std::mutex> lock(mutex);
      ++entered;
      cv.notify_all();
      cv.wait(lock, [&] { return open; });
   }
   void wait_for_entries(int n) {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return entered >= n; });
   }
   void release() {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
      cv.notify_all();
   }
};
} // namespace

TEST_CASE("concurrent callers of one key share one computation") {
   Gate gate;
   std::atomic<int> calls{0};
   modkit::cached<int(int)> cache(entries(10), [&](int n) {
      ++calls;
      gate.wait_inside();
      return n + 1;
   });

   std::vector<std::thread> threads;
   std::vector<int> results(8, 0);
   threads.emplace_back([&] { results[0] = cache(41); });
   gate.wait_for_entries(1); // the leader is computing
   for (int i = 1; i < 8; ++i) threads.emplace_back([&, i] { results[i] = cache(41); });
   std::this_thread::sleep_for(50ms); // give the followers time to join the flight
   gate.release();
   for (auto &t : threads) t.join();

   CHECK(calls == 1);
   for (int r : results) CHECK(r == 42);

   SUBCASE("a failure reaches every caller that shared it, and is not cached") {
      Gate failing;
      std::atomic<int> attempts{0};
      modkit::cached<int(int)> flaky(entries(10), [&](int) -> int {
         if (++attempts == 1) {
            failing.wait_inside();
            throw modkit::Error(MODKIT_E_TIMEOUT, "backend timed out");
         }
         return 7;
      });
      std::atomic<int> failures{0};
      std::vector<std::thread> callers;
      callers.emplace_back([&] {
         try { flaky(1); } catch (const modkit::Error &e) { failures += e.code() == MODKIT_E_TIMEOUT; }
      });
      failing.wait_for_entries(1);
      callers.emplace_back([&] {
         try { flaky(1); } catch (const modkit::Error &e) { failures += e.code() == MODKIT_E_TIMEOUT; }
      });
      std::this_thread::sleep_for(50ms);
      failing.release();
      for (auto &t : callers) t.join();
      CHECK(failures == 2);
      CHECK(attempts == 1);
      CHECK(flaky(1) == 7);
      CHECK(attempts == 2);
   }
}

TEST_CASE("a computation running while its key is invalidated is not cached") {
   Gate gate;
   std::atomic<int> calls{0};
   modkit::cached<int(int)> cache(entries(10), [&](int n) {
      const int call = ++calls;
      if (call == 1) gate.wait_inside();
      return n * 10 + call;
   });
   int first = 0;
   std::thread leader([&] { first = cache(3); });
   gate.wait_for_entries(1);

   SUBCASE("by key") { cache.invalidate(3); }
   SUBCASE("all") { cache.invalidate_all(); }

   CHECK(cache(3) == 32); // a caller after the invalidation computes afresh
   gate.release();
   leader.join();
   CHECK(first == 31);
   CHECK(cache(3) == 32); // the fresh value was cached, not the stale one
   CHECK(calls == 2);
}

TEST_CASE("a registered cache is invalidated by the host with a JSON array key") {
   FakeHost host;
   modkit::Api api(modkit::detail::HostContext{host.api(), host.host(), "module", ""});
   host.begin_init();
   Counted f;
   modkit::cached<int(std::string_view)> cache(api, "verdicts", entries(10), std::ref(f));
   host.end_init(true);

   REQUIRE(host.caches.size() == 1);
   CHECK(host.caches[0].name == "verdicts");
   CHECK(cache.name() == "verdicts");
   const CacheRegistration &reg = host.caches[0];
   cache("a");
   cache("b");

   SUBCASE("one key") {
      const modkit_str key = MODKIT_STR_LIT("[\"a\"]");
      CHECK(reg.invalidate(reg.user_data, &key) == MODKIT_OK);
      cache("a");
      cache("b");
      CHECK(f.count("a") == 2);
      CHECK(f.count("b") == 1);
   }
   SUBCASE("every key, with a NULL key") {
      CHECK(reg.invalidate(reg.user_data, nullptr) == MODKIT_OK);
      CHECK(cache.size() == 0);
   }
   SUBCASE("an unknown key is not an error") {
      const modkit_str key = MODKIT_STR_LIT("[\"zzz\"]");
      CHECK(reg.invalidate(reg.user_data, &key) == MODKIT_OK);
      CHECK(cache.size() == 2);
   }
   SUBCASE("a key that does not fit is refused and logged") {
      for (const char *text : {"\"a\"", "[\"a\", 1]", "[1]", "[oops"}) {
         CAPTURE(text);
         const modkit_str key = modkit_str_from_cstr(text);
         CHECK(reg.invalidate(reg.user_data, &key) == MODKIT_E_INVALID_ARGUMENT);
      }
      CHECK(cache.size() == 2);
      CHECK(host.logged(MODKIT_LOG_ERROR, "invalidating cache verdicts failed (invalid_argument): "
                                          "a cache key is a JSON array of 1 argument(s)"));
      CHECK(host.logged(MODKIT_LOG_ERROR, "a cache key does not fit"));
   }
   SUBCASE("through Api::invalidate_cache, which goes through the host") {
      api.invalidate_cache("", "verdicts", nlohmann::json::array({"b"}));
      cache("b");
      CHECK(f.count("b") == 2);
      api.invalidate_cache_all("module", "verdicts");
      CHECK(cache.size() == 0);
      CHECK_THROWS_WITH_AS(api.invalidate_cache("other", "verdicts", nlohmann::json::array({"b"})),
                           "could not invalidate cache other.verdicts: not_found", modkit::Error);
      CHECK_THROWS_AS(api.invalidate_cache("", "verdicts", "b"), modkit::Error);
   }
}

TEST_CASE("a cache registered after init or twice is refused") {
   FakeHost host;
   modkit::Api api(modkit::detail::HostContext{host.api(), host.host(), "module", ""});
   Counted f;
   CHECK_THROWS_WITH_AS(modkit::cached<int(std::string_view)>(api, "late", entries(10), std::ref(f)),
                        "module: could not register cached function late: state; register only from the "
                        "module's constructor",
                        modkit::Error);
   host.begin_init();
   modkit::cached<int(std::string_view)> first(api, "twice", entries(10), std::ref(f));
   CHECK_THROWS_WITH_AS(modkit::cached<int(std::string_view)>(api, "twice", entries(10), std::ref(f)),
                        "module: could not register cached function twice: conflict", modkit::Error);
}

TEST_CASE("a cache can memoise a member function") {
   struct Squares {
      int calls = 0;
      long square(int n) {
         ++calls;
         return static_cast<long>(n) * n;
      }
   } squares;
   FakeHost host;
   modkit::Api api(modkit::detail::HostContext{host.api(), host.host(), "module", ""});
   host.begin_init();
   modkit::cached<long(int)> cache(api, "squares", entries(4), &squares, &Squares::square);
   CHECK(cache(12) == 144);
   CHECK(cache(12) == 144);
   CHECK(squares.calls == 1);
}

// ---- the hashed index: lookups by the arguments as given, any hashable key ----

namespace {
// A key part whose hash is the same for every value: every entry lands in one bucket, so
// lookups must tell keys apart by comparing them.
struct Colliding {
   int value;
   bool operator==(const Colliding &other) const { return value == other.value; }
};
} // namespace

template <>
struct std::hash<Colliding> {
   std::size_t operator()(const Colliding &) const noexcept { return 42; }
};

TEST_CASE("a hit is found by the arguments as passed: string_view, const char * and std::string") {
   Counted f;
   modkit::cached<int(std::string_view)> cache(entries(10), std::ref(f));
   const std::string owned = "a key longer than the short-string buffer";
   CHECK(cache(owned) == 100 + static_cast<int>(owned.size()));
   CHECK(cache(owned.c_str()) == 100 + static_cast<int>(owned.size()));
   CHECK(cache(std::string_view(owned)) == 100 + static_cast<int>(owned.size()));
   CHECK(f.count(owned) == 1);
   cache.invalidate(owned.c_str()); // the key parts may be given as any type that builds them
   cache(owned);
   CHECK(f.count(owned) == 2);
}

TEST_CASE("keys that share a hash are told apart") {
   int calls = 0;
   modkit::cached<int(Colliding)> cache(entries(100), [&](Colliding c) {
      ++calls;
      return c.value * 2;
   });
   for (int i = 0; i < 50; ++i) CHECK(cache(Colliding{i}) == i * 2);
   for (int i = 0; i < 50; ++i) CHECK(cache(Colliding{i}) == i * 2);
   CHECK(calls == 50);
   cache.invalidate(Colliding{7});
   CHECK(cache.size() == 49);
   cache(Colliding{7});
   CHECK(calls == 51);
}

TEST_CASE("keys without std::hash: fixed-size byte arrays and containers") {
   SUBCASE("std::array<char, N> hashes by its bytes") {
      using Key = std::array<char, 20>;
      int calls = 0;
      modkit::cached<int(Key)> cache(entries(10), [&](Key k) {
         ++calls;
         return static_cast<int>(k[0]);
      });
      Key a{}, b{};
      a[0] = 'a';
      b[0] = 'b';
      CHECK(cache(a) == 'a');
      CHECK(cache(b) == 'b');
      CHECK(cache(a) == 'a');
      CHECK(calls == 2);
   }
   SUBCASE("a vector of strings hashes element by element") {
      int calls = 0;
      modkit::cached<std::size_t(std::vector<std::string>)> cache(entries(10), [&](std::vector<std::string> v) {
         ++calls;
         return v.size();
      });
      CHECK(cache({"a", "b"}) == 2);
      CHECK(cache({"a", "b"}) == 2);
      CHECK(cache({"b", "a"}) == 2); // another key: order matters
      CHECK(calls == 2);
   }
}

TEST_CASE("eviction stays least-recently-used while the table grows") {
   Counted f;
   modkit::cached<int(std::string_view)> cache(entries(100), std::ref(f));
   auto key = [](int i) { return "key-" + std::to_string(i); };
   for (int i = 0; i < 100; ++i) cache(key(i));
   for (int i = 0; i < 100; i += 2) cache(key(i)); // the even keys become the most recent
   for (int i = 100; i < 150; ++i) cache(key(i));  // 50 new keys evict the 50 odd ones
   CHECK(cache.size() == 100);
   for (int i = 0; i < 100; i += 2) {
      cache(key(i));
      CHECK(f.count(key(i)) == 1);
   }
   cache(key(1));
   CHECK(f.count(key(1)) == 2);
}

TEST_CASE("an expired entry is dropped on the hit that finds it, and computed again") {
   ManualClock clock;
   Counted f;
   modkit::CacheOptions options;
   options.max_entries = 10;
   options.ttl = std::chrono::seconds(1);
   options.clock = clock.fn();
   modkit::cached<int(std::string_view)> cache(options, std::ref(f));
   cache("a");
   cache("b");
   clock.now += 2s;
   cache("a");
   CHECK(f.count("a") == 2);
   CHECK(cache.size() == 2); // b expired too, but is dropped only when looked up
   cache("b");
   CHECK(f.count("b") == 2);
}

TEST_CASE("hits, misses and invalidations from many threads agree with the function") {
   std::atomic<int> calls{0};
   modkit::cached<int(int)> cache(entries(16), [&](int n) {
      ++calls;
      return n * 3;
   });
   std::atomic<bool> wrong{false};
   std::vector<std::thread> threads;
   for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
         for (int i = 0; i < 2000; ++i) {
            const int key = (i * 7 + t) % 24; // more keys than entries: evictions too
            if (cache(key) != key * 3) wrong = true;
            if (i % 97 == 0) cache.invalidate(key);
            if (t == 0 && i % 499 == 0) cache.invalidate_all();
         }
      });
   }
   for (auto &t : threads) t.join();
   CHECK_FALSE(wrong);
   CHECK(cache.size() <= 16);
   CHECK(calls >= 24);
}
