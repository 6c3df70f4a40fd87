// registry.hpp - categories the host offers, and what modules registered, in config order.
#pragma once

#include "host_state.hpp"

#include <modkit/loader.h>

#include <memory>
#include <string>
#include <vector>

namespace modkit::loader {

class Registry {
public:
   // Checks a host-defined category descriptor before accepting it (offsets inside the
   // callbacks struct, known policies, chain targets, unique IDs).
   bool add_category(const modkit_category *category, std::string &error);

   size_t category_count() const { return categories_.size(); }
   const modkit_category *category(size_t index) const { return categories_[index]->desc; }
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

   // Appends host's staged registrations to the live registry (after a successful init).
   void commit(modkit_host &host);
   // Removes every registration of a module (before its deinit).
   void revoke(uint32_t module_index);
   // Revokes a module and closes the gap: later modules' indices drop by one.
   void remove_module(uint32_t module_index);
   // The slots a module registered, as {category index, slot index} pairs.
   template <class F>
   void for_each_registration(uint32_t module_index, F &&f) const {
      for (size_t c = 0; c < categories_.size(); ++c) {
         for (size_t s = 0; s < categories_[c]->slots.size(); ++s) {
            for (const auto &e : categories_[c]->slots[s].entries) {
               if (e.module_index == module_index) f(c, s);
            }
         }
      }
   }

   const modkit_loader_slot *slot(size_t category, size_t slot) const;
   const modkit_loader_slot *find_slot(size_t category, const char *name) const;

   const std::vector<modkit_loader_web_resource> &web_resources() const { return web_views_; }
   const std::vector<modkit_loader_cache> &caches() const { return cache_views_; }
   // The invalidate function of a module's cache, or false.
   bool find_cache(uint32_t module_index, const std::string &name, modkit_cache_invalidate_fn &fn,
                   void **user_data) const;

private:
   struct SlotState {
      modkit_loader_slot view{};
      std::vector<modkit_loader_entry> entries;
   };
   struct CategoryState {
      const modkit_category *desc = nullptr;
      std::vector<SlotState> slots;
   };
   struct WebResource {
      std::string path;
      modkit_web_handler handler;
      void *user_data;
      uint32_t module_index;
   };
   struct Cache {
      std::string name;
      modkit_cache_invalidate_fn invalidate;
      void *user_data;
      uint32_t module_index;
   };

   void rebuild_views();

   // unique_ptr keeps each category's slot views at a stable address as categories are added.
   std::vector<std::unique_ptr<CategoryState>> categories_;
   std::vector<WebResource> web_;
   std::vector<Cache> caches_;
   std::vector<modkit_loader_web_resource> web_views_;
   std::vector<modkit_loader_cache> cache_views_;
};

// A normalised absolute web path: starts with '/', no empty, "." or ".." segments, no
// trailing '/', only printable ASCII without spaces, '?' or '#'.
bool is_normalised_web_path(const std::string &path);

} // namespace modkit::loader
