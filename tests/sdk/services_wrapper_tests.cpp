// The C++ wrappers of the ABI 1.1 standard services (sdk/services/*.hpp) and Call::set_error,
// driven against fake service tables written here: timers fired from threads, tasks, HTTP and
// storage answered by worker threads, metrics counting. What is checked: values reach the C
// tables and come back copied; failures become statuses or thrown modkit::Errors; RAII
// handles cancel, and once destroyed their callbacks never run, also when destruction races
// a run; exceptions never cross the C boundary; metric updates allocate nothing; set_error
// degrades to MODKIT_E_UNSUPPORTED on a 1.0 host. The coroutine parts need C++20 (the file
// builds as C++17 too, without them). Everything runs in this process: no loader, no module.
#include "fake_host.hpp"

#include <modkit/sdk.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// Heap allocations made by each thread, so a test can show that metric updates make none.
// Replaced here because no other file of this executable counts allocations; not under TSan,
// whose runtime defines operator new itself (the link would fail), where the test relies on
// the fake table's counters alone.
#if defined(__SANITIZE_THREAD__)
#   define SERVICES_TESTS_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#   if __has_feature(thread_sanitizer)
#      define SERVICES_TESTS_COUNT_ALLOCATIONS 0
#   endif
#endif
#ifndef SERVICES_TESTS_COUNT_ALLOCATIONS
#   define SERVICES_TESTS_COUNT_ALLOCATIONS 1
#endif

#if SERVICES_TESTS_COUNT_ALLOCATIONS
namespace {
thread_local std::size_t thread_allocations = 0;
} // namespace

void *operator new(std::size_t size) {
   ++thread_allocations;
   if (void *p = std::malloc(size == 0 ? 1 : size)) return p;
   throw std::bad_alloc();
}
// g++ pairs the library's operator new with free() once these are inlined, and warns; the
// pair here is this file's own new and delete, which do match.
#   if defined(__GNUC__) && !defined(__clang__)
#      pragma GCC diagnostic push
#      pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#   endif
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
#   if defined(__GNUC__) && !defined(__clang__)
#      pragma GCC diagnostic pop
#   endif
#endif

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string text(modkit_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }

modkit_status code_of(const std::function<void()> &f) {
   try {
      f();
   } catch (const modkit::Error &e) {
      return e.code();
   }
   return MODKIT_OK;
}

std::string message_of(const std::function<void()> &f) {
   try {
      f();
   } catch (const std::exception &e) {
      return e.what();
   }
   return "";
}

// Waits until pred() holds; false after timeout.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
   const auto until = std::chrono::steady_clock::now() + timeout;
   while (!pred()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(1ms);
   }
   return true;
}

// A one-shot signal between threads.
class Flag {
public:
   void set() {
      std::lock_guard<std::mutex> lock(mutex_);
      set_ = true;
      cv_.notify_all();
   }
   bool wait(std::chrono::milliseconds timeout = 5s) {
      std::unique_lock<std::mutex> lock(mutex_);
      return cv_.wait_for(lock, timeout, [&] { return set_; });
   }
   bool is_set() {
      std::lock_guard<std::mutex> lock(mutex_);
      return set_;
   }

private:
   std::mutex mutex_;
   std::condition_variable cv_;
   bool set_ = false;
};

// A service thread: runs posted jobs in order. hold() keeps them waiting (to cancel before
// they run); destruction releases and runs what is left, as a host drains before deinit.
class Worker {
public:
   Worker() : thread_([this] { loop(); }) {}
   Worker(const Worker &) = delete;
   Worker &operator=(const Worker &) = delete;
   ~Worker() {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         held_ = false;
         stopping_ = true;
      }
      wake_.notify_all();
      thread_.join();
   }

   void post(std::function<void()> job) {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         jobs_.push_back(std::move(job));
      }
      wake_.notify_all();
   }
   void hold() {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = true;
   }
   void release() {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         held_ = false;
      }
      wake_.notify_all();
   }
   // Waits until every posted job has run.
   bool drain(std::chrono::milliseconds timeout = 5s) {
      std::unique_lock<std::mutex> lock(mutex_);
      return idle_.wait_for(lock, timeout, [&] { return jobs_.empty() && !busy_; });
   }
   std::thread::id id() const { return thread_.get_id(); }

private:
   void loop() {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
         wake_.wait(lock, [&] { return (!held_ && !jobs_.empty()) || (stopping_ && jobs_.empty()); });
         if (jobs_.empty()) return;
         std::function<void()> job = std::move(jobs_.front());
         jobs_.pop_front();
         busy_ = true;
         lock.unlock();
         job();
         job = nullptr;
         lock.lock();
         busy_ = false;
         idle_.notify_all();
      }
   }

   std::mutex mutex_;
   std::condition_variable wake_, idle_;
   std::deque<std::function<void()>> jobs_;
   bool held_ = false, stopping_ = false, busy_ = false;
   std::thread thread_; // last: started once the rest exists
};

struct Fakes;

// The module instance handle the wrappers pass to the fake tables. FakeHost's functions reach
// their FakeHost through owner; the fake services reach theirs through fakes.
struct ServicesHost : modkit_host {
   Fakes *fakes = nullptr;
};

Fakes &fakes_of(modkit_host *host) { return *static_cast<ServicesHost *>(host)->fakes; }

// ---- modkit.timers/1 ----
// Like the loader: a one-shot ends with its run; cancel marks the timer and the call of a run
// under way; a run the host committed to before cancel still calls the function (run()).
struct FakeTimers {
   struct Entry {
      uint32_t delay_ms = 0, period_ms = 0;
      modkit_timer_fn fn = nullptr;
      void *user_data = nullptr;
      bool cancelled = false;
      bool ended = false; // a one-shot that fired
      modkit_call *running = nullptr;
   };

   modkit_timers_api table{};
   std::mutex mutex;
   std::map<uint64_t, Entry> timers; // never erased: a late run still finds fn and user_data
   uint64_t next_id = 0;
   int starts = 0, cancels = 0; // accepted ones, guarded by mutex
   modkit_status refuse = MODKIT_OK;
   bool background = true;
   bool suspendable = true; // runs get calls that may suspend
   bool autofire = false;   // start() begins a thread firing the timer until it is cancelled
   std::vector<std::thread> firing;
   std::atomic<int> suspended_runs{0}, misuses{0}, completions{0};

   FakeTimers() {
      table.struct_size = sizeof table;
      table.start = &start;
      table.cancel = &cancel;
      table.is_background_instance = &is_background_instance;
   }
   FakeTimers(const FakeTimers &) = delete;
   FakeTimers &operator=(const FakeTimers &) = delete;
   ~FakeTimers() {
      for (std::thread &t : firing) t.join();
   }

   Entry entry(uint64_t id) {
      std::lock_guard<std::mutex> lock(mutex);
      return timers.at(id);
   }
   int cancel_count() {
      std::lock_guard<std::mutex> lock(mutex);
      return cancels;
   }

   // Would the host fire id now? A one-shot ends here.
   bool commit(uint64_t id) {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = timers.find(id);
      if (it == timers.end() || it->second.cancelled || it->second.ended) return false;
      if (it->second.period_ms == 0) it->second.ended = true;
      return true;
   }

   // One run, as the loader makes it: a fresh call, armed when suspendable, waited for when
   // the function suspends it. Cancelled or not: the host committed to this run.
   modkit_status run(uint64_t id) {
      modkit_call call;
      if (suspendable) call.arm();
      Entry e;
      {
         std::lock_guard<std::mutex> lock(mutex);
         Entry &live = timers.at(id);
         live.running = &call;
         call.cancelled = live.cancelled;
         e = live;
      }
      modkit_status status = call.returned(e.fn(e.user_data, &call));
      if (status == MODKIT_PENDING) {
         ++suspended_runs;
         status = call.wait().value_or(MODKIT_E_TIMEOUT);
      }
      {
         std::lock_guard<std::mutex> lock(mutex);
         timers.at(id).running = nullptr;
      }
      misuses += call.misuses;
      completions += call.completions;
      return status;
   }

   // Fires id on this thread if the host would; nullopt when it would not.
   std::optional<modkit_status> fire(uint64_t id) {
      if (!commit(id)) return std::nullopt;
      return run(id);
   }

   // fire() on a thread of its own (a service thread), and that thread's ID.
   std::pair<std::optional<modkit_status>, std::thread::id> fire_elsewhere(uint64_t id) {
      std::optional<modkit_status> status;
      std::thread::id on;
      std::thread([&] {
         on = std::this_thread::get_id();
         status = fire(id);
      }).join();
      return {status, on};
   }

   static modkit_status start(modkit_host *host, uint32_t delay_ms, uint32_t period_ms, modkit_timer_fn fn,
                              void *user_data, uint64_t *out_id);
   static modkit_status cancel(modkit_host *host, uint64_t id);
   static bool is_background_instance(modkit_host *host);
};

// ---- modkit.tasks/1 ----
struct FakeTasks {
   struct Entry {
      std::string name;
      modkit_task_fn fn = nullptr;
      modkit_task_done_fn done = nullptr;
      void *user_data = nullptr;
      bool started = false, cancelled = false, ended = false;
      modkit_call *call = nullptr;
   };

   modkit_tasks_api table{};
   std::mutex mutex;
   std::map<uint64_t, Entry> tasks;
   uint64_t next_id = 0;
   int cancels = 0;                    // cancel calls, guarded by mutex
   std::vector<modkit_status> delivered; // statuses given to done, guarded by mutex
   modkit_status refuse = MODKIT_OK;
   Worker worker; // runs each task, then its done

   FakeTasks() {
      table.struct_size = sizeof table;
      table.run = &run;
      table.cancel = &cancel;
   }

   int cancel_count() {
      std::lock_guard<std::mutex> lock(mutex);
      return cancels;
   }
   std::vector<modkit_status> done_statuses() {
      std::lock_guard<std::mutex> lock(mutex);
      return delivered;
   }
   std::string last_name() {
      std::lock_guard<std::mutex> lock(mutex);
      return tasks.empty() ? std::string() : tasks.rbegin()->second.name;
   }
   // What unloading does to the tasks still waiting.
   void cancel_waiting() {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto &[id, e] : tasks)
         if (!e.started) e.cancelled = true;
   }

   void execute(uint64_t id) {
      modkit_call call;
      call.arm();
      Entry e;
      bool cancelled;
      {
         std::lock_guard<std::mutex> lock(mutex);
         Entry &live = tasks.at(id);
         cancelled = live.cancelled;
         if (!cancelled) {
            live.started = true;
            live.call = &call;
         }
         e = live;
      }
      modkit_status status = MODKIT_E_CANCELLED;
      if (!cancelled) {
         status = call.returned(e.fn(e.user_data, &call));
         if (status == MODKIT_PENDING) status = call.wait().value_or(MODKIT_E_TIMEOUT);
      }
      {
         std::lock_guard<std::mutex> lock(mutex);
         Entry &live = tasks.at(id);
         live.call = nullptr;
         live.ended = true;
         delivered.push_back(status);
      }
      if (e.done) e.done(e.user_data, status);
   }

   static modkit_status run(modkit_host *host, const char *name, modkit_task_fn fn, modkit_task_done_fn done,
                            void *user_data, uint64_t *out_id);
   static modkit_status cancel(modkit_host *host, uint64_t id);
};

// ---- modkit.http/1 ----
struct FakeHttp {
   struct Sent {
      std::string method, url;
      std::vector<std::pair<std::string, std::string>> headers;
      std::optional<std::string> body;
      uint32_t flags = 0, timeout_ms = 0, max_response_bytes = 0;
   };
   struct Answer {
      modkit_status status = MODKIT_OK;
      int http_status = 200;
      std::vector<std::pair<std::string, std::string>> headers;
      std::string body;
      std::string message;
      bool response = true; // false: done gets a null response
   };
   struct Entry {
      Sent sent;
      modkit_http_done_fn done = nullptr;
      void *user_data = nullptr;
      bool cancelled = false, answered = false;
   };

   modkit_http_api table{};
   std::mutex mutex;
   std::map<uint64_t, Entry> requests;
   uint64_t next_id = 0;
   int cancels = 0;                    // accepted ones, guarded by mutex
   std::vector<modkit_status> delivered; // guarded by mutex
   std::function<Answer(const Sent &)> responder = [](const Sent &) { return Answer{}; };
   Worker worker; // answers in order

   FakeHttp() {
      table.struct_size = sizeof table;
      table.request = &request;
      table.cancel = &cancel;
   }

   int cancel_count() {
      std::lock_guard<std::mutex> lock(mutex);
      return cancels;
   }
   std::vector<modkit_status> done_statuses() {
      std::lock_guard<std::mutex> lock(mutex);
      return delivered;
   }
   Sent last_sent() {
      std::lock_guard<std::mutex> lock(mutex);
      return requests.rbegin()->second.sent;
   }

   void answer(uint64_t id) {
      Entry e;
      {
         std::lock_guard<std::mutex> lock(mutex);
         Entry &live = requests.at(id);
         live.answered = true;
         e = live;
      }
      Answer a;
      if (e.cancelled) {
         a.status = MODKIT_E_CANCELLED;
         a.response = false;
         a.message = "cancelled";
      } else {
         a = responder(e.sent);
      }
      std::vector<modkit_http_header> headers;
      for (const auto &[n, v] : a.headers) headers.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
      const modkit_http_client_response response{sizeof(modkit_http_client_response), a.http_status,
                                                 headers.data(), headers.size(),
                                                 {a.body.data(), a.body.size()}};
      e.done(e.user_data, a.status, a.response ? &response : nullptr, a.message.c_str());
      // The response was the host's: what the module kept must be its own copy.
      for (auto &[n, v] : a.headers) n.assign(n.size(), '#'), v.assign(v.size(), '#');
      a.body.assign(a.body.size(), '#');
      std::lock_guard<std::mutex> lock(mutex);
      delivered.push_back(a.status);
   }

   static modkit_status request(modkit_host *host, const modkit_http_client_request *req, modkit_http_done_fn done,
                                void *user_data, uint64_t *out_id);
   static modkit_status cancel(modkit_host *host, uint64_t id);
};

// ---- modkit.storage/1 ----
struct FakeStorage {
   struct Received {
      std::string kind; // "execute" or "batch"
      std::string text; // the SQL, or the statements JSON
      std::optional<std::string> params;
   };
   struct Answer {
      modkit_status status = MODKIT_OK;
      std::string result_json = R"({"rows":[],"changes":0})";
      std::string message;
   };

   modkit_storage_api table{};
   std::string prefix = "services_test_";
   std::mutex mutex;
   std::vector<Received> received; // guarded by mutex
   modkit_status refuse = MODKIT_OK;
   std::function<Answer(const Received &)> responder = [](const Received &) { return Answer{}; };
   Worker worker;

   FakeStorage() {
      table.struct_size = sizeof table;
      table.table_prefix = &table_prefix;
      table.execute = &execute;
      table.batch = &batch;
   }

   std::vector<Received> all_received() {
      std::lock_guard<std::mutex> lock(mutex);
      return received;
   }

   modkit_status accept(Received r, modkit_storage_done_fn done, void *user_data) {
      if (refuse != MODKIT_OK) return refuse;
      {
         std::lock_guard<std::mutex> lock(mutex);
         received.push_back(r);
      }
      worker.post([this, r = std::move(r), done, user_data] {
         const Answer a = responder(r);
         done(user_data, a.status,
              a.status == MODKIT_OK ? modkit_str{a.result_json.data(), a.result_json.size()} : modkit_str{nullptr, 0},
              a.message.c_str());
      });
      return MODKIT_PENDING;
   }

   static const char *table_prefix(modkit_host *host);
   static modkit_status execute(modkit_host *host, modkit_str sql, modkit_str params_json, modkit_storage_done_fn done,
                                void *user_data);
   static modkit_status batch(modkit_host *host, modkit_str statements_json, modkit_storage_done_fn done,
                              void *user_data);
};

// ---- modkit.metrics/1 ----
void add_double(std::atomic<double> &a, double d) {
   double old = a.load();
   while (!a.compare_exchange_weak(old, old + d)) {
   }
}

struct FakeMetrics;

struct FakeSeries {
   FakeMetrics *owner = nullptr;
   uint32_t kind = 0;
   std::vector<std::string> labels;
   std::atomic<uint64_t> count{0};
   std::atomic<double> value{0};
   std::atomic<uint64_t> observations{0};
   std::atomic<double> sum{0};
};

struct FakeMetric {
   FakeMetrics *owner = nullptr;
   uint32_t kind = 0;
   std::string name, help;
   std::vector<std::string> labels;
   std::vector<double> buckets;
   std::vector<std::unique_ptr<FakeSeries>> series;
};

struct FakeMetrics {
   modkit_metrics_api table{};
   std::mutex mutex;
   std::vector<std::unique_ptr<FakeMetric>> metrics; // and their series: guarded by mutex
   std::size_t max_series = 3;                        // per metric, small for the tests
   std::atomic<int> counter_adds{0}, gauge_sets{0}, gauge_adds{0}, observations{0};

   FakeMetrics() {
      table.struct_size = sizeof table;
      table.register_metric = &register_metric;
      table.series = &series;
      table.counter_add = &counter_add;
      table.gauge_set = &gauge_set;
      table.gauge_add = &gauge_add;
      table.histogram_observe = &histogram_observe;
   }

   FakeMetric *find(const std::string &name) {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto &m : metrics)
         if (m->name == name) return m.get();
      return nullptr;
   }

   static bool valid_name(const char *s) {
      if (s == nullptr || *s == '\0' || std::strlen(s) > 64 || (*s >= '0' && *s <= '9')) return false;
      for (; *s; ++s)
         if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
      return true;
   }

   static modkit_status register_metric(modkit_host *host, const modkit_metric_desc *desc, modkit_metric **out);
   static modkit_status series(modkit_metric *metric, const modkit_str *label_values, size_t label_count,
                               modkit_metric_series **out);
   static FakeSeries *of(modkit_metric_series *s) { return reinterpret_cast<FakeSeries *>(s); }
   static void counter_add(modkit_metric_series *s, uint64_t n);
   static void gauge_set(modkit_metric_series *s, double value);
   static void gauge_add(modkit_metric_series *s, double delta);
   static void histogram_observe(modkit_metric_series *s, double value);
};

// ---- call_set_error ----
// A call that records the error attached to it, as a host keeps it for the answer.
struct RecordingCall : modkit_call {
   bool keeps_errors = true; // false: the host answers MODKIT_E_UNSUPPORTED
   int set_errors = 0;
   std::string errcode, message;
   std::optional<std::string> extra;
};

modkit_status fake_set_error(modkit_call *call, modkit_str errcode, modkit_str message, modkit_str extra) {
   auto &c = static_cast<RecordingCall &>(*call);
   ++c.set_errors;
   if (!c.keeps_errors) return MODKIT_E_UNSUPPORTED;
   const std::string code = text(errcode);
   if (code.empty() || code.size() > 64) return MODKIT_E_INVALID_ARGUMENT;
   for (char ch : code)
      if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) return MODKIT_E_INVALID_ARGUMENT;
   if (extra.data != nullptr && !json::parse(text(extra), nullptr, false).is_object())
      return MODKIT_E_INVALID_ARGUMENT;
   c.errcode = code;
   c.message = text(message);
   c.extra = extra.data ? std::optional<std::string>(text(extra)) : std::nullopt;
   return MODKIT_OK;
}

// The fake host with every service, and the Api a module would get. Members are destroyed in
// reverse: the services' workers finish (running what is left) while the host still logs.
struct Fakes {
   FakeHost host;
   modkit_host_api table;
   ServicesHost handle;
   FakeTimers timers;
   FakeTasks tasks;
   FakeHttp http;
   FakeStorage storage;
   FakeMetrics metrics;
   modkit::Api api;

   Fakes()
      : table(with_set_error(*host.api())),
        handle(make_handle(host, this)),
        api(modkit::detail::HostContext{&table, &handle, "services_test", ""}) {
      host.extensions[MODKIT_TIMERS_ID] = &timers.table;
      host.extensions[MODKIT_TASKS_ID] = &tasks.table;
      host.extensions[MODKIT_HTTP_ID] = &http.table;
      host.extensions[MODKIT_STORAGE_ID] = &storage.table;
      host.extensions[MODKIT_METRICS_ID] = &metrics.table;
   }
   Fakes(const Fakes &) = delete;
   Fakes &operator=(const Fakes &) = delete;

   static modkit_host_api with_set_error(modkit_host_api t) {
      t.call_set_error = &fake_set_error;
      return t;
   }
   static ServicesHost make_handle(FakeHost &host, Fakes *self) {
      ServicesHost h;
      h.owner = &host;
      h.fakes = self;
      return h;
   }
};

modkit_status FakeTimers::start(modkit_host *host, uint32_t delay_ms, uint32_t period_ms, modkit_timer_fn fn,
                                void *user_data, uint64_t *out_id) {
   FakeTimers &self = fakes_of(host).timers;
   if (fn == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   std::lock_guard<std::mutex> lock(self.mutex);
   if (self.refuse != MODKIT_OK) return self.refuse;
   const uint64_t id = ++self.next_id;
   Entry e;
   e.delay_ms = delay_ms;
   e.period_ms = period_ms;
   e.fn = fn;
   e.user_data = user_data;
   self.timers[id] = e;
   ++self.starts;
   if (out_id) *out_id = id;
   if (self.autofire) {
      // As the loader's pool: the run is decided under the lock (commit), then made without it,
      // so a cancel can land between the two.
      self.firing.emplace_back([&self, id, delay_ms, period_ms] {
         std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
         while (self.commit(id)) {
            std::this_thread::yield();
            self.run(id);
            std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
         }
      });
   }
   return MODKIT_OK;
}

modkit_status FakeTimers::cancel(modkit_host *host, uint64_t id) {
   FakeTimers &self = fakes_of(host).timers;
   std::lock_guard<std::mutex> lock(self.mutex);
   auto it = self.timers.find(id);
   if (it == self.timers.end() || it->second.cancelled || (it->second.ended && it->second.running == nullptr))
      return MODKIT_E_NOT_FOUND;
   it->second.cancelled = true;
   ++self.cancels;
   if (it->second.running) it->second.running->cancelled = true;
   return MODKIT_OK;
}

bool FakeTimers::is_background_instance(modkit_host *host) { return fakes_of(host).timers.background; }

modkit_status FakeTasks::run(modkit_host *host, const char *name, modkit_task_fn fn, modkit_task_done_fn done,
                             void *user_data, uint64_t *out_id) {
   FakeTasks &self = fakes_of(host).tasks;
   if (fn == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   uint64_t id;
   {
      std::lock_guard<std::mutex> lock(self.mutex);
      if (self.refuse != MODKIT_OK) return self.refuse;
      id = ++self.next_id;
      Entry e;
      e.name = name ? name : "";
      e.fn = fn;
      e.done = done;
      e.user_data = user_data;
      self.tasks[id] = e;
   }
   if (out_id) *out_id = id;
   self.worker.post([&self, id] { self.execute(id); });
   return MODKIT_PENDING;
}

modkit_status FakeTasks::cancel(modkit_host *host, uint64_t id) {
   FakeTasks &self = fakes_of(host).tasks;
   std::lock_guard<std::mutex> lock(self.mutex);
   ++self.cancels;
   auto it = self.tasks.find(id);
   if (it == self.tasks.end() || it->second.ended) return MODKIT_E_NOT_FOUND;
   if (!it->second.started) it->second.cancelled = true;
   else if (it->second.call) it->second.call->cancelled = true;
   return MODKIT_OK;
}

modkit_status FakeHttp::request(modkit_host *host, const modkit_http_client_request *req, modkit_http_done_fn done,
                                void *user_data, uint64_t *out_id) {
   FakeHttp &self = fakes_of(host).http;
   if (req == nullptr || done == nullptr || req->url == nullptr || req->struct_size < sizeof *req ||
       (req->header_count != 0 && req->headers == nullptr))
      return MODKIT_E_INVALID_ARGUMENT;
   Sent s;
   s.method = req->method ? req->method : "GET";
   s.url = req->url;
   if (s.url.rfind("https://denied.", 0) == 0) return MODKIT_E_DENIED;
   for (size_t i = 0; i < req->header_count; ++i) s.headers.emplace_back(text(req->headers[i].name), text(req->headers[i].value));
   if (req->body.data) s.body = text(req->body);
   s.flags = req->flags;
   s.timeout_ms = req->timeout_ms;
   s.max_response_bytes = req->max_response_bytes;
   uint64_t id;
   {
      std::lock_guard<std::mutex> lock(self.mutex);
      id = ++self.next_id;
      Entry e;
      e.sent = std::move(s);
      e.done = done;
      e.user_data = user_data;
      self.requests[id] = std::move(e);
   }
   if (out_id) *out_id = id;
   self.worker.post([&self, id] { self.answer(id); });
   return MODKIT_PENDING;
}

modkit_status FakeHttp::cancel(modkit_host *host, uint64_t id) {
   FakeHttp &self = fakes_of(host).http;
   std::lock_guard<std::mutex> lock(self.mutex);
   auto it = self.requests.find(id);
   if (it == self.requests.end() || it->second.answered || it->second.cancelled) return MODKIT_E_NOT_FOUND;
   it->second.cancelled = true;
   ++self.cancels;
   return MODKIT_OK;
}

const char *FakeStorage::table_prefix(modkit_host *host) { return fakes_of(host).storage.prefix.c_str(); }

modkit_status FakeStorage::execute(modkit_host *host, modkit_str sql, modkit_str params_json,
                                   modkit_storage_done_fn done, void *user_data) {
   if (sql.data == nullptr || done == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   Received r{"execute", text(sql), params_json.data ? std::optional<std::string>(text(params_json)) : std::nullopt};
   return fakes_of(host).storage.accept(std::move(r), done, user_data);
}

modkit_status FakeStorage::batch(modkit_host *host, modkit_str statements_json, modkit_storage_done_fn done,
                                 void *user_data) {
   if (statements_json.data == nullptr || done == nullptr) return MODKIT_E_INVALID_ARGUMENT;
   return fakes_of(host).storage.accept(Received{"batch", text(statements_json), std::nullopt}, done, user_data);
}

modkit_status FakeMetrics::register_metric(modkit_host *host, const modkit_metric_desc *desc, modkit_metric **out) {
   FakeMetrics &self = fakes_of(host).metrics;
   if (desc == nullptr || out == nullptr || desc->kind > MODKIT_METRIC_HISTOGRAM || !valid_name(desc->name) ||
       desc->label_count > 8)
      return MODKIT_E_INVALID_ARGUMENT;
   auto m = std::make_unique<FakeMetric>();
   m->owner = &self;
   m->kind = desc->kind;
   m->name = desc->name;
   m->help = desc->help ? desc->help : "";
   for (size_t i = 0; i < desc->label_count; ++i) {
      if (!valid_name(desc->label_names[i])) return MODKIT_E_INVALID_ARGUMENT;
      m->labels.emplace_back(desc->label_names[i]);
   }
   for (size_t i = 0; i < desc->bucket_count; ++i) {
      if (i > 0 && desc->buckets[i] <= desc->buckets[i - 1]) return MODKIT_E_INVALID_ARGUMENT;
      m->buckets.push_back(desc->buckets[i]);
   }
   std::lock_guard<std::mutex> lock(self.mutex);
   for (const auto &other : self.metrics)
      if (other->name == m->name) return MODKIT_E_CONFLICT;
   *out = reinterpret_cast<modkit_metric *>(m.get());
   self.metrics.push_back(std::move(m));
   return MODKIT_OK;
}

modkit_status FakeMetrics::series(modkit_metric *metric, const modkit_str *label_values, size_t label_count,
                                  modkit_metric_series **out) {
   auto *m = reinterpret_cast<FakeMetric *>(metric);
   if (label_count != m->labels.size()) return MODKIT_E_INVALID_ARGUMENT;
   std::vector<std::string> labels;
   for (size_t i = 0; i < label_count; ++i) labels.push_back(text(label_values[i]));
   std::lock_guard<std::mutex> lock(m->owner->mutex);
   for (const auto &s : m->series) {
      if (s->labels == labels) {
         *out = reinterpret_cast<modkit_metric_series *>(s.get());
         return MODKIT_OK;
      }
   }
   if (m->series.size() >= m->owner->max_series) return MODKIT_E_DENIED;
   auto s = std::make_unique<FakeSeries>();
   s->owner = m->owner;
   s->kind = m->kind;
   s->labels = std::move(labels);
   *out = reinterpret_cast<modkit_metric_series *>(s.get());
   m->series.push_back(std::move(s));
   return MODKIT_OK;
}

void FakeMetrics::counter_add(modkit_metric_series *s, uint64_t n) {
   if (of(s)->kind != MODKIT_METRIC_COUNTER) return;
   of(s)->count += n;
   ++of(s)->owner->counter_adds;
}
void FakeMetrics::gauge_set(modkit_metric_series *s, double value) {
   if (of(s)->kind != MODKIT_METRIC_GAUGE) return;
   of(s)->value = value;
   ++of(s)->owner->gauge_sets;
}
void FakeMetrics::gauge_add(modkit_metric_series *s, double delta) {
   if (of(s)->kind != MODKIT_METRIC_GAUGE) return;
   add_double(of(s)->value, delta);
   ++of(s)->owner->gauge_adds;
}
void FakeMetrics::histogram_observe(modkit_metric_series *s, double value) {
   if (of(s)->kind != MODKIT_METRIC_HISTOGRAM) return;
   ++of(s)->observations;
   add_double(of(s)->sum, value);
   ++of(s)->owner->observations;
}

// Records where and how often a function ran; what a test's callbacks capture by shared_ptr so
// it outlives any late run.
struct Probe {
   std::atomic<int> runs{0};
   std::atomic<bool> gone{false};        // set once the handle was destroyed
   std::atomic<int> runs_after_gone{0};  // runs that began after that
   std::mutex mutex;
   std::thread::id thread;               // guarded by mutex
   void ran() {
      if (gone) ++runs_after_gone;
      {
         std::lock_guard<std::mutex> lock(mutex);
         thread = std::this_thread::get_id();
      }
      ++runs;
   }
   std::thread::id last_thread() {
      std::lock_guard<std::mutex> lock(mutex);
      return thread;
   }
};

} // namespace

// ============================== timers ==============================

TEST_CASE("a one-shot Timer runs its function once, on a service thread") {
   Fakes f;
   auto probe = std::make_shared<Probe>();
   modkit::Timer timer = modkit::Timer::after(f.api, 250ms, [probe] { probe->ran(); });
   REQUIRE(timer);
   REQUIRE(timer.id() != 0);
   const auto e = f.timers.entry(timer.id());
   CHECK(e.delay_ms == 250);
   CHECK(e.period_ms == 0);
   CHECK(probe->runs == 0); // never inside after()

   const auto [status, thread] = f.timers.fire_elsewhere(timer.id());
   CHECK(status == MODKIT_OK);
   CHECK(probe->runs == 1);
   CHECK(probe->last_thread() == thread);
   CHECK(probe->last_thread() != std::this_thread::get_id());

   SUBCASE("a late run of a fired one-shot finds nothing to call") {
      CHECK(f.timers.run(timer.id()) == MODKIT_OK);
      CHECK(probe->runs == 1);
   }
   SUBCASE("cancelling a fired one-shot is harmless") {
      timer.cancel();
      CHECK_FALSE(timer);
      CHECK(timer.id() == 0);
      CHECK(f.timers.cancel_count() == 0); // the host no longer held it
   }
}

TEST_CASE("a repeating Timer runs every period until it is cancelled") {
   Fakes f;
   auto probe = std::make_shared<Probe>();
   std::atomic<int> saw_cancelled{0};
   modkit::Timer timer = modkit::Timer::every(f.api, std::chrono::seconds(2), [probe, &saw_cancelled](modkit::Call &call) {
      if (call.cancelled()) ++saw_cancelled;
      probe->ran();
   });
   const uint64_t id = timer.id();
   CHECK(f.timers.entry(id).delay_ms == 2000);
   CHECK(f.timers.entry(id).period_ms == 2000);
   for (int i = 0; i < 3; ++i) CHECK(f.timers.fire_elsewhere(id).first == MODKIT_OK);
   CHECK(probe->runs == 3);
   CHECK(saw_cancelled == 0);

   timer.cancel();
   CHECK_FALSE(timer);
   CHECK(f.timers.cancel_count() == 1);
   CHECK_FALSE(f.timers.fire(id).has_value()); // the host does not fire it again
   // A run the host had committed to before cancel still calls in: it must find nothing.
   CHECK(f.timers.run(id) == MODKIT_OK);
   CHECK(probe->runs == 3);
   timer.cancel(); // twice is harmless
   CHECK(f.timers.cancel_count() == 1);
}

TEST_CASE("destroying a Timer cancels it, and a run the host began late finds nothing") {
   Fakes f;
   auto probe = std::make_shared<Probe>();
   uint64_t id = 0;
   {
      modkit::Timer timer = modkit::Timer::every(f.api, 10ms, [probe] { probe->ran(); });
      id = timer.id();
      CHECK(f.timers.fire(id) == MODKIT_OK);
   }
   CHECK(f.timers.cancel_count() == 1);
   CHECK(f.timers.entry(id).cancelled);
   // The state the host's user_data led to is gone; ASan reports a use after free here if the
   // wrapper handed the host a pointer to it.
   CHECK(f.timers.run(id) == MODKIT_OK);
   CHECK(f.timers.run(id) == MODKIT_OK);
   CHECK(probe->runs == 1);

   SUBCASE("moving a Timer moves the timer; assigning over one cancels the old") {
      modkit::Timer a = modkit::Timer::every(f.api, 10ms, [probe] { probe->ran(); });
      const uint64_t first = a.id();
      modkit::Timer b = std::move(a);
      CHECK_FALSE(a); // NOLINT(bugprone-use-after-move): a moved-from Timer is empty
      CHECK(b.id() == first);
      b = modkit::Timer::every(f.api, 10ms, [probe] { probe->ran(); });
      CHECK(f.timers.entry(first).cancelled);
      CHECK_FALSE(f.timers.entry(b.id()).cancelled);
   }
}

TEST_CASE("destroying a Timer waits for a run under way on another thread") {
   Fakes f;
   Flag entered;
   std::atomic<bool> finished{false};
   auto timer = std::make_unique<modkit::Timer>(modkit::Timer::every(f.api, 10ms, [&] {
      entered.set();
      std::this_thread::sleep_for(100ms);
      finished = true;
   }));
   const uint64_t id = timer->id();
   std::thread service([&] { f.timers.fire(id); });
   REQUIRE(entered.wait());
   timer.reset();
   CHECK(finished); // the run ended before the destructor returned
   service.join();
}

TEST_CASE("a Timer that cancels itself from its own run does not wait for itself") {
   Fakes f;
   auto probe = std::make_shared<Probe>();
   modkit::Timer timer;
   timer = modkit::Timer::every(f.api, 10ms, [&timer, probe] {
      probe->ran();
      timer.cancel();
   });
   const uint64_t id = timer.id();
   CHECK(f.timers.fire_elsewhere(id).first == MODKIT_OK); // would hang if cancel() waited
   CHECK_FALSE(timer);
   CHECK(f.timers.cancel_count() == 1);
   CHECK_FALSE(f.timers.fire(id).has_value());
   CHECK(probe->runs == 1);
}

TEST_CASE("a Timer's function never begins after its handle is destroyed, also racing its runs") {
   Fakes f;
   f.timers.autofire = true; // each timer fires from its own thread, every 1 ms
   int total_runs = 0;
   for (int i = 0; i < 60; ++i) {
      auto probe = std::make_shared<Probe>();
      {
         modkit::Timer timer = modkit::Timer::every(f.api, 1ms, [probe] {
            probe->ran();
            std::this_thread::yield();
         });
         REQUIRE(eventually([&] { return probe->runs >= 1 + i % 3; }));
         if (i % 2) std::this_thread::yield();
      }
      probe->gone = true;
      std::this_thread::sleep_for(3ms); // a late run would come now
      CHECK(probe->runs_after_gone == 0);
      total_runs += probe->runs;
   }
   CHECK(total_runs >= 60);
}

TEST_CASE("an exception in a Timer's function is logged and becomes the run's status") {
   Fakes f;
   std::atomic<int> runs{0};
   modkit::Timer timer = modkit::Timer::every(f.api, 10ms, [&] {
      if (++runs == 1) throw std::runtime_error("the cache is on fire");
      throw modkit::Error(MODKIT_E_DENIED, "not today");
   });
   CHECK(f.timers.fire_elsewhere(timer.id()).first == MODKIT_E_INTERNAL);
   CHECK(f.host.logged(MODKIT_LOG_ERROR, "timer failed (internal): the cache is on fire"));
   // The timer keeps running.
   CHECK(f.timers.fire_elsewhere(timer.id()).first == MODKIT_E_DENIED);
   CHECK(f.host.logged(MODKIT_LOG_ERROR, "not today"));
   CHECK(runs == 2);
}

TEST_CASE("Timer refuses what the host cannot do") {
   Fakes f;
   auto noop = [] {};

   SUBCASE("a host without modkit.timers/1") {
      f.host.extensions.erase(MODKIT_TIMERS_ID);
      CHECK(code_of([&] { (void)modkit::Timer::after(f.api, 1ms, noop); }) == MODKIT_E_UNSUPPORTED);
      CHECK(message_of([&] { (void)modkit::Timer::every(f.api, 1ms, noop); }) ==
            "the host offers no modkit.timers/1");
      CHECK(code_of([&] { (void)modkit::is_background_instance(f.api); }) == MODKIT_E_UNSUPPORTED);
   }
   SUBCASE("a table too short for the 1.1 functions") {
      f.timers.table.struct_size = offsetof(modkit_timers_api, is_background_instance);
      CHECK(code_of([&] { (void)modkit::Timer::after(f.api, 1ms, noop); }) == MODKIT_E_UNSUPPORTED);
   }
   SUBCASE("the host's refusal") {
      f.timers.refuse = MODKIT_E_STATE;
      CHECK(message_of([&] { (void)modkit::Timer::after(f.api, 1ms, noop); }) == "could not start a timer: state");
   }
   SUBCASE("durations out of range and missing functions") {
      CHECK(code_of([&] { (void)modkit::Timer::every(f.api, 0ms, noop); }) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(code_of([&] { (void)modkit::Timer::after(f.api, -1ms, noop); }) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(code_of([&] { (void)modkit::Timer::after(f.api, std::chrono::hours(24 * 50), noop); }) ==
            MODKIT_E_INVALID_ARGUMENT);
      CHECK(code_of([&] { (void)modkit::Timer::after(f.api, 1ms, std::function<void()>()); }) ==
            MODKIT_E_INVALID_ARGUMENT);
      void (*none)() = nullptr;
      CHECK(code_of([&] { (void)modkit::Timer::after(f.api, 1ms, none); }) == MODKIT_E_INVALID_ARGUMENT);
   }
   std::lock_guard<std::mutex> lock(f.timers.mutex);
   CHECK(f.timers.starts == 0);
}

TEST_CASE("is_background_instance asks the timers service") {
   Fakes f;
   CHECK(modkit::is_background_instance(f.api));
   f.timers.background = false;
   CHECK_FALSE(modkit::is_background_instance(f.api));
}

#if MODKIT_SDK_HAS_COROUTINES

TEST_CASE("a coroutine Timer run suspends through its call and completes it when it ends") {
   Fakes f;
   modkit::Completion<int> next;
   std::atomic<int> got{0};
   std::atomic<bool> resumed_by_resolver{false};
   const std::thread::id test_thread = std::this_thread::get_id();
   modkit::Timer timer = modkit::Timer::every(f.api, 10ms, [&, next]() -> modkit::task<void> {
      got = co_await next;
      resumed_by_resolver = std::this_thread::get_id() == test_thread;
   });
   std::optional<modkit_status> status;
   std::thread service([&] { status = f.timers.fire(timer.id()); });
   REQUIRE(eventually([&] { return f.timers.suspended_runs == 1; }));
   CHECK(got == 0);
   next.set_value(42); // resumes the run here, which completes the host's call
   service.join();
   CHECK(status == MODKIT_OK);
   CHECK(got == 42);
   CHECK(resumed_by_resolver);
   CHECK(f.timers.completions == 1);
   CHECK(f.timers.misuses == 0);
}

TEST_CASE("a coroutine Timer run that throws completes its call with the status, logged") {
   Fakes f;
   modkit::Completion<> go;
   modkit::Timer timer = modkit::Timer::every(f.api, 10ms, [go]() -> modkit::task<void> {
      co_await go;
      throw std::runtime_error("late failure");
   });
   std::optional<modkit_status> status;
   std::thread service([&] { status = f.timers.fire(timer.id()); });
   REQUIRE(eventually([&] { return f.timers.suspended_runs == 1; }));
   go.set_value();
   service.join();
   CHECK(status == MODKIT_E_INTERNAL);
   CHECK(f.host.logged(MODKIT_LOG_ERROR, "timer failed (internal): late failure"));
   CHECK(f.timers.misuses == 0);
}

TEST_CASE("a suspended coroutine run outlives its Timer and sees its call cancelled") {
   Fakes f;
   modkit::Completion<> go;
   std::string seen;
   std::atomic<bool> saw_cancel{false};
   auto timer = std::make_unique<modkit::Timer>(modkit::Timer::every(
      f.api, 10ms, [go, kept = std::string("captured by the function"), &seen, &saw_cancel](modkit::Call &call) -> modkit::task<void> {
         co_await go;
         seen = kept; // the function's captures: freed memory if the run did not own them
         saw_cancel = call.cancelled();
      }));
   const uint64_t id = timer->id();
   std::optional<modkit_status> status;
   std::thread service([&] { status = f.timers.fire(id); });
   REQUIRE(eventually([&] { return f.timers.suspended_runs == 1; }));
   timer.reset(); // does not wait for the suspended run
   CHECK(f.timers.entry(id).cancelled);
   go.set_value();
   service.join();
   CHECK(status == MODKIT_OK);
   CHECK(seen == "captured by the function");
   CHECK(saw_cancel);
}

TEST_CASE("a coroutine Timer run on a call that cannot suspend is run to its end") {
   Fakes f;
   f.timers.suspendable = false;
   modkit::Completion<> go;
   std::atomic<bool> done{false};
   modkit::Timer timer = modkit::Timer::every(f.api, 10ms, [go, &done]() -> modkit::task<void> {
      co_await go;
      done = true;
   });
   std::thread resolver([go]() mutable {
      std::this_thread::sleep_for(20ms);
      go.set_value();
   });
   CHECK(f.timers.fire(timer.id()) == MODKIT_OK); // blocks until the coroutine ended
   CHECK(done);
   resolver.join();
   CHECK(f.timers.suspended_runs == 0);
   CHECK(f.timers.misuses == 0);
}

TEST_CASE("sleep_for resumes the coroutine on a timer's thread after the duration") {
   Fakes f;
   f.timers.autofire = true;
   std::thread::id resumed_on;
   const auto start = std::chrono::steady_clock::now();
   modkit::detail::run_blocking([&]() -> modkit::task<void> {
      co_await modkit::sleep_for(f.api, 30ms);
      resumed_on = std::this_thread::get_id();
   }());
   CHECK(std::chrono::steady_clock::now() - start >= 30ms);
   CHECK(resumed_on != std::this_thread::get_id());
   CHECK(f.timers.entry(1).delay_ms == 30);
   CHECK(f.timers.entry(1).period_ms == 0);

   SUBCASE("a negative duration does not wait") {
      modkit::detail::run_blocking(modkit::sleep_for(f.api, -5ms));
      CHECK(f.timers.entry(2).delay_ms == 0);
   }
   SUBCASE("without a timers service, awaiting it throws") {
      f.host.extensions.erase(MODKIT_TIMERS_ID);
      CHECK(code_of([&] { modkit::detail::run_blocking(modkit::sleep_for(f.api, 1ms)); }) == MODKIT_E_UNSUPPORTED);
   }
}

#endif // MODKIT_SDK_HAS_COROUTINES

// ============================== tasks ==============================

TEST_CASE("run_in_background runs the function on a worker and hands its status to on_done") {
   Fakes f;
   auto probe = std::make_shared<Probe>();
   Flag done;
   std::atomic<modkit_status> reported{-1};
   modkit::BackgroundTask task = modkit::run_in_background(
      f.api, "reindex",
      [probe] {
         probe->ran();
         return MODKIT_E_CONFLICT;
      },
      [&](modkit_status status) {
         reported = status;
         done.set();
      });
   REQUIRE(task);
   CHECK(task.id() != 0);
   REQUIRE(done.wait());
   CHECK(reported == MODKIT_E_CONFLICT);
   CHECK(probe->runs == 1);
   CHECK(probe->last_thread() == f.tasks.worker.id());
   CHECK(f.tasks.last_name() == "reindex");
   CHECK(task.started());
   CHECK_FALSE(task.cancel()); // it ended: the host no longer holds it
}

TEST_CASE("a background task sees cancel() through its call") {
   Fakes f;
   Flag started, done;
   std::atomic<modkit_status> reported{-1};
   modkit::BackgroundTask task = modkit::run_in_background(
      f.api, "long",
      [&](modkit::Call &call) -> modkit_status {
         started.set();
         if (!eventually([&] { return call.cancelled(); })) return MODKIT_E_TIMEOUT;
         return MODKIT_E_CANCELLED;
      },
      [&](modkit_status status) {
         reported = status;
         done.set();
      });
   REQUIRE(started.wait());
   CHECK(task.started());
   CHECK(task.cancel());
   REQUIRE(done.wait());
   CHECK(reported == MODKIT_E_CANCELLED);
}

TEST_CASE("destroying a BackgroundTask cancels it only if it has not started") {
   Fakes f;
   auto probe = std::make_shared<Probe>();
   std::vector<modkit_status> reported;
   std::mutex mutex;
   auto on_done = [&](modkit_status status) {
      std::lock_guard<std::mutex> lock(mutex);
      reported.push_back(status);
   };

   SUBCASE("not started: it never runs, and on_done receives MODKIT_E_CANCELLED") {
      f.tasks.worker.hold();
      {
         modkit::BackgroundTask task = modkit::run_in_background(f.api, "waiting", [probe] { probe->ran(); }, on_done);
         CHECK_FALSE(task.started());
      }
      CHECK(f.tasks.cancel_count() == 1);
      f.tasks.worker.release();
      REQUIRE(f.tasks.worker.drain());
      CHECK(probe->runs == 0);
      std::lock_guard<std::mutex> lock(mutex);
      CHECK(reported == std::vector<modkit_status>{MODKIT_E_CANCELLED});
   }
   SUBCASE("started: it runs to its end, not cancelled") {
      Flag started, finish;
      std::atomic<bool> saw_cancel{true};
      {
         modkit::BackgroundTask task = modkit::run_in_background(
            f.api, "running",
            [&](modkit::Call &call) {
               started.set();
               finish.wait();
               saw_cancel = call.cancelled();
            },
            on_done);
         REQUIRE(started.wait());
      }
      CHECK(f.tasks.cancel_count() == 0);
      finish.set();
      REQUIRE(f.tasks.worker.drain());
      CHECK_FALSE(saw_cancel);
      std::lock_guard<std::mutex> lock(mutex);
      CHECK(reported == std::vector<modkit_status>{MODKIT_OK});
   }
   SUBCASE("detached: it runs although the handle is gone") {
      f.tasks.worker.hold();
      {
         modkit::BackgroundTask task = modkit::run_in_background(f.api, "detached", [probe] { probe->ran(); }, on_done);
         task.detach();
         CHECK_FALSE(task);
      }
      f.tasks.worker.release();
      REQUIRE(f.tasks.worker.drain());
      CHECK(f.tasks.cancel_count() == 0);
      CHECK(probe->runs == 1);
   }
}

TEST_CASE("an exception leaving a background task becomes its status, logged") {
   Fakes f;
   Flag done;
   std::atomic<modkit_status> reported{-1};
   modkit::BackgroundTask task = modkit::run_in_background(
      f.api, "fragile", []() -> modkit_status { throw std::runtime_error("disk full"); },
      [&](modkit_status status) {
         reported = status;
         done.set();
         throw std::runtime_error("on_done too"); // logged, never crosses into the host
      });
   REQUIRE(done.wait());
   REQUIRE(f.tasks.worker.drain());
   CHECK(reported == MODKIT_E_INTERNAL);
   CHECK(f.host.logged(MODKIT_LOG_ERROR, "background task fragile failed (internal): disk full"));
   CHECK(f.host.logged(MODKIT_LOG_ERROR, "on_done too"));
   CHECK(f.tasks.done_statuses() == std::vector<modkit_status>{MODKIT_E_INTERNAL});
}

TEST_CASE("run_in_background throws what the host refuses, and on_done never runs") {
   Fakes f;
   std::atomic<int> dones{0};
   auto on_done = [&](modkit_status) { ++dones; };
   SUBCASE("too many tasks waiting") {
      f.tasks.refuse = MODKIT_E_DENIED;
      CHECK(message_of([&] { (void)modkit::run_in_background(f.api, "x", [] {}, on_done); }) ==
            "could not queue background task x: denied");
   }
   SUBCASE("no tasks service") {
      f.host.extensions.erase(MODKIT_TASKS_ID);
      CHECK(code_of([&] { (void)modkit::run_in_background(f.api, "x", [] {}, on_done); }) == MODKIT_E_UNSUPPORTED);
   }
   REQUIRE(f.tasks.worker.drain());
   CHECK(dones == 0);
}

#if MODKIT_SDK_HAS_COROUTINES

TEST_CASE("offload gives the function's value, or rethrows its exception, to the awaiting coroutine") {
   Fakes f;
   SUBCASE("a value, computed on the worker; move-only functions work") {
      f.tasks.worker.hold(); // so the coroutine surely suspends before the task ends
      std::thread::id computed_on, resumed_on;
      auto big = std::make_unique<int>(21);
      // Named, not a temporary in the co_await expression: g++ 12 destroys the captures of
      // such a temporary twice.
      auto doubled = [&computed_on, p = std::move(big)] {
         computed_on = std::this_thread::get_id();
         return *p * 2;
      };
      auto body = [&]() -> modkit::task<int> {
         const int v = co_await modkit::offload(f.api, "double", std::move(doubled));
         resumed_on = std::this_thread::get_id();
         co_return v;
      };
      Flag finished;
      int value = 0;
      modkit::detail::start_detached(body(), [&](modkit::detail::Outcome<int> &&outcome) noexcept {
         value = outcome.error ? -1 : *outcome.value;
         finished.set();
      });
      CHECK_FALSE(finished.is_set()); // suspended: the worker is held
      f.tasks.worker.release();
      REQUIRE(finished.wait());
      CHECK(value == 42);
      CHECK(computed_on == f.tasks.worker.id());
      CHECK(resumed_on == f.tasks.worker.id()); // done runs there in this fake
      CHECK(f.tasks.last_name() == "double");
   }
   SUBCASE("a string and a void") {
      CHECK(modkit::detail::run_blocking(modkit::offload(f.api, "s", [] { return std::string("text"); })) == "text");
      std::atomic<bool> ran{false};
      modkit::detail::run_blocking(modkit::offload(f.api, "v", [&] { ran = true; }));
      CHECK(ran);
   }
   SUBCASE("the exception, as thrown, not logged by the SDK") {
      std::exception_ptr thrown;
      try {
         modkit::detail::run_blocking(modkit::offload(f.api, "boom", []() -> int { throw std::out_of_range("index 9"); }));
      } catch (...) {
         thrown = std::current_exception();
      }
      // The worker is done with the exception object before this thread reads it: its
      // reference count lives in libstdc++, where TSan cannot see the order.
      REQUIRE(f.tasks.worker.drain());
      CHECK_THROWS_WITH_AS(std::rethrow_exception(thrown), "index 9", std::out_of_range);
      CHECK(f.tasks.done_statuses() == std::vector<modkit_status>{MODKIT_E_INTERNAL});
      CHECK_FALSE(f.host.logged(MODKIT_LOG_ERROR, "index 9"));
   }
   SUBCASE("a task cancelled before it started throws MODKIT_E_CANCELLED") {
      f.tasks.worker.hold();
      std::thread unload([&] {
         eventually([&] { return f.tasks.last_name() == "never"; }); // else the wait below times out
         f.tasks.cancel_waiting();
         f.tasks.worker.release();
      });
      std::atomic<bool> ran{false};
      std::exception_ptr thrown;
      try {
         modkit::detail::run_blocking(modkit::offload(f.api, "never", [&] { ran = true; }));
      } catch (...) {
         thrown = std::current_exception();
      }
      unload.join();
      REQUIRE(f.tasks.worker.drain()); // as above: the worker made the exception
      CHECK(message_of([&] { std::rethrow_exception(thrown); }) == "background task never did not run: cancelled");
      CHECK_FALSE(ran);
   }
   SUBCASE("a refused task throws when awaited") {
      f.tasks.refuse = MODKIT_E_DENIED;
      CHECK(code_of([&] { modkit::detail::run_blocking(modkit::offload(f.api, "x", [] { return 1; })); }) ==
            MODKIT_E_DENIED);
   }
}

#endif // MODKIT_SDK_HAS_COROUTINES

// ============================== http ==============================

namespace {
// The answer a handler got, kept for the test thread.
struct GotHttp {
   Flag done;
   std::mutex mutex;
   int calls = 0;
   modkit_status status = -1;
   std::optional<modkit::HttpResponse> response;
   std::string message;

   modkit::HttpClient::Handler handler() {
      return [this](modkit_status s, modkit::HttpResponse *r, std::string m) {
         {
            std::lock_guard<std::mutex> lock(mutex);
            ++calls;
            status = s;
            if (r) response = std::move(*r);
            message = std::move(m);
         }
         done.set();
      };
   }
};
} // namespace

TEST_CASE("HttpClient sends what HttpRequest says and copies the response out") {
   Fakes f;
   f.http.responder = [](const FakeHttp::Sent &) {
      FakeHttp::Answer a;
      a.http_status = 201;
      a.headers = {{"Content-Type", "application/json"}, {"X-Trace", "t1"}};
      a.body = R"({"score":0.9})";
      return a;
   };
   modkit::HttpRequest req;
   req.method = "POST";
   req.url = "https://int.example.com/v1/score";
   req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer x"}};
   req.body = R"({"user":"@ada:example.org"})";
   req.timeout = 1500ms;
   req.max_response_bytes = 4096;
   req.follow_redirects = true;
   GotHttp got;
   modkit::HttpCall call = modkit::HttpClient(f.api).request(req, got.handler());
   REQUIRE(call);
   REQUIRE(got.done.wait());
   REQUIRE(f.http.worker.drain()); // the fake has scribbled over its response

   const FakeHttp::Sent sent = f.http.last_sent();
   CHECK(sent.method == "POST");
   CHECK(sent.url == "https://int.example.com/v1/score");
   CHECK(sent.headers == req.headers);
   CHECK(sent.body == req.body);
   CHECK(sent.flags == MODKIT_HTTP_FOLLOW_REDIRECTS);
   CHECK(sent.timeout_ms == 1500);
   CHECK(sent.max_response_bytes == 4096);

   std::lock_guard<std::mutex> lock(got.mutex);
   CHECK(got.status == MODKIT_OK);
   CHECK(got.message.empty());
   REQUIRE(got.response.has_value());
   CHECK(got.response->status == 201);
   CHECK(got.response->body == R"({"score":0.9})");
   CHECK(got.response->header("content-type") == std::optional<std::string_view>("application/json"));
   CHECK(got.response->header("x-TRACE") == std::optional<std::string_view>("t1"));
   CHECK_FALSE(got.response->header("Location").has_value());
}

TEST_CASE("a GET without body or options sends none") {
   Fakes f;
   modkit::HttpRequest req;
   req.url = "https://int.example.com/";
   GotHttp got;
   modkit::HttpCall call = modkit::HttpClient(f.api).request(req, got.handler());
   REQUIRE(got.done.wait());
   const FakeHttp::Sent sent = f.http.last_sent();
   CHECK(sent.method == "GET");
   CHECK_FALSE(sent.body.has_value());
   CHECK(sent.flags == 0);
   CHECK(sent.timeout_ms == 0);
}

TEST_CASE("HTTP failures reach the handler with their status and message") {
   Fakes f;
   modkit::HttpRequest req;
   req.url = "https://int.example.com/slow";
   GotHttp got;
   SUBCASE("a timeout: no response") {
      f.http.responder = [](const FakeHttp::Sent &) {
         FakeHttp::Answer a;
         a.status = MODKIT_E_TIMEOUT;
         a.response = false;
         a.message = "no answer within 1500 ms";
         return a;
      };
      modkit::HttpCall call = modkit::HttpClient(f.api).request(req, got.handler());
      REQUIRE(got.done.wait());
      std::lock_guard<std::mutex> lock(got.mutex);
      CHECK(got.status == MODKIT_E_TIMEOUT);
      CHECK_FALSE(got.response.has_value());
      CHECK(got.message == "no answer within 1500 ms");
   }
   SUBCASE("a redirect not followed: the 3xx response comes along") {
      f.http.responder = [](const FakeHttp::Sent &) {
         FakeHttp::Answer a;
         a.status = MODKIT_E_UNSUPPORTED;
         a.http_status = 302;
         a.headers = {{"Location", "https://elsewhere.example.com/"}};
         a.message = "redirect not followed";
         return a;
      };
      modkit::HttpCall call = modkit::HttpClient(f.api).request(req, got.handler());
      REQUIRE(got.done.wait());
      std::lock_guard<std::mutex> lock(got.mutex);
      CHECK(got.status == MODKIT_E_UNSUPPORTED);
      REQUIRE(got.response.has_value());
      CHECK(got.response->status == 302);
   }
}

TEST_CASE("destroying an HttpCall cancels the request, and its handler never runs") {
   Fakes f;
   f.http.worker.hold();
   GotHttp got;
   {
      modkit::HttpRequest req;
      req.url = "https://int.example.com/";
      modkit::HttpCall call = modkit::HttpClient(f.api).request(req, got.handler());
   }
   CHECK(f.http.cancel_count() == 1);
   f.http.worker.release();
   REQUIRE(f.http.worker.drain());
   CHECK(f.http.done_statuses() == std::vector<modkit_status>{MODKIT_E_CANCELLED}); // done ran: slot freed
   CHECK_FALSE(got.done.is_set());
}

TEST_CASE("HttpCall::cancel keeps the handler, which receives MODKIT_E_CANCELLED") {
   Fakes f;
   f.http.worker.hold();
   GotHttp got;
   modkit::HttpRequest req;
   req.url = "https://int.example.com/";
   modkit::HttpCall call = modkit::HttpClient(f.api).request(req, got.handler());
   CHECK(call.cancel());
   CHECK_FALSE(call.cancel()); // once
   f.http.worker.release();
   REQUIRE(got.done.wait());
   std::lock_guard<std::mutex> lock(got.mutex);
   CHECK(got.status == MODKIT_E_CANCELLED);
   CHECK(got.calls == 1);
}

TEST_CASE("destroying an HttpCall waits for its handler running on another thread") {
   Fakes f;
   Flag entered;
   std::atomic<bool> finished{false};
   modkit::HttpRequest req;
   req.url = "https://int.example.com/";
   auto call = std::make_unique<modkit::HttpCall>(
      modkit::HttpClient(f.api).request(req, [&](modkit_status, modkit::HttpResponse *, std::string) {
         entered.set();
         std::this_thread::sleep_for(100ms);
         finished = true;
      }));
   REQUIRE(entered.wait());
   call.reset();
   CHECK(finished);
}

TEST_CASE("an HttpCall destroyed by its own handler does not wait for itself") {
   Fakes f;
   Flag done;
   modkit::HttpRequest req;
   req.url = "https://int.example.com/";
   modkit::HttpCall call;
   f.http.worker.hold(); // until call holds the request
   call = modkit::HttpClient(f.api).request(req, [&](modkit_status, modkit::HttpResponse *, std::string) {
      call = modkit::HttpCall(); // would hang if the reset waited for this very handler
      done.set();
   });
   f.http.worker.release();
   REQUIRE(done.wait());
   REQUIRE(f.http.worker.drain());
}

TEST_CASE("an exception from an HTTP handler is logged") {
   Fakes f;
   Flag thrown;
   modkit::HttpRequest req;
   req.url = "https://int.example.com/";
   modkit::HttpCall call = modkit::HttpClient(f.api).request(req, [&](modkit_status, modkit::HttpResponse *, std::string) {
      thrown.set();
      throw std::runtime_error("bad score");
   });
   REQUIRE(thrown.wait());
   REQUIRE(f.http.worker.drain());
   CHECK(f.host.logged(MODKIT_LOG_ERROR, "HTTP request callback failed (internal): bad score"));
}

TEST_CASE("HttpClient throws what cannot start, and the handler never runs") {
   Fakes f;
   GotHttp got;
   modkit::HttpRequest req;
   req.url = "https://denied.example.com/";
   SUBCASE("a URL the module is not granted") {
      CHECK(message_of([&] { (void)modkit::HttpClient(f.api).request(req, got.handler()); }) ==
            "HTTP GET https://denied.example.com/ was refused: denied");
   }
   SUBCASE("a timeout out of range") {
      req.url = "https://int.example.com/";
      req.timeout = -1ms;
      CHECK(code_of([&] { (void)modkit::HttpClient(f.api).request(req, got.handler()); }) == MODKIT_E_INVALID_ARGUMENT);
   }
   SUBCASE("no handler") {
      req.url = "https://int.example.com/";
      CHECK(code_of([&] { (void)modkit::HttpClient(f.api).request(req, nullptr); }) == MODKIT_E_INVALID_ARGUMENT);
   }
   SUBCASE("no HTTP service, or a short table") {
      f.http.table.struct_size = offsetof(modkit_http_api, cancel);
      CHECK(message_of([&] { modkit::HttpClient client(f.api); }) == "the host offers no modkit.http/1");
      f.host.extensions.erase(MODKIT_HTTP_ID);
      CHECK(code_of([&] { modkit::HttpClient client(f.api); }) == MODKIT_E_UNSUPPORTED);
   }
   REQUIRE(f.http.worker.drain());
   CHECK_FALSE(got.done.is_set());
}

#if MODKIT_SDK_HAS_COROUTINES

TEST_CASE("HttpClient::fetch gives the response or throws the failure") {
   Fakes f;
   modkit::HttpRequest req;
   req.url = "https://int.example.com/v1";
   SUBCASE("a response, whatever its HTTP status") {
      f.http.responder = [](const FakeHttp::Sent &) {
         FakeHttp::Answer a;
         a.http_status = 404;
         a.body = "no such user";
         return a;
      };
      const modkit::HttpClient client(f.api);
      modkit::task<modkit::HttpResponse> pending = client.fetch(req);
      req.url = "https://changed.example.com/"; // the task kept its own copy
      const modkit::HttpResponse r = modkit::detail::run_blocking(std::move(pending));
      CHECK(r.status == 404);
      CHECK(r.body == "no such user");
      CHECK(f.http.last_sent().url == "https://int.example.com/v1");
   }
   SUBCASE("a failure") {
      f.http.responder = [](const FakeHttp::Sent &) {
         FakeHttp::Answer a;
         a.status = MODKIT_E_INTERNAL;
         a.response = false;
         a.message = "connection refused";
         return a;
      };
      try {
         (void)modkit::detail::run_blocking(modkit::HttpClient(f.api).fetch(req));
         FAIL("fetch did not throw");
      } catch (const modkit::Error &e) {
         CHECK(e.code() == MODKIT_E_INTERNAL);
         CHECK(std::string(e.what()) == "HTTP GET https://int.example.com/v1 failed (internal): connection refused");
      }
   }
   SUBCASE("a redirect not followed") {
      f.http.responder = [](const FakeHttp::Sent &) {
         FakeHttp::Answer a;
         a.status = MODKIT_E_UNSUPPORTED;
         a.http_status = 301;
         a.headers = {{"location", "https://elsewhere.example.com/"}};
         a.message = "redirect not followed";
         return a;
      };
      try {
         (void)modkit::detail::run_blocking(modkit::HttpClient(f.api).fetch(req));
         FAIL("fetch did not throw");
      } catch (const modkit::Error &e) {
         CHECK(e.code() == MODKIT_E_UNSUPPORTED);
         CHECK(std::string(e.what()) == "HTTP GET https://int.example.com/v1: answered 301 (a redirect to "
                                        "https://elsewhere.example.com/), not followed: redirect not followed");
      }
   }
   SUBCASE("a refusal, when awaited") {
      req.url = "https://denied.example.com/";
      CHECK(code_of([&] { (void)modkit::detail::run_blocking(modkit::HttpClient(f.api).fetch(req)); }) ==
            MODKIT_E_DENIED);
   }
}

#endif // MODKIT_SDK_HAS_COROUTINES

// ============================== storage ==============================

namespace {
struct StorageAnswer {
   Flag done;
   std::mutex mutex;
   modkit_status status = -1;
   json result;
   std::string message;

   modkit::Storage::Handler handler() {
      return [this](modkit_status s, json r, std::string m) {
         {
            std::lock_guard<std::mutex> lock(mutex);
            status = s;
            result = std::move(r);
            message = std::move(m);
         }
         done.set();
      };
   }
};
} // namespace

TEST_CASE("Storage passes statements and parameters, and parses the result") {
   Fakes f;
   modkit::Storage db(f.api);
   CHECK(db.table_prefix() == "services_test_");
   StorageAnswer got;

   SUBCASE("execute with parameters") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_OK, R"({"rows":[{"text":"hi","n":1}],"changes":0})", ""};
      };
      db.execute("SELECT text, n FROM services_test_notes WHERE user = ? AND n > ?", json{"@ada:example.org", 0},
                 got.handler());
      REQUIRE(got.done.wait());
      const auto received = f.storage.all_received();
      REQUIRE(received.size() == 1);
      CHECK(received[0].kind == "execute");
      CHECK(received[0].text == "SELECT text, n FROM services_test_notes WHERE user = ? AND n > ?");
      CHECK(received[0].params == std::optional<std::string>(R"(["@ada:example.org",0])"));
      std::lock_guard<std::mutex> lock(got.mutex);
      CHECK(got.status == MODKIT_OK);
      CHECK(got.result["rows"][0]["text"] == "hi");
      CHECK(got.message.empty());
   }
   SUBCASE("execute without parameters sends none") {
      db.execute("DELETE FROM services_test_notes", nullptr, got.handler());
      REQUIRE(got.done.wait());
      CHECK_FALSE(f.storage.all_received()[0].params.has_value());
   }
   SUBCASE("batch") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_OK, R"([{"rows":[],"changes":1},{"rows":[],"changes":2}])", ""};
      };
      const json statements = {{{"sql", "INSERT INTO services_test_a VALUES (?)"}, {"params", {1}}},
                               {{"sql", "UPDATE services_test_b SET n = 0"}, {"params", json::array()}}};
      db.batch(statements, got.handler());
      REQUIRE(got.done.wait());
      const auto received = f.storage.all_received();
      CHECK(received[0].kind == "batch");
      CHECK(json::parse(received[0].text) == statements);
      std::lock_guard<std::mutex> lock(got.mutex);
      CHECK(got.result.size() == 2);
      CHECK(got.result[1]["changes"] == 2);
   }
}

TEST_CASE("Storage failures reach the handler with a null result and the message") {
   Fakes f;
   modkit::Storage db(f.api);
   StorageAnswer got;
   SUBCASE("a constraint") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_E_CONFLICT, "", "UNIQUE constraint failed: services_test_notes.id"};
      };
      db.execute("INSERT INTO services_test_notes VALUES (1)", nullptr, got.handler());
      REQUIRE(got.done.wait());
      std::lock_guard<std::mutex> lock(got.mutex);
      CHECK(got.status == MODKIT_E_CONFLICT);
      CHECK(got.result.is_null());
      CHECK(got.message == "UNIQUE constraint failed: services_test_notes.id");
   }
   SUBCASE("malformed JSON from the service") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_OK, R"({"rows":[)", ""};
      };
      db.execute("SELECT 1", nullptr, got.handler());
      REQUIRE(got.done.wait());
      std::lock_guard<std::mutex> lock(got.mutex);
      CHECK(got.status == MODKIT_E_INTERNAL);
      CHECK(got.result.is_null());
      CHECK(got.message == "the storage service answered with malformed JSON");
   }
   SUBCASE("an exception from the handler is logged") {
      Flag thrown;
      db.execute("SELECT 1", nullptr, [&](modkit_status, json, std::string) {
         thrown.set();
         throw std::runtime_error("bad row");
      });
      REQUIRE(thrown.wait());
      REQUIRE(f.storage.worker.drain());
      CHECK(f.host.logged(MODKIT_LOG_ERROR, "storage callback failed (internal): bad row"));
   }
}

TEST_CASE("Storage throws what cannot start, and the handler never runs") {
   Fakes f;
   StorageAnswer got;
   SUBCASE("params that are not an array") {
      modkit::Storage db(f.api);
      CHECK(code_of([&] { db.execute("SELECT ?", json{{"a", 1}}, got.handler()); }) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(code_of([&] { db.batch(json::object(), got.handler()); }) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(f.storage.all_received().empty());
   }
   SUBCASE("the host's refusal") {
      modkit::Storage db(f.api);
      f.storage.refuse = MODKIT_E_STATE;
      CHECK(message_of([&] { db.execute("SELECT 1", nullptr, got.handler()); }) ==
            "storage execute was refused: state");
   }
   SUBCASE("no storage service") {
      f.host.extensions.erase(MODKIT_STORAGE_ID);
      CHECK(message_of([&] { modkit::Storage db(f.api); }) == "the host offers no modkit.storage/1");
   }
   REQUIRE(f.storage.worker.drain());
   CHECK_FALSE(got.done.is_set());
}

#if MODKIT_SDK_HAS_COROUTINES

TEST_CASE("Storage::query and transaction give the result or throw the failure") {
   Fakes f;
   const modkit::Storage db(f.api);
   SUBCASE("query") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_OK, R"({"rows":[{"n":7}],"changes":0})", ""};
      };
      const json r = modkit::detail::run_blocking(db.query("SELECT n FROM services_test_t WHERE k = ?", {"k1"}));
      CHECK(r["rows"][0]["n"] == 7);
      CHECK(f.storage.all_received()[0].params == std::optional<std::string>(R"(["k1"])"));
   }
   SUBCASE("transaction") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_OK, R"([{"rows":[],"changes":1}])", ""};
      };
      const json r = modkit::detail::run_blocking(
         db.transaction(json::array({{{"sql", "DELETE FROM services_test_t"}, {"params", json::array()}}})));
      CHECK(r[0]["changes"] == 1);
      CHECK(f.storage.all_received()[0].kind == "batch");
   }
   SUBCASE("a failure is thrown with the service's status and message") {
      f.storage.responder = [](const FakeStorage::Received &) {
         return FakeStorage::Answer{MODKIT_E_DENIED, "", "table users is outside the prefix services_test_"};
      };
      try {
         (void)modkit::detail::run_blocking(db.query("SELECT * FROM users"));
         FAIL("query did not throw");
      } catch (const modkit::Error &e) {
         CHECK(e.code() == MODKIT_E_DENIED);
         CHECK(std::string(e.what()) == "table users is outside the prefix services_test_");
      }
   }
}

#endif // MODKIT_SDK_HAS_COROUTINES

// ============================== metrics ==============================

TEST_CASE("Metrics registers families and updates the series they pick") {
   Fakes f;
   modkit::Metrics metrics(f.api);
   const modkit::CounterFamily checked = metrics.counter("events_checked", "Events seen", {"verdict"});
   const FakeMetric *m = f.metrics.find("events_checked");
   REQUIRE(m != nullptr);
   CHECK(m->kind == MODKIT_METRIC_COUNTER);
   CHECK(m->help == "Events seen");
   CHECK(m->labels == std::vector<std::string>{"verdict"});

   const modkit::Counter spam = checked.with({"spam"});
   CHECK(checked.with({"spam"}).get() == spam.get()); // the same series for the same labels
   spam.add();
   spam.add(4);
   CHECK(reinterpret_cast<FakeSeries *>(spam.get())->count == 5);
   CHECK(reinterpret_cast<FakeSeries *>(spam.get())->labels == std::vector<std::string>{"spam"});

   const modkit::Gauge queue = metrics.gauge("queue_depth", "Waiting events").with({});
   queue.set(3.5);
   queue.add(-1.0);
   CHECK(reinterpret_cast<FakeSeries *>(queue.get())->value == 2.5);

   const modkit::Histogram latency =
      metrics.histogram("check_seconds", "Time per check", {"room"}, {0.01, 0.1, 1.0}).with({"!r:example.org"});
   CHECK(f.metrics.find("check_seconds")->buckets == std::vector<double>{0.01, 0.1, 1.0});
   latency.observe(0.25);
   latency.observe(0.5);
   CHECK(reinterpret_cast<FakeSeries *>(latency.get())->observations == 2);
   CHECK(reinterpret_cast<FakeSeries *>(latency.get())->sum == 0.75);

   SUBCASE("an unbound series ignores updates") {
      const int adds = f.metrics.counter_adds, observations = f.metrics.observations;
      const modkit::Counter unbound;
      unbound.add(3);
      modkit::Histogram().observe(1.0);
      CHECK(unbound.get() == nullptr);
      CHECK(f.metrics.counter_adds == adds);
      CHECK(f.metrics.observations == observations);
   }
}

TEST_CASE("metric updates allocate nothing") {
   Fakes f;
   modkit::Metrics metrics(f.api);
   const modkit::Counter c = metrics.counter("hits", "Hits", {"kind"}).with({"a"});
   const modkit::Gauge g = metrics.gauge("level", "Level").with({});
   const modkit::Histogram h = metrics.histogram("sizes", "Sizes").with({});
   f.metrics.counter_adds = 0;

#if SERVICES_TESTS_COUNT_ALLOCATIONS
   // The counter itself works: a deliberate allocation is seen.
   const std::size_t before_probe = thread_allocations;
   int *volatile deliberate = new int(1); // volatile: the allocation cannot be elided
   delete deliberate;
   const std::size_t probe_allocations = thread_allocations - before_probe;
   const std::size_t before = thread_allocations;
#endif
   for (int i = 0; i < 1000; ++i) {
      const modkit::Counter copy = c; // handles are copied by value on hot paths
      copy.add();
      g.set(i);
      g.add(1.0);
      h.observe(i * 0.001);
   }
#if SERVICES_TESTS_COUNT_ALLOCATIONS
   const std::size_t made = thread_allocations - before;
   CHECK(probe_allocations == 1);
   CHECK(made == 0);
#endif
   // Every update reached the host's lock- and allocation-free functions, once.
   CHECK(f.metrics.counter_adds == 1000);
   CHECK(f.metrics.gauge_sets == 1000);
   CHECK(f.metrics.gauge_adds == 1000);
   CHECK(f.metrics.observations == 1000);
}

TEST_CASE("metric registration and series errors are thrown with the host's status") {
   Fakes f;
   modkit::Metrics metrics(f.api);
   const modkit::CounterFamily family = metrics.counter("requests", "Requests", {"method", "code"});

   CHECK(message_of([&] { (void)metrics.counter("requests", "again"); }) ==
         "could not register metric requests: conflict");
   CHECK(code_of([&] { (void)metrics.gauge("Bad-Name", "x"); }) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(code_of([&] { (void)metrics.histogram("h", "x", {}, {1.0, 0.5}); }) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(code_of([&] { (void)family.with({"GET"}); }) == MODKIT_E_INVALID_ARGUMENT); // two labels
   CHECK(code_of([&] { (void)family.with({"1", "2", "3", "4", "5", "6", "7", "8", "9"}); }) ==
         MODKIT_E_INVALID_ARGUMENT);
   (void)family.with({"GET", "200"});
   (void)family.with({"GET", "404"});
   (void)family.with({"PUT", "200"});
   CHECK(message_of([&] { (void)family.with({"PUT", "500"}); }) ==
         "metric requests: could not pick a series: denied"); // past the fake's cap of 3
   CHECK(code_of([&] { (void)modkit::CounterFamily().with({}); }) == MODKIT_E_STATE);

   f.host.extensions.erase(MODKIT_METRICS_ID);
   CHECK(message_of([&] { modkit::Metrics none(f.api); }) == "the host offers no modkit.metrics/1");
}

// ============================== Call::set_error ==============================

TEST_CASE("Call::set_error attaches an error when the host keeps one") {
   Fakes f;
   RecordingCall call;
   const modkit::Call c(&f.table, &call);

   SUBCASE("with extra fields") {
      CHECK(c.set_error("M_LIMIT_EXCEEDED", "slow down", json{{"retry_after_ms", 500}}) == MODKIT_OK);
      CHECK(call.errcode == "M_LIMIT_EXCEEDED");
      CHECK(call.message == "slow down");
      CHECK(call.extra == std::optional<std::string>(R"({"retry_after_ms":500})"));
   }
   SUBCASE("without: extra is absent, not \"null\"") {
      CHECK(c.set_error("M_FORBIDDEN", "no") == MODKIT_OK);
      CHECK_FALSE(call.extra.has_value());
   }
   SUBCASE("the host's refusal is returned, not thrown") {
      CHECK(c.set_error("m_forbidden", "lower case") == MODKIT_E_INVALID_ARGUMENT);
      call.keeps_errors = false;
      CHECK(c.set_error("M_FORBIDDEN", "no") == MODKIT_E_UNSUPPORTED);
      CHECK(call.set_errors == 2);
   }
   SUBCASE("an extra that is not an object never reaches the host") {
      CHECK(c.set_error("M_FORBIDDEN", "no", json::array({1})) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(call.set_errors == 0);
   }
}

TEST_CASE("Call::set_error is MODKIT_E_UNSUPPORTED where the host has no call_set_error") {
   Fakes f;
   RecordingCall call;
   SUBCASE("a 1.0 host: its table ends before the 1.1 fields") {
      modkit_host_api old = f.table;
      old.struct_size = offsetof(modkit_host_api, call_can_suspend);
      const modkit::Call c(&old, &call);
      CHECK(c.set_error("M_FORBIDDEN", "no") == MODKIT_E_UNSUPPORTED);
   }
   SUBCASE("a 1.1 table that leaves it null") {
      const modkit::Call c(f.host.api(), &call);
      CHECK(c.set_error("M_FORBIDDEN", "no") == MODKIT_E_UNSUPPORTED);
   }
   SUBCASE("no call handle") {
      const modkit::Call c(&f.table, nullptr);
      CHECK(c.set_error("M_FORBIDDEN", "no") == MODKIT_E_UNSUPPORTED);
   }
   CHECK(call.set_errors == 0);
}
