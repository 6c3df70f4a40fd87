// host_services.cpp - what the host API offers a module through its modkit_host: registration
// during init, cache invalidation, capabilities and extensions.
#include "loader.hpp"
#include "read_section.hpp"

#include <fmt/format.h>

#include <cstring>

namespace modkit::loader {

modkit_status Loader::register_callbacks(modkit_host *host, const char *category_id, uint16_t major,
                                         uint16_t minor, const void *callbacks, void *user_data) {
   if (host->state != modkit_host::State::initialising) {
      logf(MODKIT_LOG_WARNING, host->name.c_str(),
           fmt::format("register_callbacks({}) outside init refused", category_id ? category_id : "null"));
      return MODKIT_E_STATE;
   }
   Refusal r = registry_.stage_callbacks(*host, category_id, major, minor, callbacks, user_data);
   if (r.code != MODKIT_OK) host->staged.refusals.push_back(r.why);
   return r.code;
}

modkit_status Loader::register_web_resource(modkit_host *host, const char *path, modkit_web_handler handler,
                                            void *user_data) {
   if (host->state != modkit_host::State::initialising) {
      logf(MODKIT_LOG_WARNING, host->name.c_str(), "register_web_resource outside init refused");
      return MODKIT_E_STATE;
   }
   Refusal r = registry_.stage_web_resource(*host, path, handler, user_data, reserved_web_, module_names_);
   if (r.code == MODKIT_E_CONFLICT)
      logf(MODKIT_LOG_WARNING, host->name.c_str(), r.why + "; this module's handler is ignored");
   else if (r.code != MODKIT_OK)
      host->staged.refusals.push_back(r.why);
   return r.code;
}

modkit_status Loader::register_cached_function(modkit_host *host, const char *name, modkit_cache_invalidate_fn fn,
                                               void *user_data) {
   if (host->state != modkit_host::State::initialising) {
      logf(MODKIT_LOG_WARNING, host->name.c_str(), "register_cached_function outside init refused");
      return MODKIT_E_STATE;
   }
   Refusal r = registry_.stage_cache(*host, name, fn, user_data);
   if (r.code != MODKIT_OK) host->staged.refusals.push_back(r.why);
   return r.code;
}

modkit_status Loader::invalidate_cache(const char *module_name, const modkit_host *self, const char *name,
                                       const modkit_str *key_json) {
   if (!name) return MODKIT_E_INVALID_ARGUMENT;
   if (key_json && !nlohmann::json::accept(std::string(key_json->data ? key_json->data : "", key_json->size)))
      return MODKIT_E_INVALID_ARGUMENT;
   if (!module_name && self) {
      // Its own cache: the module is running, so its functions are live until its deinit.
      for (const auto &c : self->caches) {
         if (c.name == name) return c.invalidate(c.user_data, key_json);
      }
      return MODKIT_E_NOT_FOUND;
   }
   // Another module's: found by name in the current snapshot, which the read section keeps
   // (with that module's code) alive while its invalidate function runs.
   ReadSection section(reader());
   const Snapshot &snap = section.snapshot();
   const long index = module_index(snap, module_name);
   if (index < 0) return MODKIT_E_NOT_FOUND;
   for (size_t i = 0; i < snap.cache_list.size(); ++i) {
      if (snap.cache_list[i].module_index == static_cast<uint32_t>(index) && std::strcmp(snap.cache_list[i].name, name) == 0)
         return snap.cache_functions[i].first(snap.cache_functions[i].second, key_json);
   }
   return MODKIT_E_NOT_FOUND;
}

bool Loader::has_capability(const char *id) const {
   if (!id) return false;
   const std::string want = id;
   if (want == "modkit.web_resources/1" || want == "modkit.cached_functions/1") return true;
   if (services::Services::extension(id) || (options_.get_extension && options_.get_extension(options_.extension_user_data, id)))
      return true;
   for (size_t i = 0; i < registry_.category_count(); ++i) {
      const modkit_category *c = registry_.category(i);
      if (want == fmt::format("{}/{}", c->id, c->major)) return true;
   }
   return false;
}

const void *Loader::get_extension(const char *id) const {
   if (!id) return nullptr;
   // The host's own first: that is how a host replaces a standard service.
   if (options_.get_extension) {
      if (const void *own = options_.get_extension(options_.extension_user_data, id)) return own;
   }
   return services::Services::extension(id);
}

} // namespace modkit::loader
