// concurrency_tests.cpp - dispatch from several threads while another reloads and unloads.
#include "support.hpp"

#include <atomic>
#include <thread>

using test::Host;

namespace {

struct Tally {
   std::atomic<uint64_t> dispatches{0};
   std::atomic<uint64_t> wrong{0}; // decided by anyone but probe_b, or an error
};

// Dispatches decide in read sections until stop; every answer must come from probe_b (2).
void dispatch_until(const modkit::Loader &loader, modkit::SlotRef ref, const std::atomic<bool> &stop, Tally &tally) {
   modkit_loader_reader *reader = loader.reader();
   modkit_call call = modkit_call_make({"", 0});
   while (!stop.load(std::memory_order_relaxed)) {
      modkit::ReadGuard guard(reader);
      auto slot = guard.slot<&test_callbacks::decide>(ref);
      int32_t answer = 0;
      const modkit::Outcome out = modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
         return slot.fn(e)(e.user_data, &call, 1, r);
      });
      const bool right = out.kind == modkit::Outcome::Kind::decided && answer == 2 && out.module_index == 1;
      tally.dispatches.fetch_add(1, std::memory_order_relaxed);
      if (!right) tally.wrong.fetch_add(1, std::memory_order_relaxed);
   }
}

} // namespace

TEST_CASE("reload under load: every dispatch sees exactly one instance, never a retired one") {
   Host host;
   // keep_after_deinit: a call reaching a retired instance answers an error instead of crashing.
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "quiet": true, "answers": {"decide": 0}}},
                 {"module": "probe_b", "config": {"tag": "b", "quiet": true, "keep_after_deinit": true, "answers": {"decide": 2}}},
                 {"module": "probe_c", "config": {"tag": "c", "quiet": true, "answers": {"decide": 1}}}])");
   const modkit::SlotRef ref = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   std::atomic<bool> stop{false};
   Tally tally;
   std::vector<std::thread> threads;
   const unsigned n = std::max(2u, std::thread::hardware_concurrency());
   for (unsigned i = 0; i < n; ++i) threads.emplace_back(dispatch_until, std::cref(host.loader), ref, std::cref(stop), std::ref(tally));
   constexpr int reloads = 200;
   for (int i = 0; i < reloads; ++i) host.loader.reload_module("probe_b");
   stop = true;
   for (auto &t : threads) t.join();
   MESSAGE(tally.dispatches.load() << " dispatches on " << n << " threads during " << reloads << " reloads");
   CHECK(tally.dispatches.load() > 0);
   CHECK(tally.wrong.load() == 0);
   CHECK(host.loader.module_count() == 3);
}

TEST_CASE("unload waits for dispatches in progress and later ones skip the module") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "quiet": true, "keep_after_deinit": true, "answers": {"decide": 3}}},
                 {"module": "probe_b", "config": {"tag": "b", "quiet": true, "answers": {"decide": 2}}}])");
   const modkit::SlotRef ref = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   modkit_call call = modkit_call_make({"", 0});
   std::atomic<int> phase{0};
   int32_t first_answer = 0;
   std::thread reader([&] {
      modkit::ReadGuard guard(host.loader.reader());
      phase = 1; // inside the section, before the unload starts
      while (phase.load() < 2) std::this_thread::yield();
      // The unload has begun but must wait for this section: probe_a is still callable.
      auto slot = guard.slot<&test_callbacks::decide>(ref);
      modkit::first_non_zero(slot.raw(), first_answer, [&](const modkit_loader_entry &e, int32_t *r) {
         return slot.fn(e)(e.user_data, &call, 0, r);
      });
   });
   while (phase.load() < 1) std::this_thread::yield();
   std::atomic<bool> unloaded{false};
   std::thread unloader([&] {
      host.loader.unload_module("probe_a");
      unloaded = true;
   });
   std::this_thread::sleep_for(std::chrono::milliseconds(50));
   CHECK_FALSE(unloaded.load()); // still waiting for the reader's section to end
   phase = 2;
   reader.join();
   unloader.join();
   CHECK(unloaded.load());
   CHECK(first_answer == 3); // probe_a answered: it had not been deinitialised under the reader
   // New dispatches no longer see probe_a.
   modkit::ReadGuard guard(host.loader.reader());
   auto slot = guard.slot<&test_callbacks::decide>(ref);
   int32_t answer = 0;
   auto out = modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
      return slot.fn(e)(e.user_data, &call, 0, r);
   });
   CHECK(answer == 2);
   CHECK(std::string(host.loader.module(out.module_index).name) == "probe_b");
}

TEST_CASE("unload and reload refuse to run inside the calling thread's own read section") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a"}}])");
   modkit::ReadGuard guard(host.loader.reader());
   CHECK(modkit_loader_reload_module(host.loader.get(), "probe_a") == MODKIT_E_STATE);
   CHECK(modkit_loader_unload_module(host.loader.get(), "probe_a") == MODKIT_E_STATE);
   CHECK(host.loader.module_count() == 1);
}
