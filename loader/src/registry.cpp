#include "registry.hpp"

#include "min_sizes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace modkit::loader {

namespace {

constexpr uint32_t max_callbacks_size = 64 * 1024; // far beyond any real category

bool valid_combine(modkit_combine c) {
   return c >= MODKIT_COMBINE_FIRST_NON_ZERO && c <= MODKIT_COMBINE_CHAINED;
}
bool valid_on_error(modkit_on_error e) {
   return e >= MODKIT_ON_ERROR_FAIL_OPEN && e <= MODKIT_ON_ERROR_PROPAGATE;
}

} // namespace

bool is_normalised_web_path(const std::string &path) {
   if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
   for (char c : path) {
      if (c <= ' ' || c >= 127 || c == '?' || c == '#' || c == '\\') return false;
   }
   size_t start = 1;
   while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      const std::string part = path.substr(start, end - start);
      if (part.empty() || part == "." || part == "..") return false;
      start = end + 1;
   }
   return true;
}

bool Registry::add_category(const modkit_category *c, std::string &error) {
   if (!c || c->struct_size < min_size::category) {
      error = fmt::format("category descriptor is null or its struct_size is below {} (ABI 1.0)", min_size::category);
      return false;
   }
   const std::string id = c->id ? c->id : "";
   if (id.empty()) {
      error = "category descriptor has no id";
      return false;
   }
   if (find_category(c->id) >= 0) {
      error = fmt::format("category {} is given twice", id);
      return false;
   }
   if (c->callbacks_size < sizeof(uint32_t) || c->callbacks_size > max_callbacks_size) {
      error = fmt::format("category {}: callbacks_size {} is out of range", id, c->callbacks_size);
      return false;
   }
   if (c->slot_count > 0 && !c->slots) {
      error = fmt::format("category {}: slot_count is {} but slots is null", id, c->slot_count);
      return false;
   }
   if (c->type_count > 0 && !c->types) {
      error = fmt::format("category {}: type_count is {} but types is null", id, c->type_count);
      return false;
   }
   for (uint32_t i = 0; i < c->slot_count; ++i) {
      const modkit_slot_desc &s = c->slots[i];
      const std::string name = s.name ? s.name : "";
      if (name.empty() || !s.signature) {
         error = fmt::format("category {}: slot {} has no name or no signature", id, i);
         return false;
      }
      if (s.offset < sizeof(uint32_t) || s.offset % alignof(void (*)(void)) != 0 ||
          s.offset + sizeof(void (*)(void)) > c->callbacks_size) {
         error = fmt::format("category {}: slot {} offset {} is outside the callbacks struct ({} bytes)",
                             id, name, s.offset, c->callbacks_size);
         return false;
      }
      if (!valid_combine(s.combine) || !valid_on_error(s.on_error)) {
         error = fmt::format("category {}: slot {} has an unknown combine or on_error policy", id, name);
         return false;
      }
      if (s.combine == MODKIT_COMBINE_CHAINED) {
         bool found = false;
         for (uint32_t j = 0; s.chain_to && j < c->slot_count; ++j)
            found = found || (c->slots[j].name && std::strcmp(c->slots[j].name, s.chain_to) == 0);
         if (!found) {
            error = fmt::format("category {}: slot {} chains to \"{}\", which is not a slot of the category",
                                id, name, s.chain_to ? s.chain_to : "");
            return false;
         }
      }
      for (uint32_t j = 0; j < i; ++j) {
         if (std::strcmp(c->slots[j].name, s.name) == 0) {
            error = fmt::format("category {}: slot {} is listed twice", id, name);
            return false;
         }
      }
   }
   CategoryState state;
   state.desc = c;
   state.slots.resize(c->slot_count);
   categories_.push_back(std::move(state));
   publish({}); // no reader can hold a snapshot yet: categories are added before any load
   free_retired();
   return true;
}

Registry::Registry() { publish({}); }

Registry::~Registry() = default;

long Registry::find_category(const char *id) const {
   if (!id) return -1;
   for (size_t i = 0; i < categories_.size(); ++i) {
      if (std::strcmp(categories_[i].desc->id, id) == 0) return static_cast<long>(i);
   }
   return -1;
}

Refusal Registry::stage_callbacks(modkit_host &host, const char *category_id, uint16_t major,
                                  uint16_t minor, const void *callbacks, void *user_data) const {
   if (!category_id || !callbacks)
      return {MODKIT_E_INVALID_ARGUMENT, "register_callbacks needs a category ID and a callbacks struct"};
   const long index = find_category(category_id);
   if (index < 0)
      return {MODKIT_E_NOT_FOUND, fmt::format("the host does not provide category {}", category_id)};
   if (std::find(host.registers.begin(), host.registers.end(), category_id) == host.registers.end())
      return {MODKIT_E_NOT_FOUND,
              fmt::format("category {} is not declared in the module's manifest (\"registers\")", category_id)};
   const modkit_category &cat = *categories_[static_cast<size_t>(index)].desc;
   if (major != cat.major)
      return {MODKIT_E_VERSION_MISMATCH,
              fmt::format("category {}: module registers version {}.{}, host provides {}.{}", category_id,
                          major, minor, cat.major, cat.minor)};
   uint32_t size = 0;
   std::memcpy(&size, callbacks, sizeof size);
   if (size < sizeof(uint32_t) || size > max_callbacks_size)
      return {MODKIT_E_INVALID_ARGUMENT,
              fmt::format("category {}: callbacks struct_size {} is out of range", category_id, size)};
   // A module built against a newer minor may register, as long as every slot the host does
   // not know is left null: the host could never call it.
   using fn_t = void (*)(void);
   const auto *bytes = static_cast<const unsigned char *>(callbacks);
   for (uint32_t off = cat.callbacks_size; off + sizeof(fn_t) <= size; off += sizeof(fn_t)) {
      fn_t fn = nullptr;
      std::memcpy(&fn, bytes + off, sizeof fn);
      if (fn)
         return {MODKIT_E_VERSION_MISMATCH,
                 fmt::format("category {}: the module sets a callback at offset {}, which host version "
                             "{}.{} does not have (module built against {}.{})",
                             category_id, off, cat.major, cat.minor, major, minor)};
   }
   for (const auto &s : host.staged.callbacks) {
      if (s.category == static_cast<size_t>(index))
         return {MODKIT_E_CONFLICT,
                 fmt::format("category {}: the module already registered its callbacks", category_id)};
   }
   StagedCallbacks staged;
   staged.category = static_cast<size_t>(index);
   staged.user_data = user_data;
   staged.slots.resize(cat.slot_count, nullptr);
   for (uint32_t i = 0; i < cat.slot_count; ++i) {
      const uint32_t off = cat.slots[i].offset;
      if (off + sizeof(fn_t) <= size) std::memcpy(&staged.slots[i], bytes + off, sizeof(fn_t));
   }
   host.staged.callbacks.push_back(std::move(staged));
   return {};
}

Refusal Registry::stage_web_resource(modkit_host &host, const char *path, modkit_web_handler handler,
                                     void *user_data, const std::vector<std::string> &reserved,
                                     const std::vector<std::string> &module_names) const {
   if (!path || !handler)
      return {MODKIT_E_INVALID_ARGUMENT, "register_web_resource needs a path and a handler"};
   const std::string p = path;
   if (!is_normalised_web_path(p))
      return {MODKIT_E_INVALID_ARGUMENT,
              fmt::format("web path \"{}\" is not a normalised absolute path (expected e.g. "
                          "\"/_modkit/my_module/hello\")", p)};
   for (const auto &prefix : reserved) {
      std::string bare = prefix;
      while (!bare.empty() && bare.back() == '/') bare.pop_back();
      if (p == bare || p.compare(0, bare.size() + 1, bare + "/") == 0)
         return {MODKIT_E_DENIED, fmt::format("web path \"{}\" is inside the host's reserved prefix \"{}\"", p, prefix)};
   }
   for (const auto &w : web_) {
      // A module being reloaded may take over its previous instance's paths.
      if (w.path == p && w.module_index != host.module_index)
         return {MODKIT_E_CONFLICT,
                 fmt::format("web path \"{}\" is already served by module '{}', which comes first in the config",
                             p, module_names.at(w.module_index))};
   }
   for (const auto &w : host.staged.web_resources) {
      if (w.path == p)
         return {MODKIT_E_CONFLICT, fmt::format("web path \"{}\" is registered twice by this module", p)};
   }
   host.staged.web_resources.push_back({p, handler, user_data});
   return {};
}

Refusal Registry::stage_cache(modkit_host &host, const char *name, modkit_cache_invalidate_fn fn,
                              void *user_data) const {
   if (!name || !*name || !fn)
      return {MODKIT_E_INVALID_ARGUMENT, "register_cached_function needs a name and an invalidate function"};
   for (const auto &c : host.staged.caches) {
      if (c.name == name)
         return {MODKIT_E_CONFLICT, fmt::format("cached function \"{}\" is registered twice", name)};
   }
   host.staged.caches.push_back({name, fn, user_data});
   return {};
}

namespace {

// Inserts item after every element of a lower or equal module index, so each list stays in
// config order even when a module in the middle is reloaded.
template <class T>
void insert_in_order(std::vector<T> &list, T item) {
   auto at = std::find_if(list.begin(), list.end(), [&](const T &x) { return x.module_index > item.module_index; });
   list.insert(at, std::move(item));
}

} // namespace

uint32_t Registry::metric_id(const std::string &module, const std::string &category_id, const std::string &slot) {
   auto key = std::make_tuple(module, category_id, slot);
   auto it = metric_ids_.find(key);
   if (it != metric_ids_.end()) return it->second;
   {
      std::lock_guard<std::mutex> lock(metrics_mutex_);
      metric_names_.push_back({module, category_id, slot});
   }
   const auto id = static_cast<uint32_t>(metric_names_.size());
   metric_ids_.emplace(std::move(key), id);
   return id;
}

size_t Registry::metric_count() const {
   std::lock_guard<std::mutex> lock(metrics_mutex_);
   return metric_names_.size();
}

const MetricName *Registry::metric_name(size_t index) const {
   std::lock_guard<std::mutex> lock(metrics_mutex_);
   return index < metric_names_.size() ? &metric_names_[index] : nullptr;
}

void Registry::commit(modkit_host &host) {
   const auto module = static_cast<uint32_t>(host.module_index);
   for (const auto &s : host.staged.callbacks) {
      auto &cat = categories_[s.category];
      for (size_t i = 0; i < s.slots.size(); ++i) {
         if (!s.slots[i]) continue;
         const uint32_t metric = metric_id(host.name, cat.desc->id, cat.desc->slots[i].name);
         insert_in_order(cat.slots[i], modkit_loader_entry{s.slots[i], s.user_data, module, metric});
      }
   }
   for (const auto &w : host.staged.web_resources)
      insert_in_order(web_, WebResource{w.path, w.handler, w.user_data, module,
                                        metric_id(host.name, MODKIT_LOADER_WEB_RESOURCE_METRICS, w.path)});
   for (const auto &c : host.staged.caches) insert_in_order(caches_, Cache{c.name, c.invalidate, c.user_data, module});
   host.staged = Staged{};
}

void Registry::remove_module(uint32_t module_index) {
   revoke(module_index);
   auto shift = [&](uint32_t &index) {
      if (index > module_index) --index;
   };
   for (auto &cat : categories_) {
      for (auto &slot : cat.slots) {
         for (auto &e : slot) shift(e.module_index);
      }
   }
   for (auto &w : web_) shift(w.module_index);
   for (auto &c : caches_) shift(c.module_index);
}

void Registry::revoke(uint32_t module_index) {
   for (auto &cat : categories_) {
      for (auto &e : cat.slots) {
         e.erase(std::remove_if(e.begin(), e.end(),
                                [&](const modkit_loader_entry &x) { return x.module_index == module_index; }),
                 e.end());
      }
   }
   web_.erase(std::remove_if(web_.begin(), web_.end(),
                             [&](const WebResource &w) { return w.module_index == module_index; }),
              web_.end());
   caches_.erase(std::remove_if(caches_.begin(), caches_.end(),
                                [&](const Cache &c) { return c.module_index == module_index; }),
                 caches_.end());
}

void Registry::publish(const std::vector<ModuleInfo> &modules) {
   auto snap = std::make_unique<Snapshot>();
   for (const auto &m : modules) {
      snap->module_names.push_back(m.name);
      snap->module_views.push_back(m.view);
      snap->pending.push_back(m.pending);
      snap->instances.push_back(m.instance);
   }
   snap->entries.resize(categories_.size());
   snap->slot_arrays.resize(categories_.size());
   for (size_t c = 0; c < categories_.size(); ++c) {
      const CategoryState &cat = categories_[c];
      snap->entries[c] = cat.slots;
      auto &slots = snap->slot_arrays[c];
      slots.resize(cat.slots.size());
      for (size_t s = 0; s < cat.slots.size(); ++s)
         slots[s] = {cat.desc, &cat.desc->slots[s], snap->entries[c][s].data(), snap->entries[c][s].size()};
      snap->slot_pointers.push_back(slots.data());
      snap->counts.push_back(static_cast<uint32_t>(slots.size()));
   }
   for (const auto &w : web_) {
      snap->web.push_back({snap->strings.emplace_back(w.path).c_str(), w.handler, w.user_data, w.module_index});
      snap->web_metrics.push_back(w.metric);
   }
   for (const auto &c : caches_) {
      snap->cache_list.push_back({snap->strings.emplace_back(c.name).c_str(), c.module_index});
      snap->cache_functions.emplace_back(c.invalidate, c.user_data);
   }
   modkit_loader_snapshot &view = *snap;
   view.struct_size = sizeof(modkit_loader_snapshot);
   view.category_count = static_cast<uint32_t>(categories_.size());
   view.slots = snap->slot_pointers.data();
   view.slot_counts = snap->counts.data();
   view.web_resource_count = snap->web.size();
   view.web_resources = snap->web.data();
   view.cache_count = snap->cache_list.size();
   view.caches = snap->cache_list.data();
   view.generation = ++generation_;
   view.module_count = snap->module_views.size();
   view.modules = snap->module_views.data();
   view.web_resource_metrics = snap->web_metrics.data();
   __atomic_store_n(&published_, static_cast<const modkit_loader_snapshot *>(snap.get()), __ATOMIC_RELEASE);
   if (current_) retired_.push_back(std::move(current_));
   current_ = std::move(snap);
}

std::vector<std::unique_ptr<Snapshot>> Registry::take_retired() { return std::move(retired_); }

void Registry::free_retired() { retired_.clear(); }

} // namespace modkit::loader
