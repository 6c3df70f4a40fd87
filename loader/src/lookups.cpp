// lookups.cpp - what hosts read of the registry outside dispatch: modules, slots, web
// resources, caches and metrics. Each reads the published snapshot inside a read section of
// the calling thread, never the writer's lists, so it is safe beside an unload or reload.
#include "loader.hpp"
#include "read_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace modkit::loader {

bool Loader::lookup_allowed(const char *function) const {
   // Inside a read section the answer lives as long as the section does. Outside one it lives
   // until the next change of the module set, so a change running on another thread right now
   // could free it under the caller: refuse that, loudly, instead.
   if (!changing_.load(std::memory_order_acquire) || epoch_.in_read_section()) return true;
   if (changer_.load(std::memory_order_relaxed) == std::this_thread::get_id()) return true;
   logf(MODKIT_LOG_ERROR, nullptr,
        fmt::format("{} called outside a read section while another thread unloads or reloads a module; "
                    "refused: what it returns could be freed under the caller (dispatch in a read section)",
                    function));
   return false;
}

Loader::ChangeScope::ChangeScope(Loader &loader) : loader_(loader) {
   loader_.changer_.store(std::this_thread::get_id(), std::memory_order_relaxed);
   loader_.changing_.store(true, std::memory_order_release);
}

Loader::ChangeScope::~ChangeScope() { loader_.changing_.store(false, std::memory_order_release); }

size_t Loader::module_count() {
   ReadSection section(reader());
   return section.snapshot().module_views.size();
}

template <class T>
const T *Loader::item_at(const char *function, size_t index, const std::vector<T> Snapshot::*list) {
   if (!lookup_allowed(function)) return nullptr;
   ReadSection section(reader());
   const std::vector<T> &items = section.snapshot().*list;
   return index < items.size() ? &items[index] : nullptr;
}

const modkit_loader_module *Loader::module_at(size_t index) {
   return item_at("modkit_loader_module_at", index, &Snapshot::module_views);
}

const modkit_loader_slot *Loader::slot_at(size_t category, uint32_t slot, modkit_status &status) {
   status = MODKIT_E_STATE;
   if (!lookup_allowed("modkit_loader_slot_at")) return nullptr;
   ReadSection section(reader());
   const modkit_loader_slot *found =
      modkit_loader_snapshot_slot(&section.snapshot(), static_cast<uint32_t>(category), slot);
   status = found ? MODKIT_OK : MODKIT_E_NOT_FOUND;
   return found;
}

const modkit_loader_slot *Loader::find_slot(size_t category, const char *name, modkit_status &status) {
   status = MODKIT_E_STATE;
   if (!lookup_allowed("modkit_loader_find_slot")) return nullptr;
   ReadSection section(reader());
   status = MODKIT_E_NOT_FOUND;
   const Snapshot &snap = section.snapshot();
   if (category >= snap.slot_arrays.size() || !name) return nullptr;
   for (const auto &s : snap.slot_arrays[category]) {
      if (std::strcmp(s.desc->name, name) == 0) {
         status = MODKIT_OK;
         return &s;
      }
   }
   return nullptr;
}

size_t Loader::web_resource_count() {
   ReadSection section(reader());
   return section.snapshot().web.size();
}

const modkit_loader_web_resource *Loader::web_resource_at(size_t index) {
   return item_at("modkit_loader_web_resource_at", index, &Snapshot::web);
}

size_t Loader::cache_count() {
   ReadSection section(reader());
   return section.snapshot().cache_list.size();
}

const modkit_loader_cache *Loader::cache_at(size_t index) {
   return item_at("modkit_loader_cache_at", index, &Snapshot::cache_list);
}

modkit_status Loader::metric_at(size_t index, modkit_loader_metric &out) const {
   const MetricName *name = registry_.metric_name(index);
   if (!name) return MODKIT_E_NOT_FOUND;
   const modkit_loader_counter counts = epoch_.sum(static_cast<uint32_t>(index + 1));
   modkit_loader_metric m{};
   m.struct_size = out.struct_size;
   m.module = name->module.c_str();
   m.category_id = name->category_id.c_str();
   m.slot = name->slot.c_str();
   m.calls = counts.calls;
   m.errors = counts.errors;
   m.timed_calls = counts.timed_calls;
   m.timed_ns = counts.timed_ns;
   std::memcpy(&out, &m, std::min<size_t>(out.struct_size, sizeof m));
   return MODKIT_OK;
}

} // namespace modkit::loader
