#include "services.hpp"

#include "../loader.hpp"
#include "http_client.hpp"
#include "sql_store.hpp"
#include "service_parts.hpp"
#include "sql_service.hpp"

#include <modkit/services/http.h>
#include <modkit/services/metrics.h>
#include <modkit/services/storage.h>
#include <modkit/services/tasks.h>
#include <modkit/services/timers.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace modkit::loader::services {

// The storage file a host gets without a "storage" setting: beside its config, kept across restarts.
constexpr const char *default_storage_file = "modkit-storage.sqlite3";

ModuleServices::ModuleServices() = default;
ModuleServices::~ModuleServices() = default;

void leave(ModuleServices &m) {
   std::lock_guard<std::mutex> lock(m.mutex);
   if (--m.active == 0) m.idle.notify_all();
}

Submission::Submission(ModuleServices &m) : m_(m) {
   std::lock_guard<std::mutex> lock(m.mutex);
   admitted_ = m.open;
   if (admitted_) ++m.submitting;
}

Submission::~Submission() {
   if (!admitted_) return;
   std::lock_guard<std::mutex> lock(m_.mutex);
   if (--m_.submitting == 0) m_.idle.notify_all();
}

ModuleServices *module_services(modkit_host *host) { return host ? host->services.get() : nullptr; }

Services *services_of(modkit_host *host) {
   return host && host->loader ? &host->loader->services() : nullptr;
}

Services::Services(Loader &loader) : loader_(loader) {}

Services::~Services() { shutdown(); }

void Services::shutdown() {
   // Engines first: they deliver completions through the event pool.
   std::unique_ptr<HttpClient> http;
   std::unique_ptr<SqlService> storage;
   {
      std::lock_guard<std::mutex> lock(engines_mutex_);
      http.swap(http_);
      storage.swap(storage_);
   }
   http.reset();
   storage.reset();
   if (events_) events_->stop();
   if (tasks_) tasks_->stop();
}

void Services::configure(const Settings &settings, const std::string &base_dir) {
   settings_ = settings;
   storage_path_ = settings.storage_path.empty() ? default_storage_file : settings.storage_path;
   if (storage_path_ != ":memory:" && storage_path_.front() != '/' && !base_dir.empty())
      storage_path_ = base_dir + "/" + storage_path_;
}

const void *Services::extension(const char *id) {
   if (!id) return nullptr;
   if (std::strcmp(id, MODKIT_TIMERS_ID) == 0) return &timers_table;
   if (std::strcmp(id, MODKIT_TASKS_ID) == 0) return &tasks_table;
   if (std::strcmp(id, MODKIT_HTTP_ID) == 0) return &http_table;
   if (std::strcmp(id, MODKIT_STORAGE_ID) == 0) return &storage_table;
   if (std::strcmp(id, MODKIT_METRICS_ID) == 0) return &metrics_table;
   return nullptr;
}

void Services::attach(modkit_host &host, const std::string &name, const ModuleGrants &grants) {
   auto m = std::make_unique<ModuleServices>();
   m->name = name;
   m->prefix = table_prefix_for(name);
   m->grants = grants;
   std::lock_guard<std::mutex> lock(live_mutex_);
   live_.push_back(m.get());
   host.services = std::move(m);
}

void Services::open(modkit_host &host) {
   if (!host.services) return;
   std::lock_guard<std::mutex> lock(host.services->mutex);
   host.services->open = true;
}

bool Services::drain(modkit_host &host, uint32_t wait_ms) {
   ModuleServices *m = host.services.get();
   if (!m) return true;
   std::vector<std::shared_ptr<TaskRun>> waiting;
   {
      std::unique_lock<std::mutex> lock(m->mutex);
      m->open = false;
      cancel_timers_locked(*this, *m);
      waiting = take_waiting_tasks_locked(*m);
      // Requests admitted before open went false are queued in their engine before it drains.
      // Brief: a submission runs no module code and waits for nothing.
      m->idle.wait(lock, [&] { return m->submitting == 0; });
   }
   for (auto &task : waiting) finish_cancelled_task(*m, *task);
   // The engines answer the module's requests MODKIT_E_CANCELLED and return once every done has.
   // Their done callbacks are module code: never under a lock of ours. The engines live until shutdown().
   HttpClient *http = nullptr;
   SqlService *storage = nullptr;
   {
      std::lock_guard<std::mutex> lock(engines_mutex_);
      http = http_.get();
      storage = storage_.get();
   }
   if (http) http->drain(m);
   if (storage) storage->drain(m);
   std::unique_lock<std::mutex> lock(m->mutex);
   if (m->idle.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return m->active == 0; })) return true;
   if (wait_ms == 0) return false; // a poll (release_abandoned): reported when it was retired
   std::string what;
   for (const auto &t : m->timers) what += fmt::format("{}timer {}", what.empty() ? "" : ", ", t.first);
   for (const auto &t : m->tasks) what += fmt::format("{}task {}", what.empty() ? "" : ", ", task_name(*t.second));
   lock.unlock();
   loader_.logf(MODKIT_LOG_ERROR, m->name.c_str(),
                fmt::format("work started through the services did not end within {} ms ({}); the module is "
                            "neither deinitialised nor closed",
                            wait_ms, what.empty() ? "a completion on its way" : what));
   return false;
}

void Services::detach(modkit_host &host) {
   if (!host.services) return;
   {
      std::lock_guard<std::mutex> lock(live_mutex_);
      live_.erase(std::remove(live_.begin(), live_.end(), host.services.get()), live_.end());
   }
   host.services.reset();
}

Pool &Services::events() {
   std::lock_guard<std::mutex> lock(engines_mutex_);
   if (!events_) events_ = std::make_unique<Pool>(settings_.event_threads);
   return *events_;
}

Pool &Services::tasks() {
   std::lock_guard<std::mutex> lock(engines_mutex_);
   if (!tasks_) tasks_ = std::make_unique<Pool>(settings_.task_threads);
   return *tasks_;
}

HttpClient &Services::http() {
   std::lock_guard<std::mutex> lock(engines_mutex_);
   if (!http_) http_ = std::make_unique<HttpClient>();
   return *http_;
}

SqlService &Services::storage() {
   std::lock_guard<std::mutex> lock(engines_mutex_);
   if (!storage_) storage_ = std::make_unique<SqlService>(storage_path_);
   return *storage_;
}

void Services::log(modkit_log_level level, const ModuleServices &module, const std::string &message) const {
   loader_.logf(level, module.name.c_str(), message);
}

void Services::render_metrics(std::string &out) const {
   with_live([&](const std::vector<ModuleServices *> &live) {
      for (ModuleServices *m : live) render_module_metrics(*m, out);
   });
}

} // namespace modkit::loader::services
