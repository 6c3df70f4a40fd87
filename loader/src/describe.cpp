// describe.cpp - modkit_loader_describe_json: the loaded modules, what each registered, and the
// categories, as JSON.
#include "loader.hpp"
#include "read_section.hpp"

#include <fmt/format.h>

namespace modkit::loader {

nlohmann::json Loader::describe() const {
   static const char *const combines[] = {"first_non_zero", "all_true", "run_all", "merge", "single", "keyed", "chained"};
   static const char *const on_errors[] = {"fail_open", "fail_closed", "propagate"};
   // Everything below comes from one snapshot, so a concurrent unload or reload cannot change
   // it halfway or free it under us.
   ReadSection section(reader());
   const Snapshot &snap = section.snapshot();
   nlohmann::json modules = nlohmann::json::array();
   for (size_t i = 0; i < snap.module_views.size(); ++i) {
      const modkit_loader_module &m = snap.module_views[i];
      nlohmann::json registrations = nlohmann::json::object();
      for (size_t c = 0; c < snap.entries.size(); ++c) {
         for (size_t s = 0; s < snap.entries[c].size(); ++s) {
            for (const modkit_loader_entry &e : snap.entries[c][s]) {
               const modkit_category *cat = registry_.category(c);
               if (e.module_index == i) registrations[cat->id].push_back(cat->slots[s].name);
            }
         }
      }
      nlohmann::json web = nlohmann::json::array(), caches = nlohmann::json::array();
      for (const auto &w : snap.web)
         if (w.module_index == i) web.push_back(w.path);
      for (const auto &c : snap.cache_list)
         if (c.module_index == i) caches.push_back(c.name);
      modules.push_back({{"name", m.name}, {"version", m.version}, {"description", m.description},
                         {"path", m.path}, {"position", m.position},
                         {"config", nlohmann::json::parse(m.config_json, nullptr, false)},
                         {"registrations", registrations}, {"web_resources", web}, {"cached_functions", caches}});
   }
   nlohmann::json categories = nlohmann::json::array();
   for (size_t c = 0; c < registry_.category_count(); ++c) {
      const modkit_category *cat = registry_.category(c);
      nlohmann::json slots = nlohmann::json::array();
      for (uint32_t s = 0; s < cat->slot_count; ++s) {
         const modkit_slot_desc &d = cat->slots[s];
         slots.push_back({{"name", d.name}, {"signature", d.signature}, {"combine", combines[d.combine]},
                          {"on_error", on_errors[d.on_error]}, {"chain_to", d.chain_to ? nlohmann::json(d.chain_to) : nlohmann::json()},
                          {"out_max", d.out_max}, {"since", d.since_minor}});
      }
      nlohmann::json types = nlohmann::json::array();
      for (uint32_t t = 0; t < cat->type_count; ++t) {
         const modkit_type_desc &type = cat->types[t];
         nlohmann::json fields = nlohmann::json::array();
         for (uint32_t f = 0; f < type.field_count; ++f)
            fields.push_back({{"name", type.fields[f].name}, {"type", type.fields[f].type}, {"offset", type.fields[f].offset}});
         types.push_back({{"name", type.name}, {"size", type.size}, {"fields", fields}});
      }
      // The same shape categories_json takes, so a host in another language can start from it.
      categories.push_back({{"id", cat->id}, {"major", cat->major}, {"minor", cat->minor},
                            {"version", fmt::format("{}.{}", cat->major, cat->minor)}, {"slots", slots}, {"types", types}});
   }
   return {{"modules", modules}, {"categories", categories}};
}

} // namespace modkit::loader
