// loader.hpp - the pipeline: resolve, trust, inspect, link, configure, init, then the registry.
#pragma once

#include "config.hpp"
#include "dynamic.hpp"
#include "epoch.hpp"
#include "json_category.hpp"
#include "errors.hpp"
#include "host_state.hpp"
#include "registry.hpp"
#include "services/services.hpp"
#include "timers.hpp"
#include "trust.hpp"

#include <modkit/loader.h>

#include <atomic>
#include <memory>
#include <thread>
#include <string>
#include <vector>

namespace modkit::loader {

struct Module {
   ModuleSpec spec;
   std::string path;
   std::string manifest_name;
   void *handle = nullptr;
   std::string load_name; // the name dlopen was given
   std::vector<pid_t> threads; // threads that appeared during init: the module's own
   const modkit_module *desc = nullptr;
   void *instance = nullptr;
   bool initialised = false;
   std::string config_json; // normalised
   std::string description;
   std::unique_ptr<modkit_host> host;
   modkit_loader_module view{};
   // Calls suspended in this instance (modkit_loader_pin), to name a module whose calls never
   // complete. Atomic: counted by any thread that suspends or completes a call.
   std::atomic<uint32_t> pending{0};
};

class Loader {
public:
   explicit Loader(const modkit_loader_options &options);
   ~Loader();
   Loader(const Loader &) = delete;
   Loader &operator=(const Loader &) = delete;

   // Validates the host's category descriptors; false (and logs, and sets error) if one is
   // malformed.
   bool init_categories(std::string &error);

   modkit_status load(const std::string &config_text);
   modkit_status load_file(const std::string &path);
   void unload_all();
   modkit_status unload_module(const char *name);
   modkit_status reload_module(const char *name);

   // The dynamic path (see modkit_loader_dispatch_json / _call_json / _describe_json).
   modkit_status dispatch_json(const char *category_id, const char *slot_name, const std::string &args,
                               modkit_call *call, nlohmann::json &result) const;
   modkit_status call_json(const char *module_name, const char *category_id, const char *slot_name,
                           const std::string &args, modkit_call *call, nlohmann::json &result) const;
   // modkit_loader_dispatch_json_async: done runs exactly once, also when nothing could start.
   modkit_status dispatch_json_async(const char *category_id, const char *slot_name, const std::string &args,
                                     std::string_view request_id, int64_t deadline_ns, JsonDone done,
                                     AsyncHandle &handle) const;
   // The C handle this loader is, for what modules and timers call back into.
   modkit_loader *handle() const { return self_; }
   void set_handle(modkit_loader *self) { self_ = self; }
   nlohmann::json describe() const;

   const Errors &errors() const { return errors_; }
   const std::vector<modkit_loader_error> &error_views() const { return error_views_; }
   const std::vector<std::unique_ptr<Module>> &modules() const { return modules_; }
   Registry &registry() { return registry_; }
   const Registry &registry() const { return registry_; }

   void log(modkit_log_level level, const char *module, modkit_str message) const;
   void logf(modkit_log_level level, const char *module, const std::string &message) const;

   // modkit_host_api services, for the module that owns host.
   modkit_status register_callbacks(modkit_host *host, const char *category_id, uint16_t major,
                                    uint16_t minor, const void *callbacks, void *user_data);
   modkit_status register_web_resource(modkit_host *host, const char *path, modkit_web_handler handler,
                                       void *user_data);
   modkit_status register_cached_function(modkit_host *host, const char *name,
                                          modkit_cache_invalidate_fn fn, void *user_data);
   // module_name NULL means the module whose host is self (NULL for none: the C API's calls).
   modkit_status invalidate_cache(const char *module_name, const modkit_host *self, const char *name,
                                  const modkit_str *key_json);
   modkit_loader_reader *reader() const { return epoch_.reader(registry_.current_location()); }
   Timers &timers() const { return timers_; }
   services::Services &services() const { return services_; }
   const Epoch &epoch() const { return epoch_; }

   // Lookups for hosts (lookups.cpp): each reads the published snapshot in a read section.
   size_t module_count();
   const modkit_loader_module *module_at(size_t index);
   const modkit_loader_slot *slot_at(size_t category, uint32_t slot, modkit_status &status);
   const modkit_loader_slot *find_slot(size_t category, const char *name, modkit_status &status);
   size_t web_resource_count();
   const modkit_loader_web_resource *web_resource_at(size_t index);
   size_t cache_count();
   const modkit_loader_cache *cache_at(size_t index);
   size_t metric_count() const { return registry_.metric_count(); }
   modkit_status metric_at(size_t index, modkit_loader_metric &out) const;
   bool has_capability(const char *id) const;
   // modkit_loader_metrics_text's text (metrics_text.cpp).
   std::string metrics_text(uint32_t what) const;
   const void *get_extension(const char *id) const;

private:
   // Stages that have no side effects outside this process's address space; run for every
   // module so that every error is reported at once.
   bool prepare(Module &module, size_t index);
   bool inspect(Module &module, const TrustedFile &file, std::vector<std::string> &registers);
   bool configure(Module &module);
   // Runs init; on success the module's registrations are staged on its host, not yet live.
   bool initialise(Module &module);
   void go_live(Module &module);
   // Publishes the registry's edits as a snapshot of modules_.
   void publish();
   // Publishes the registry's edits and waits until no read section can see the old snapshot,
   // then until no suspended call pins a retired snapshot that holds one of leaving (bounded by
   // pending_wait_ms). False when it gave up waiting; the log names the modules that hold pins.
   bool publish_and_wait(const std::vector<const Module *> &leaving = {});
   bool wait_for_pins(const std::vector<const Module *> &leaving);
   // Frees retired snapshots no call pins any more, and retires parked modules none holds.
   void release_unpinned();
   // True when a retired snapshot still pinned by suspended calls holds module.
   bool lingering_hold(const Module &module) const;
   // Keeps a module whose calls never completed: unpublished, but neither deinitialised nor
   // closed until release_unpinned finds it free.
   void park(std::unique_ptr<Module> module);
   // Retires a module whose registrations are already unpublished: stops what it started through
   // the services, then closes it; if that work does not end in time, keeps it in abandoned_.
   void retire(std::unique_ptr<Module> module);
   // deinit and dlclose, once nothing the module started runs any more.
   void close(Module &module);
   // Stops and drains what the module started through the services (the loader's and a host's
   // replacements); false when some of it did not end in time: the module must stay as it is.
   bool stop_services(Module &module);
   long find_module(const char *name) const;
   DispatchContext dispatch_context(const Snapshot &snapshot, modkit_loader_reader *reader) const;
   // Finds a slot by name, parses the arguments, then runs call(snapshot, slot, invoker, args,
   // context) in a read section: what dispatch_json and call_json share.
   template <class Call>
   modkit_status with_dynamic_slot(const char *category_id, const char *slot_name, const std::string &args_text,
                                   nlohmann::json &result, Call &&call) const;
   // Finds category and slot indices by ID and name, with the slot's invoker.
   modkit_status find_dynamic(const char *category_id, const char *slot_name, size_t &category, size_t &slot,
                              const invoke::Invoker *&invoker, nlohmann::json &result) const;
   void unload(std::unique_ptr<Module> module);
   void fail(Module *module, Stage stage, modkit_status code, std::string pointer, std::string message);
   // False (and logged) when a lookup outside a read section races a change of the module set.
   bool lookup_allowed(const char *function) const;
   // The index-th element of one of the current snapshot's lists, or null (out of range, or a
   // lookup racing a change: lookup_allowed).
   template <class T>
   const T *item_at(const char *function, size_t index, const std::vector<T> Snapshot::*list);

   // Marks an unload or reload in progress, for lookup_allowed.
   class ChangeScope {
   public:
      explicit ChangeScope(Loader &loader);
      ~ChangeScope();
      ChangeScope(const ChangeScope &) = delete;
      ChangeScope &operator=(const ChangeScope &) = delete;

   private:
      Loader &loader_;
   };
   // Looks a module up for unload or reload: its index, or -1 with the error recorded.
   long find_for_change(const char *name, const char *function);
   void publish_errors();

   modkit_loader_options options_{};
   std::string categories_json_;
   CategoryStore category_store_;
   DynamicSlots dynamic_;
   std::vector<std::string> dirs_; // module_path, made absolute
   std::string base_dir_;
   std::vector<std::string> reserved_web_;
   Registry registry_;
   mutable Epoch epoch_;
   mutable Timers timers_;
   mutable services::Services services_{*this};
   std::vector<std::unique_ptr<Module>> modules_;
   std::vector<std::string> module_names_; // descriptor names by module index, for messages
   Errors errors_;
   std::vector<modkit_loader_error> error_views_;
   std::vector<std::string> error_texts_;
   bool loaded_ = false;
   // Retired snapshots still pinned by suspended calls, and the modules they keep loaded. The
   // writer's alone (the thread that changes the module set).
   std::vector<std::unique_ptr<Snapshot>> lingering_;
   std::vector<std::unique_ptr<Module>> parked_;
   // Modules whose work through the services had not ended when they were retired: neither
   // deinitialised nor closed, with their host (that work still uses it), until the work ends
   // (release_abandoned). The writer's alone.
   std::vector<std::unique_ptr<Module>> abandoned_;
   // Closes the abandoned modules whose work has ended since.
   void release_abandoned();
   uint32_t pending_wait_ms_ = 10000;
   // Set by the thread changing the module set while it does; read by lookups on any thread.
   std::atomic<bool> changing_{false};
   std::atomic<std::thread::id> changer_{};
   modkit_loader *self_ = nullptr;
};

} // namespace modkit::loader

struct modkit_loader {
   modkit::loader::Loader impl;
   explicit modkit_loader(const modkit_loader_options &options) : impl(options) { impl.set_handle(this); }
};
