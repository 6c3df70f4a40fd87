// services_bench.cpp - the standard services (ABI 1.1) through the C tables a module calls, each
// next to what a module would otherwise write by hand, in modkit_bench's binary so the ratios
// come from one run:
//   BM_timer_arm_fire         modkit.timers/1: arm a one-shot timer due now, wait until its
//                             callback ran. Reference BM_cv_timer_arm_fire: a dedicated thread
//                             with a condition variable and a deadline queue doing the same
//   BM_metric_counter_add     modkit.metrics/1 counter_add on a series. Reference
//                             BM_atomic_increment: a relaxed fetch_add on a std::atomic
//   BM_storage_insert_pipelined / BM_storage_read_pipelined
//                             modkit.storage/1 execute, 256 in flight, per statement: the
//                             service's rate as a busy module sees it (engine and queue).
//                             References BM_storage_insert_raw / BM_storage_read_raw
//                             (storage_bench__rows.cpp)
#include "allocation_counter.hpp"

#include "loader.hpp" // a module's host handle without a module (the loader's internals)

#include <modkit/services/metrics.h>
#include <modkit/services/storage.h>
#include <modkit/services/timers.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace {

namespace services = modkit::loader::services;

// One loader and one module's host handle, as the services see a module.
struct Bare {
   std::unique_ptr<modkit::loader::Loader> loader;
   modkit_host host;
   explicit Bare(const std::string &storage = ":memory:") {
      modkit_loader_options o{};
      o.struct_size = sizeof o;
      o.log = [](void *, modkit_log_level, const char *, modkit_str) {};
      loader = std::make_unique<modkit::loader::Loader>(o);
      services::Settings settings;
      settings.storage_path = storage;
      loader->services().configure(settings, "");
      host.loader = loader.get();
      host.name = "bench";
      host.state = modkit_host::State::running;
      loader->services().attach(host, "bench", {});
      loader->services().open(host);
   }
   ~Bare() {
      loader->services().drain(host, 10000);
      loader->services().detach(host);
   }
   template <class T>
   const T *table(const char *id) {
      return static_cast<const T *>(services::Services::extension(id));
   }
};

// What a timer's callback signals: the bench thread waits for it.
struct Signal {
   std::mutex mutex;
   std::condition_variable cv;
   bool fired = false;
   void set() {
      {
         std::lock_guard<std::mutex> lock(mutex);
         fired = true;
      }
      cv.notify_one();
   }
   void wait() {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return fired; });
      fired = false;
   }
};

modkit_status MODKIT_ABI fire(void *signal, modkit_call *) {
   static_cast<Signal *>(signal)->set();
   return MODKIT_OK;
}

void BM_timer_arm_fire(benchmark::State &state) {
   Bare bare;
   const auto *timers = bare.table<modkit_timers_api>(MODKIT_TIMERS_ID);
   Signal signal;
   for (auto _ : state) {
      uint64_t id = 0;
      if (timers->start(&bare.host, 0, 0, fire, &signal, &id) != MODKIT_OK) state.SkipWithError("start failed");
      signal.wait();
   }
}
BENCHMARK(BM_timer_arm_fire)->UseRealTime();

// The hand-written reference: one thread, a deadline queue, a condition variable.
class CvTimer {
public:
   CvTimer() : thread_([this] { run(); }) {}
   ~CvTimer() {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         stop_ = true;
      }
      cv_.notify_one();
      thread_.join();
   }
   void at(std::chrono::steady_clock::time_point due, Signal *signal) {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         queue_.emplace(due, signal);
      }
      cv_.notify_one();
   }

private:
   void run() {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stop_) {
         if (queue_.empty()) {
            cv_.wait(lock);
            continue;
         }
         if (queue_.begin()->first > std::chrono::steady_clock::now()) {
            cv_.wait_until(lock, queue_.begin()->first);
            continue;
         }
         Signal *signal = queue_.begin()->second;
         queue_.erase(queue_.begin());
         lock.unlock();
         fire(signal, nullptr);
         lock.lock();
      }
   }
   std::mutex mutex_;
   std::condition_variable cv_;
   std::multimap<std::chrono::steady_clock::time_point, Signal *> queue_;
   bool stop_ = false;
   std::thread thread_;
};

void BM_cv_timer_arm_fire(benchmark::State &state) {
   CvTimer timer;
   Signal signal;
   for (auto _ : state) {
      timer.at(std::chrono::steady_clock::now(), &signal);
      signal.wait();
   }
}
BENCHMARK(BM_cv_timer_arm_fire)->UseRealTime();

void BM_metric_counter_add(benchmark::State &state) {
   Bare bare;
   const auto *metrics = bare.table<modkit_metrics_api>(MODKIT_METRICS_ID);
   modkit_metric_desc desc{sizeof desc, MODKIT_METRIC_COUNTER, "events", "bench", nullptr, 0, nullptr, 0};
   modkit_metric *metric = nullptr;
   modkit_metric_series *series = nullptr;
   if (metrics->register_metric(&bare.host, &desc, &metric) != MODKIT_OK ||
       metrics->series(metric, nullptr, 0, &series) != MODKIT_OK)
      state.SkipWithError("registration failed");
   Allocs allocs(state);
   for (auto _ : state) metrics->counter_add(series, 1);
}
BENCHMARK(BM_metric_counter_add);

void BM_atomic_increment(benchmark::State &state) {
   auto counter = std::make_unique<std::atomic<uint64_t>>(0);
   Allocs allocs(state);
   for (auto _ : state) counter->fetch_add(1, std::memory_order_relaxed);
   benchmark::DoNotOptimize(counter->load());
}
BENCHMARK(BM_atomic_increment);

// Statements in flight and answered, for the pipelined rows.
struct Flight {
   std::mutex mutex;
   std::condition_variable cv;
   int pending = 0;
   bool failed = false;
   static void MODKIT_ABI done(void *self, modkit_status status, modkit_str, const char *) {
      auto &f = *static_cast<Flight *>(self);
      std::lock_guard<std::mutex> lock(f.mutex);
      f.failed = f.failed || status != MODKIT_OK;
      if (--f.pending == 0) f.cv.notify_one();
   }
   void wait() {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return pending == 0; });
   }
};

constexpr int kInFlight = 256;

// Runs kInFlight statements (sql with params from make(i)) per iteration, waits for them all.
template <class Make>
void pipelined(benchmark::State &state, Bare &bare, const char *sql, Make &&make) {
   const auto *storage = bare.table<modkit_storage_api>(MODKIT_STORAGE_ID);
   Flight flight;
   const std::string text = sql;
   int n = 0;
   for (auto _ : state) {
      flight.pending = kInFlight;
      for (int i = 0; i < kInFlight; ++i, ++n) {
         const std::string params = make(n);
         if (storage->execute(&bare.host, {text.data(), text.size()}, {params.data(), params.size()}, Flight::done,
                              &flight) != MODKIT_PENDING)
            state.SkipWithError("execute refused");
      }
      flight.wait();
   }
   if (flight.failed) state.SkipWithError("a statement failed");
   state.SetItemsProcessed(state.iterations() * kInFlight);
}

// Runs one statement before the timed loop; false (the row is skipped) when it failed.
bool setup(benchmark::State &state, Bare &bare, const char *sql) {
   const auto *storage = bare.table<modkit_storage_api>(MODKIT_STORAGE_ID);
   Flight flight;
   flight.pending = 1;
   const std::string text = sql;
   if (storage->execute(&bare.host, {text.data(), text.size()}, {nullptr, 0}, Flight::done, &flight) != MODKIT_PENDING) {
      state.SkipWithError("setup refused");
      return false;
   }
   flight.wait();
   if (flight.failed) state.SkipWithError("setup failed");
   return !flight.failed;
}

void BM_storage_insert_pipelined(benchmark::State &state) {
   Bare bare; // its tables carry its prefix, bench__
   if (!setup(state, bare, "CREATE TABLE bench__rows(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)")) return;
   pipelined(state, bare, "INSERT INTO bench__rows(name, score) VALUES (?, ?)",
             [](int i) { return "[\"row-" + std::to_string(i) + "\", " + std::to_string(i % 100) + ".5]"; });
}
BENCHMARK(BM_storage_insert_pipelined)->UseRealTime();

void BM_storage_read_pipelined(benchmark::State &state) {
   Bare bare;
   if (!setup(state, bare, "CREATE TABLE bench__rows(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)") ||
       !setup(state, bare, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
                           "INSERT INTO bench__rows(id, name, score) SELECT i, 'row-' || i, i FROM n"))
      return;
   pipelined(state, bare, "SELECT id, name, score FROM bench__rows WHERE id = ?",
             [](int i) { return "[" + std::to_string(i % 10000 + 1) + "]"; });
}
BENCHMARK(BM_storage_read_pipelined)->UseRealTime();

} // namespace
