// async_bench.cpp - asynchronous dispatch (ABI 1.1), in modkit_bench's binary so its rows share
// a run with the synchronous ones they are divided by:
//   BM_async_ready_first/N   modkit::async::first_non_zero over N modules that could suspend
//                            but answer at once (bench_dNN); reference BM_guarded_first/N
//   BM_async_round_trip      one dispatch whose module (bench_a00) suspends, completes from its
//                            worker thread, and resumes the dispatch there; this thread waits
//                            for done. Reference BM_promise_round_trip: the same two hand-offs
//                            (a mutex-and-condition queue to a worker, a std::promise back)
//   BM_async_pending_10000   10,000 dispatches pending at once over 16 modules (bench_a00..a15,
//                            keyed by index): start, wait, and the memory held per pending call
#include "allocation_counter.hpp"

#include <modkit/async.hpp>
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr auto kCheck = &modkit_spam_checker_callbacks::check_event_for_spam;
using CheckSlot = modkit::Slot<kCheck>;

std::string name(const char *prefix, int i) {
   char buf[32];
   std::snprintf(buf, sizeof buf, "%s%02d", prefix, i);
   return buf;
}

// A loader with the first n modules named prefix00.., each with config.
struct Host {
   std::unique_ptr<modkit::Loader> loader;
   modkit::SlotRef ref{};
   modkit_event event{};
   Host(const char *prefix, int n, const std::string &config) {
      modkit::Loader::Options o;
      o.categories = {modkit_spam_checker_category()};
      o.log = [](modkit_log_level, const char *, std::string_view) {};
      loader = std::make_unique<modkit::Loader>(std::move(o));
      std::string c = std::string("{\"module_path\": [\"") + MODKIT_BENCH_MODULE_DIR + "\"], \"modules\": [";
      for (int i = 0; i < n; ++i)
         c += (i ? ", " : "") + ("{\"module\": \"" + name(prefix, i) + "\", \"config\": " + config + "}");
      loader->load(c + "]}");
      ref = loader->slot_ref<kCheck>(MODKIT_SPAM_CHECKER_ID);
      event.struct_size = sizeof event;
      event.sender = {"@alice:example.org", 18};
      event.type = {"m.room.message", 14};
   }
};

Host &ready_host(int n) {
   static Host h1("bench_d", 1, "{}"), h4("bench_d", 4, "{}"), h16("bench_d", 16, "{}");
   return n == 1 ? h1 : n == 4 ? h4 : h16;
}

void BM_async_ready_first(benchmark::State &state) {
   Host &h = ready_host(static_cast<int>(state.range(0)));
   modkit_loader_reader *reader = h.loader->reader();
   const modkit_event *event = &h.event;
   Allocs allocs(state);
   for (auto _ : state) {
      modkit_spam_result answer = MODKIT_NOT_SPAM;
      modkit::ReadGuard guard(reader);
      const auto slot = guard.slot<kCheck>(h.ref);
      modkit::async::first_non_zero<modkit_spam_result>(
         h.loader->async_context(guard, {}, 0, false), slot.raw(),
         [event](const modkit_loader_entry &e, modkit_call *call, modkit_spam_result *out) {
            return CheckSlot::fn(e)(e.user_data, call, event, out);
         },
         [&answer](const modkit::Outcome &, modkit_spam_result r) { answer = r; });
      benchmark::DoNotOptimize(answer);
   }
}
BENCHMARK(BM_async_ready_first)->Arg(1)->Arg(4)->Arg(16);

// Waits for one done at a time: the dispatching thread's side of a round trip.
struct Signal {
   std::mutex mutex;
   std::condition_variable cv;
   bool set = false;
   void notify() {
      std::lock_guard<std::mutex> lock(mutex);
      set = true;
      cv.notify_one();
   }
   void wait() {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [this] { return set; });
      set = false;
   }
};

void BM_async_round_trip(benchmark::State &state) {
   static Host h("bench_a", 1, "{}");
   modkit_loader_reader *reader = h.loader->reader();
   const modkit_event *event = &h.event;
   Signal signal;
   for (auto _ : state) {
      {
         modkit::ReadGuard guard(reader);
         const auto slot = guard.slot<kCheck>(h.ref);
         modkit::async::first_non_zero<modkit_spam_result>(
            h.loader->async_context(guard, {}, 0, false), slot.raw(),
            [event](const modkit_loader_entry &e, modkit_call *call, modkit_spam_result *out) {
               return CheckSlot::fn(e)(e.user_data, call, event, out);
            },
            [&signal](const modkit::Outcome &, modkit_spam_result) { signal.notify(); });
      }
      signal.wait();
   }
}
BENCHMARK(BM_async_round_trip)->UseRealTime();

// The reference: the same hand-offs without modkit. A worker takes jobs from a queue guarded by a
// mutex and a condition variable (as bench_a00's does) and sets each one's promise.
void BM_promise_round_trip(benchmark::State &state) {
   std::mutex mutex;
   std::condition_variable wake;
   std::deque<std::promise<int>> jobs;
   bool stopping = false;
   std::thread worker([&] {
      std::unique_lock<std::mutex> lock(mutex);
      for (;;) {
         wake.wait(lock, [&] { return stopping || !jobs.empty(); });
         if (jobs.empty()) return;
         std::promise<int> p = std::move(jobs.front());
         jobs.pop_front();
         lock.unlock();
         p.set_value(0);
         lock.lock();
      }
   });
   for (auto _ : state) {
      std::promise<int> p;
      std::future<int> f = p.get_future();
      {
         std::lock_guard<std::mutex> lock(mutex);
         jobs.push_back(std::move(p));
      }
      wake.notify_one();
      benchmark::DoNotOptimize(f.get());
   }
   {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
   }
   wake.notify_one();
   worker.join();
}
BENCHMARK(BM_promise_round_trip)->UseRealTime();

long rss_kib() {
   std::ifstream in("/proc/self/status");
   std::string key;
   long value = 0;
   while (in >> key) {
      if (key == "VmRSS:") {
         in >> value;
         return value;
      }
      in.ignore(1 << 10, '\n');
   }
   return 0;
}

void BM_async_pending_10000(benchmark::State &state) {
   constexpr int kCalls = 10000, kModules = 16;
   // Each module holds its calls 400 ms: long enough for all 10,000 to be pending at once.
   static Host h("bench_a", kModules, "{\"delay_us\": 400000}");
   const modkit_event *event = &h.event;
   for (auto _ : state) {
      std::atomic<int> done{0};
      Signal all;
      std::vector<modkit::AsyncHandle> handles;
      handles.reserve(kCalls);
      const long before = rss_kib();
      const uint64_t heap_before = modkit_bench_allocated_bytes.load();
      const auto started = std::chrono::steady_clock::now();
      for (int i = 0; i < kCalls; ++i) {
         modkit::ReadGuard guard(h.loader->reader());
         const auto slot = guard.slot<kCheck>(h.ref);
         const uint32_t module = static_cast<uint32_t>(i % kModules);
         handles.push_back(modkit::async::keyed<modkit_spam_result>(
            h.loader->async_context(guard), slot.raw(),
            [module](const modkit_loader_entry &e) { return e.module_index == module; },
            [event](const modkit_loader_entry &e, modkit_call *call, modkit_spam_result *out) {
               return CheckSlot::fn(e)(e.user_data, call, event, out);
            },
            [&](const modkit::Outcome &, modkit_spam_result) {
               if (done.fetch_add(1) + 1 == kCalls) all.notify();
            }));
      }
      const double start_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      const long pending_kib = rss_kib() - before;
      const uint64_t heap = modkit_bench_allocated_bytes.load() - heap_before;
      const int pending = kCalls - done.load();
      all.wait();
      const double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      handles.clear();
      state.counters["pending_at_once"] = pending;
      state.counters["start_ms"] = start_ms;
      state.counters["complete_ms"] = total_ms;
      state.counters["heap_bytes_per_call"] = static_cast<double>(heap) / kCalls;
      state.counters["rss_bytes_per_call"] = static_cast<double>(pending_kib) * 1024 / kCalls;
   }
}
BENCHMARK(BM_async_pending_10000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
