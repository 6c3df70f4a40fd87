// race_tests.cpp - the loader's shared state under concurrent dispatch and module changes: each
// case reproduces a race a review found, and fails (under TSan, or by its checks) without the fix.
#include "support.hpp"

#include "loader.hpp" // white box: the epoch's reader slots

#include <atomic>
#include <thread>

using test::Host;

namespace {

// Dispatches decide in read sections until stop, counting answers that are not want. (Slot
// references are taken before any thread starts: looking one up outside a read section while
// another thread unloads is refused.)
void decide_until(const modkit::Loader &loader, modkit::SlotRef ref, const std::atomic<bool> &stop, int32_t want,
                  std::atomic<uint64_t> &calls, std::atomic<uint64_t> &wrong) {
   modkit_loader_reader *reader = loader.reader();
   modkit_call call = modkit_call_make({"", 0});
   while (!stop.load(std::memory_order_relaxed)) {
      modkit::ReadGuard guard(reader);
      auto slot = guard.slot<&test_callbacks::decide>(ref);
      int32_t answer = 0;
      const modkit::Outcome out = modkit::first_non_zero(
         slot.raw(), answer,
         [&](const modkit_loader_entry &e, int32_t *r) { return slot.fn(e)(e.user_data, &call, 0, r); }, 0,
         loader.observer(guard));
      calls.fetch_add(1, std::memory_order_relaxed);
      if (out.kind != modkit::Outcome::Kind::decided || answer != want) wrong.fetch_add(1, std::memory_order_relaxed);
   }
}

size_t reader_slots(const modkit::Loader &loader) { return loader.get()->impl.epoch().reader_slots(); }

} // namespace

TEST_CASE("a module invalidating its own cache reaches its own, while an earlier module is unloaded") {
   // Both probes, inside decide, invalidate their own cache "c" (module NULL: itself); probe_b
   // decides. Unloading probe_a renumbers probe_b from 1 to 0 while dispatches run, and probe_a
   // is still called by dispatches that began before; every module's invalidate refuses a call
   // not meant for it, so a wrong or failed resolution surfaces as an error.
   uint64_t total = 0, wrong_total = 0;
   for (int round = 0; round < 20; ++round) {
      std::atomic<uint64_t> calls{0}, wrong{0};
      Host host;
      host.load(R"([{"module": "probe_a", "config": {"tag": "a", "quiet": true, "cache": "c", "invalidate_self": true}},
                    {"module": "probe_b", "config": {"tag": "b", "quiet": true, "cache": "c", "invalidate_self": true,
                                                     "answers": {"decide": 2}}}])");
      const modkit::SlotRef decide = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
      std::atomic<bool> stop{false};
      std::thread dispatcher(decide_until, std::cref(host.loader), decide, std::cref(stop), 2, std::ref(calls), std::ref(wrong));
      while (calls.load() < 50) std::this_thread::yield();
      host.loader.unload_module("probe_a");
      const uint64_t after = calls.load();
      while (calls.load() < after + 50) std::this_thread::yield();
      stop = true;
      dispatcher.join();
      total += calls.load();
      wrong_total += wrong.load();
   }
   CHECK(total > 0);
   CHECK(wrong_total == 0);
}

TEST_CASE("a failing callback is logged under its own module's name while another is unloaded") {
   // probe_b fails (decide propagates its error); the observer made from the guard names the
   // module from the guard's snapshot, so unloading probe_a meanwhile never blames probe_c.
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "quiet": true}},
                 {"module": "probe_b", "config": {"tag": "b", "quiet": true, "errors": {"decide": 4, "strict": 4}}},
                 {"module": "probe_c", "config": {"tag": "c", "quiet": true, "answers": {"decide": 1}}}])");
   const modkit::SlotRef decide = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   const modkit::SlotRef strict = host.loader.slot_ref<&test_callbacks::strict>(TEST_CATEGORY_ID);
   std::atomic<bool> stop{false};
   std::atomic<uint64_t> calls{0}, wrong{0};
   std::thread dispatcher(decide_until, std::cref(host.loader), decide, std::cref(stop), 1, std::ref(calls), std::ref(wrong));
   // The observer made without a guard reads the current module list; it must not race the
   // unload either (its names may be a snapshot late, so it dispatches another slot).
   std::thread legacy([&] {
      modkit_loader_reader *reader = host.loader.reader();
      modkit_call call = modkit_call_make({"", 0});
      while (!stop.load()) {
         modkit::ReadGuard guard(reader);
         auto slot = guard.slot<&test_callbacks::strict>(strict);
         int32_t answer = 0;
         modkit::first_non_zero(slot.raw(), answer, [&](const modkit_loader_entry &e, int32_t *r) {
            return slot.fn(e)(e.user_data, &call, r);
         }, 0, host.loader.observer());
      }
   });
   while (calls.load() < 100) std::this_thread::yield();
   host.loader.unload_module("probe_a");
   const uint64_t after = calls.load();
   while (calls.load() < after + 100) std::this_thread::yield();
   stop = true;
   dispatcher.join();
   legacy.join();
   // Every dispatch stopped at probe_b's error: "wrong" counts them all, which is expected here.
   CHECK(wrong.load() == calls.load());
   std::lock_guard<std::mutex> lock(host.mutex);
   CHECK(host.failed_modules.size() > 0);
   for (const auto &module : host.failed_modules) CHECK(module == "probe_b");
}

TEST_CASE("threads that exit give their reader back, with their counts") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "quiet": true, "answers": {"decide": 1}}}])");
   const modkit::SlotRef ref = host.loader.slot_ref<&test_callbacks::decide>(TEST_CATEGORY_ID);
   constexpr int threads = 10000;
   for (int i = 0; i < threads; ++i) {
      std::thread([&] {
         modkit::ReadGuard guard(host.loader.reader());
         auto slot = guard.slot<&test_callbacks::decide>(ref);
         modkit_call call = modkit_call_make({"", 0});
         int32_t answer = 0;
         modkit::first_non_zero(slot.raw(), answer, guard.metered([&](const modkit_loader_entry &e, int32_t *r) {
            return slot.fn(e)(e.user_data, &call, 0, r);
         }));
      }).join();
   }
   // One thread at a time read, so one slot serves them all (the main thread has none).
   CHECK(reader_slots(host.loader) <= 2);
   // Their calls are all still counted after they exited.
   modkit_loader_metric m{};
   m.struct_size = sizeof m;
   bool found = false;
   for (size_t i = 0; i < modkit_loader_metric_count(host.loader.get()); ++i) {
      REQUIRE(modkit_loader_metric_at(host.loader.get(), i, &m) == MODKIT_OK);
      if (std::string(m.module) == "probe_a" && std::string(m.slot) == "decide") {
         found = true;
         break;
      }
   }
   REQUIRE(found);
   CHECK(m.calls == static_cast<uint64_t>(threads));
   CHECK(m.errors == 0);
}

TEST_CASE("slot lookups outside a read section are refused while another thread unloads") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "quiet": true}},
                 {"module": "probe_b", "config": {"tag": "b", "quiet": true}}])");
   std::atomic<int> phase{0};
   // A read section held open keeps the unload waiting in its grace period.
   std::thread holder([&] {
      modkit::ReadGuard guard(host.loader.reader());
      phase = 1;
      while (phase.load() < 3) std::this_thread::yield();
   });
   while (phase.load() < 1) std::this_thread::yield();
   std::thread unloader([&] {
      phase = 2;
      host.loader.unload_module("probe_a");
   });
   while (phase.load() < 2) std::this_thread::yield();
   // Give the unload time to reach its grace period (it publishes before it waits).
   std::this_thread::sleep_for(std::chrono::milliseconds(50));
   const modkit_loader_slot *slot = nullptr;
   modkit_status outside = MODKIT_OK, inside = MODKIT_E_STATE;
   std::thread([&] {
      outside = modkit_loader_slot_at(host.loader.get(), TEST_CATEGORY_ID, TEST_DECIDE, &slot);
      CHECK(slot == nullptr);
      modkit::ReadGuard guard(host.loader.reader());
      inside = modkit_loader_slot_at(host.loader.get(), TEST_CATEGORY_ID, TEST_DECIDE, &slot);
      // Inside the section it is the new snapshot: probe_b only.
      CHECK((slot && slot->count == 1));
   }).join();
   CHECK(outside == MODKIT_E_STATE);
   CHECK(inside == MODKIT_OK);
   CHECK(host.logged("modkit_loader_slot_at called outside a read section"));
   phase = 3;
   holder.join();
   unloader.join();
   CHECK(modkit_loader_slot_at(host.loader.get(), TEST_CATEGORY_ID, TEST_DECIDE, &slot) == MODKIT_OK);
   CHECK(slot->count == 1);
}

TEST_CASE("reload runs the new instance's init, swaps, then the old one's deinit, in one mapping") {
   Host host;
   host.load(R"([{"module": "reload_state"}])");
   modkit_call call = modkit_call_make({"", 0});
   auto ask = [&] {
      auto slot = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
      int32_t answer = 0;
      REQUIRE(slot.size() == 1);
      REQUIRE(slot.fn(*slot.begin())(slot.begin()->user_data, &call, 0, &answer) == MODKIT_OK);
      return answer;
   };
   CHECK(ask() == 101); // instance #1, one live
   host.loader.reload_module("reload_state");
   // Instance #2 (the counter lives on in the shared mapping), and #1 is gone again.
   CHECK(ask() == 201);
   std::lock_guard<std::mutex> lock(host.mutex);
   const std::vector<std::string> expected = {"init #1 (live before: 0)", "init #2 (live before: 1)",
                                              "deinit #1 (live before: 2)"};
   std::vector<std::string> lifecycle;
   for (const auto &l : host.log) {
      if (l.rfind("init #", 0) == 0 || l.rfind("deinit #", 0) == 0) lifecycle.push_back(l);
   }
   CHECK(lifecycle == expected);
}
