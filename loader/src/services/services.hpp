// services.hpp - the loader's default implementation of the standard services (timers, tasks,
// HTTP, storage, metrics): one small runtime per loader, started on first use, shared by all
// modules.
//
// Ownership: the Loader owns one Services. live_mutex_ guards live_; engines_mutex_ guards the
// pools' and the engines' creation; each module's own state has its own lock
// (module_services.hpp). Lock order: live_mutex_, then a module's mutex, then engines_mutex_,
// then a pool's or an engine's own. Module code never runs under any of them.
#pragma once

#include "module_services.hpp"
#include "pool.hpp"
#include "settings.hpp"

#include <modkit/modkit.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace modkit::loader {
class Loader;
}

namespace modkit::loader::services {

class HttpClient;
class SqlService;

class Services {
public:
   explicit Services(Loader &loader);
   ~Services();
   // Stops the engines and the pools, waiting for what runs on them. [the loader's destruction]
   void shutdown();
   Services(const Services &) = delete;
   Services &operator=(const Services &) = delete;

   // The host config's settings; base_dir resolves a relative storage path. [main-thread]
   void configure(const Settings &settings, const std::string &base_dir);
   const Settings &settings() const { return settings_; }

   // The default implementation of a standard service ID ("modkit.timers/1", ...), or null.
   // [thread-safe]
   static const void *extension(const char *id);

   // Gives host its service state (grants from its config entry); before parse_config.
   // [main-thread]
   void attach(modkit_host &host, const std::string &name, const ModuleGrants &grants);
   // Just before the module's init: from now on it may start work. [main-thread]
   void open(modkit_host &host);
   // Before the module's deinit: nothing new starts; armed timers and waiting tasks are
   // cancelled (their done called); waits up to wait_ms for what runs to end and for every
   // completion to be delivered. False when something is still running (the log names it,
   // unless wait_ms is 0: a poll): the module must then not be deinitialised. [main-thread]
   bool drain(modkit_host &host, uint32_t wait_ms);
   // After deinit: forgets host's state (and its metrics). [main-thread]
   void detach(modkit_host &host);

   Pool &events();
   Pool &tasks();
   HttpClient &http();
   SqlService &storage();
   Loader &loader() const { return loader_; }
   void log(modkit_log_level level, const ModuleServices &module, const std::string &message) const;

   // Every live module's metrics in the Prometheus text format, appended to out. [thread-safe]
   void render_metrics(std::string &out) const;
   // Calls f(live modules) with the list locked: modules neither come nor go meanwhile. Lock
   // order: this, then a module's mutex. [thread-safe]
   template <class F>
   auto with_live(F &&f) const {
      std::lock_guard<std::mutex> lock(live_mutex_);
      return f(static_cast<const std::vector<ModuleServices *> &>(live_));
   }

private:
   Loader &loader_;
   Settings settings_;
   std::string storage_path_;
   mutable std::mutex live_mutex_, engines_mutex_;
   std::unique_ptr<Pool> events_, tasks_;
   std::unique_ptr<HttpClient> http_;
   std::unique_ptr<SqlService> storage_;
   std::vector<ModuleServices *> live_;
};

// The services of the module whose handle host is (null for a host the loader did not make).
ModuleServices *module_services(modkit_host *host);
Services *services_of(modkit_host *host);

} // namespace modkit::loader::services
