// registry.hpp - categories the host offers, and what modules registered, in config order.
#pragma once

#include "host_state.hpp"

#include <modkit/loader.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

namespace modkit::loader {

// The registry's immutable published form; see modkit_loader_snapshot.
struct Snapshot : modkit_loader_snapshot {
   std::vector<std::vector<std::vector<modkit_loader_entry>>> entries; // [category][slot] -> registrants
   std::vector<std::vector<modkit_loader_slot>> slot_arrays;
   std::vector<const modkit_loader_slot *> slot_pointers;
   std::vector<uint32_t> counts;
   std::deque<std::string> strings; // web paths and cache names, owned here
   std::vector<modkit_loader_web_resource> web;
   std::vector<modkit_loader_cache> cache_list;
   std::vector<std::pair<modkit_cache_invalidate_fn, void *>> cache_functions; // per cache_list entry
   std::vector<uint32_t> web_metrics;      // per web resource, its metric
   std::vector<std::string> module_names; // by module index
   std::vector<modkit_loader_module> module_views; // by module index; strings owned by the modules
   // Suspended calls hold pins (modkit_loader_pin): while pins is not zero, the snapshot and
   // its modules stay. pending[i] counts module i's suspended calls, to name a module whose
   // calls never complete; instances[i] is that module (the loader's Module), by identity.
   mutable std::atomic<uint64_t> pins{0};
   std::vector<std::atomic<uint32_t> *> pending;
   std::vector<const void *> instances;
};

// The names a metric counts under; see modkit_loader_metric. Web resources count under the
// category "modkit.web_resource", with their path as the slot.
struct MetricName {
   std::string module;
   std::string category_id;
   std::string slot;
};

// What modules registered, in config order. The writer side (one thread: load, unload,
// reload) edits it and publishes immutable snapshots that dispatching threads read.
class Registry {
public:
   Registry();
   ~Registry();
   Registry(const Registry &) = delete;
   Registry &operator=(const Registry &) = delete;

   // Checks a host-defined category descriptor before accepting it (offsets inside the
   // callbacks struct, known policies, chain targets, unique IDs).
   bool add_category(const modkit_category *category, std::string &error);

   size_t category_count() const { return categories_.size(); }
   const modkit_category *category(size_t index) const { return categories_[index].desc; }
   // Index of the category with this ID, or -1.
   long find_category(const char *id) const;

   // Validates a register_callbacks call and stages it on host.
   Refusal stage_callbacks(modkit_host &host, const char *category_id, uint16_t major,
                           uint16_t minor, const void *callbacks, void *user_data) const;
   // Validates a web path against the reserved prefixes and what is registered already.
   Refusal stage_web_resource(modkit_host &host, const char *path, modkit_web_handler handler,
                              void *user_data, const std::vector<std::string> &reserved,
                              const std::vector<std::string> &module_names) const;
   Refusal stage_cache(modkit_host &host, const char *name, modkit_cache_invalidate_fn fn,
                       void *user_data) const;

   // Writer side: edits take effect for readers at the next publish().
   // Adds host's staged registrations, in config order (after a successful init).
   void commit(modkit_host &host);
   // Removes every registration of a module.
   void revoke(uint32_t module_index);
   // Revokes a module and closes the gap: later modules' indices drop by one.
   void remove_module(uint32_t module_index);
   // Makes the edits visible as a new snapshot of the given modules (by module index). The
   // previous one is retired: it stays valid for readers until free_retired(), which the
   // caller runs after a grace period.
   struct ModuleInfo {
      std::string name;
      modkit_loader_module view;
      std::atomic<uint32_t> *pending;
      const void *instance;
   };
   void publish(const std::vector<ModuleInfo> &modules);
   // Hands the retired snapshots over (to wait for their pins) or frees them.
   std::vector<std::unique_ptr<Snapshot>> take_retired();
   void free_retired();

   // Metrics: one per (module name, category, slot) ever registered; see modkit_loader_metric.
   // [thread-safe]
   size_t metric_count() const;
   // The names of metric index (0-based), or null; valid as long as the registry.
   const MetricName *metric_name(size_t index) const;

   // The current snapshot, and the location readers load it from. current() is the writer's
   // view; other threads read published snapshots only inside read sections.
   const Snapshot &current() const { return *current_; }
   const modkit_loader_snapshot *const volatile *current_location() const { return &published_; }


private:
   struct CategoryState {
      const modkit_category *desc = nullptr;
      std::vector<std::vector<modkit_loader_entry>> slots; // registrants per slot
   };
   struct WebResource {
      std::string path;
      modkit_web_handler handler;
      void *user_data;
      uint32_t module_index;
      uint32_t metric;
   };
   struct Cache {
      std::string name;
      modkit_cache_invalidate_fn invalidate;
      void *user_data;
      uint32_t module_index;
   };

   std::vector<CategoryState> categories_;
   std::vector<WebResource> web_;
   std::vector<Cache> caches_;
   std::unique_ptr<Snapshot> current_;
   const modkit_loader_snapshot *volatile published_ = nullptr; // what readers load
   std::vector<std::unique_ptr<Snapshot>> retired_;
   uint64_t generation_ = 0;

   // The metric of a registration, made on first use (1-based). [writer]
   uint32_t metric_id(const std::string &module, const std::string &category_id, const std::string &slot);
   // Appended by the writer, read by anyone: metrics_mutex_ guards the deque's shape (its
   // elements never move or change once appended). metric_ids_ is the writer's alone.
   mutable std::mutex metrics_mutex_;
   std::deque<MetricName> metric_names_;
   std::map<std::tuple<std::string, std::string, std::string>, uint32_t> metric_ids_;
};

// A normalised absolute web path: starts with '/', no empty, "." or ".." segments, no
// trailing '/', only printable ASCII without spaces, '?' or '#'.
bool is_normalised_web_path(const std::string &path);

} // namespace modkit::loader
