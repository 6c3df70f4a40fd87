// api.cpp - the exported C API: argument checks, then the Loader; nothing unwinds out.
#include "async_calls.hpp"
#include "c_guard.hpp"
#include "loader.hpp"
#include "min_sizes.hpp"

#include <modkit/loader.h>

#include <ctime>
#include <new>
#include <utility>

using modkit::loader::Loader;

// An asynchronous dynamic dispatch as the C API hands it out.
struct modkit_loader_async {
   modkit::AsyncHandle handle;
};

namespace {

using modkit::loader::c_guard;

// The value f returns, or fallback when it throws (out of memory registering a reader).
template <class F>
auto value_or(decltype(std::declval<F>()()) fallback, F &&f) noexcept {
   try {
      return f();
   } catch (...) {
      return fallback;
   }
}

// Lookups register the calling thread's reader on first use: logically const, so the C API
// keeps taking const loaders.
Loader &mut(const modkit_loader *loader) { return const_cast<Loader &>(loader->impl); }

long category_index(const modkit_loader *loader, const char *category_id) {
   return loader ? loader->impl.registry().find_category(category_id) : -1;
}

} // namespace

extern "C" {

namespace {
thread_local std::string create_error;
} // namespace

MODKIT_LOADER_API const char *modkit_loader_create_error(void) { return create_error.c_str(); }

MODKIT_LOADER_API modkit_status modkit_loader_create(const modkit_loader_options *options, modkit_loader **out) {
   return c_guard([&] {
      create_error.clear();
      if (!options || !out || options->struct_size < modkit::loader::min_size::loader_options) {
         create_error = "options or out is NULL, or options->struct_size is too small";
         return MODKIT_E_INVALID_ARGUMENT;
      }
      *out = nullptr;
      if (options->category_count > 0 && !options->categories) {
         create_error = "category_count is not 0 but categories is NULL";
         return MODKIT_E_INVALID_ARGUMENT;
      }
      auto loader = std::make_unique<modkit_loader>(*options);
      if (!loader->impl.init_categories(create_error)) return MODKIT_E_INVALID_ARGUMENT;
      *out = loader.release();
      return MODKIT_OK;
   });
}

MODKIT_LOADER_API void modkit_loader_destroy(modkit_loader *loader) { delete loader; }

MODKIT_LOADER_API modkit_status modkit_loader_load(modkit_loader *loader, const char *config_json, size_t size) {
   if (!loader || (!config_json && size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return loader->impl.load(std::string(config_json ? config_json : "", size)); });
}

MODKIT_LOADER_API modkit_status modkit_loader_load_file(modkit_loader *loader, const char *path) {
   if (!loader || !path) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return loader->impl.load_file(path); });
}

MODKIT_LOADER_API void modkit_loader_log(const modkit_loader *loader, modkit_log_level level, const char *module,
                                         modkit_str message) {
   if (!loader) return;
   try {
      loader->impl.log(level, module, message);
   } catch (...) {
   }
}

MODKIT_LOADER_API size_t modkit_loader_error_count(const modkit_loader *loader) {
   return loader ? loader->impl.error_views().size() : 0;
}

MODKIT_LOADER_API const modkit_loader_error *modkit_loader_error_at(const modkit_loader *loader, size_t index) {
   if (!loader || index >= loader->impl.error_views().size()) return nullptr;
   return &loader->impl.error_views()[index];
}

MODKIT_LOADER_API size_t modkit_loader_module_count(const modkit_loader *loader) {
   return loader ? value_or(0, [&] { return mut(loader).module_count(); }) : 0;
}

MODKIT_LOADER_API const modkit_loader_module *modkit_loader_module_at(const modkit_loader *loader, size_t index) {
   return loader ? value_or(nullptr, [&] { return mut(loader).module_at(index); }) : nullptr;
}

MODKIT_LOADER_API modkit_status modkit_loader_slot_at(const modkit_loader *loader, const char *category_id,
                                                      uint32_t slot_index, const modkit_loader_slot **out) {
   if (!out) return MODKIT_E_INVALID_ARGUMENT;
   *out = nullptr;
   const long c = category_index(loader, category_id);
   if (c < 0) return MODKIT_E_NOT_FOUND;
   return c_guard([&] {
      modkit_status status = MODKIT_OK;
      *out = mut(loader).slot_at(static_cast<size_t>(c), slot_index, status);
      return status;
   });
}

MODKIT_LOADER_API modkit_status modkit_loader_find_slot(const modkit_loader *loader, const char *category_id,
                                                        const char *slot_name, const modkit_loader_slot **out) {
   if (!out) return MODKIT_E_INVALID_ARGUMENT;
   *out = nullptr;
   const long c = category_index(loader, category_id);
   if (c < 0) return MODKIT_E_NOT_FOUND;
   return c_guard([&] {
      modkit_status status = MODKIT_OK;
      *out = mut(loader).find_slot(static_cast<size_t>(c), slot_name, status);
      return status;
   });
}

MODKIT_LOADER_API const modkit_loader_snapshot *modkit_loader_read_section_begin(modkit_loader_reader *reader) {
   return modkit_loader_read_begin(reader);
}

MODKIT_LOADER_API void modkit_loader_read_section_end(modkit_loader_reader *reader) { modkit_loader_read_end(reader); }

MODKIT_LOADER_API const modkit_loader_slot *modkit_loader_snapshot_slot_at(const modkit_loader_snapshot *snapshot,
                                                                           uint32_t category_index,
                                                                           uint32_t slot_index) {
   return snapshot ? modkit_loader_snapshot_slot(snapshot, category_index, slot_index) : nullptr;
}

MODKIT_LOADER_API uint64_t modkit_loader_now_ns(void) {
   timespec now{};
   clock_gettime(CLOCK_MONOTONIC, &now);
   return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

MODKIT_LOADER_API void modkit_loader_counters_reserve(modkit_loader_reader *reader, uint32_t metric) {
   if (!reader) return;
   try {
      modkit::loader::Epoch::reserve_counters_of(reader, metric);
   } catch (...) {
      // Out of memory: this call goes uncounted, and the next one tries again.
   }
}

MODKIT_LOADER_API uint64_t modkit_loader_metrics_call_begin(modkit_loader_reader *reader) {
   return reader ? modkit_loader_metrics_begin(reader) : 0;
}

MODKIT_LOADER_API void modkit_loader_metrics_call_count(modkit_loader_reader *reader, uint32_t metric,
                                                        modkit_status status, uint64_t started) {
   if (reader) modkit_loader_metrics_count(reader, metric, status, started);
}

MODKIT_LOADER_API size_t modkit_loader_metric_count(const modkit_loader *loader) {
   return loader ? value_or(0, [&] { return loader->impl.metric_count(); }) : 0;
}

MODKIT_LOADER_API modkit_status modkit_loader_metric_at(const modkit_loader *loader, size_t index,
                                                        modkit_loader_metric *out) {
   if (!loader || !out || out->struct_size < modkit::loader::min_size::metric) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return loader->impl.metric_at(index, *out); });
}

MODKIT_LOADER_API modkit_loader_reader *modkit_loader_reader_get(modkit_loader *loader) {
   if (!loader) return nullptr;
   try {
      return loader->impl.reader();
   } catch (...) {
      return nullptr;
   }
}

MODKIT_LOADER_API int32_t modkit_loader_category_index(const modkit_loader *loader, const char *category_id) {
   return static_cast<int32_t>(category_index(loader, category_id));
}

MODKIT_LOADER_API size_t modkit_loader_web_resource_count(const modkit_loader *loader) {
   return loader ? value_or(0, [&] { return mut(loader).web_resource_count(); }) : 0;
}

MODKIT_LOADER_API const modkit_loader_web_resource *modkit_loader_web_resource_at(const modkit_loader *loader,
                                                                                  size_t index) {
   return loader ? value_or(nullptr, [&] { return mut(loader).web_resource_at(index); }) : nullptr;
}

MODKIT_LOADER_API size_t modkit_loader_cache_count(const modkit_loader *loader) {
   return loader ? value_or(0, [&] { return mut(loader).cache_count(); }) : 0;
}

MODKIT_LOADER_API const modkit_loader_cache *modkit_loader_cache_at(const modkit_loader *loader, size_t index) {
   return loader ? value_or(nullptr, [&] { return mut(loader).cache_at(index); }) : nullptr;
}

MODKIT_LOADER_API modkit_status modkit_loader_invalidate_cache(modkit_loader *loader, const char *module_name,
                                                               const char *name, const modkit_str *key_json) {
   if (!loader || !module_name || !name) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return loader->impl.invalidate_cache(module_name, nullptr, name, key_json); });
}

MODKIT_LOADER_API modkit_status modkit_loader_unload_module(modkit_loader *loader, const char *module_name) {
   if (!loader || !module_name) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return loader->impl.unload_module(module_name); });
}

MODKIT_LOADER_API modkit_status modkit_loader_reload_module(modkit_loader *loader, const char *module_name) {
   if (!loader || !module_name) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return loader->impl.reload_module(module_name); });
}

namespace {

modkit_status write_json(const nlohmann::json &doc, modkit_buffer *out) {
   out->bytes = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
   return MODKIT_OK;
}

} // namespace

MODKIT_LOADER_API modkit_status modkit_loader_dispatch_json(modkit_loader *loader, const char *category_id,
                                                            const char *slot_name, const char *args_json,
                                                            size_t args_size, modkit_call *call, modkit_buffer *result) {
   if (!loader || !result || (!args_json && args_size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] {
      nlohmann::json doc;
      const modkit_status status =
         loader->impl.dispatch_json(category_id, slot_name, std::string(args_json ? args_json : "", args_size), call, doc);
      write_json(doc, result);
      return status;
   });
}

MODKIT_LOADER_API modkit_status modkit_loader_dispatch_json_async(modkit_loader *loader, const char *category_id,
                                                                  const char *slot_name, const char *args_json,
                                                                  size_t args_size,
                                                                  const modkit_loader_async_options *options,
                                                                  modkit_loader_async_done_fn done, void *user_data,
                                                                  modkit_loader_async **out) {
   if (!loader || !done || !out || (!args_json && args_size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   *out = nullptr;
   return c_guard([&] {
      std::string_view request_id;
      int64_t deadline_ns = 0;
      if (options && options->struct_size >= MODKIT_SIZE_THROUGH(modkit_loader_async_options, deadline_ns)) {
         if (options->request_id.data) request_id = {options->request_id.data, options->request_id.size};
         deadline_ns = options->deadline_ns;
      }
      auto async = std::make_unique<modkit_loader_async>();
      auto on_done = [done, user_data](modkit_status status, nlohmann::json result) {
         std::string text;
         try {
            text = result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
         } catch (...) {
            status = MODKIT_E_NO_MEMORY;
         }
         done(user_data, status, modkit_str{text.data(), text.size()});
      };
      const modkit_status status = loader->impl.dispatch_json_async(
         category_id, slot_name, std::string(args_json ? args_json : "", args_size), request_id, deadline_ns,
         std::move(on_done), async->handle);
      *out = async.release();
      return status;
   });
}

MODKIT_LOADER_API modkit_status modkit_loader_call_settle(modkit_call *call, modkit_status status) {
   return modkit::loader::call_settle(call, status);
}

MODKIT_LOADER_API void modkit_loader_pin(const modkit_loader_snapshot *snapshot, uint32_t module_index) {
   modkit::loader::pin(snapshot, module_index);
}

MODKIT_LOADER_API void modkit_loader_unpin(const modkit_loader_snapshot *snapshot, uint32_t module_index) {
   modkit::loader::unpin(snapshot, module_index);
}

MODKIT_LOADER_API void modkit_loader_async_cancel(modkit_loader_async *async) {
   if (async) async->handle.cancel();
}

MODKIT_LOADER_API void modkit_loader_async_release(modkit_loader_async *async) { delete async; }

MODKIT_LOADER_API modkit_status modkit_loader_timer_start(modkit_loader *loader, int64_t deadline_ns,
                                                          modkit_loader_timer_fn fire, void *user_data, uint64_t *id) {
   if (!loader || !fire || !id) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] {
      *id = loader->impl.timers().start(deadline_ns, fire, user_data);
      return *id == 0 ? MODKIT_E_STATE : MODKIT_OK;
   });
}

MODKIT_LOADER_API bool modkit_loader_timer_cancel(modkit_loader *loader, uint64_t id) {
   if (!loader || id == 0) return false;
   try {
      return loader->impl.timers().cancel(id);
   } catch (...) {
      return false;
   }
}

MODKIT_LOADER_API modkit_status modkit_loader_call_json(modkit_loader *loader, const char *module_name,
                                                        const char *category_id, const char *slot_name,
                                                        const char *args_json, size_t args_size, modkit_call *call,
                                                        modkit_buffer *result) {
   if (!loader || !result || (!args_json && args_size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] {
      nlohmann::json doc;
      const modkit_status status = loader->impl.call_json(module_name, category_id, slot_name,
                                                          std::string(args_json ? args_json : "", args_size), call, doc);
      write_json(doc, result);
      return status;
   });
}

MODKIT_LOADER_API modkit_status modkit_loader_describe_json(const modkit_loader *loader, modkit_buffer *out) {
   if (!loader || !out) return MODKIT_E_INVALID_ARGUMENT;
   return c_guard([&] { return write_json(loader->impl.describe(), out); });
}

MODKIT_LOADER_API modkit_buffer *modkit_loader_buffer_create(void) { return new (std::nothrow) modkit_buffer(); }

MODKIT_LOADER_API void modkit_loader_buffer_destroy(modkit_buffer *buffer) { delete buffer; }

MODKIT_LOADER_API modkit_str modkit_loader_buffer_data(const modkit_buffer *buffer) {
   return buffer ? modkit_str{buffer->bytes.data(), buffer->bytes.size()} : modkit_str{nullptr, 0};
}

MODKIT_LOADER_API void modkit_loader_buffer_clear(modkit_buffer *buffer) {
   if (buffer) buffer->bytes.clear();
}

MODKIT_LOADER_API modkit_http_response *modkit_loader_response_create(void) {
   return new (std::nothrow) modkit_http_response();
}

MODKIT_LOADER_API void modkit_loader_response_destroy(modkit_http_response *response) { delete response; }

MODKIT_LOADER_API int32_t modkit_loader_response_status(const modkit_http_response *response) {
   return response ? response->status : 0;
}

MODKIT_LOADER_API modkit_str modkit_loader_response_body(const modkit_http_response *response) {
   return response ? modkit_str{response->body.data(), response->body.size()} : modkit_str{nullptr, 0};
}

MODKIT_LOADER_API size_t modkit_loader_response_header_count(const modkit_http_response *response) {
   return response ? response->headers.size() : 0;
}

MODKIT_LOADER_API bool modkit_loader_response_header_at(const modkit_http_response *response, size_t index,
                                                        modkit_str *name, modkit_str *value) {
   if (!response || index >= response->headers.size() || !name || !value) return false;
   const auto &h = response->headers[index];
   *name = {h.first.data(), h.first.size()};
   *value = {h.second.data(), h.second.size()};
   return true;
}


MODKIT_LOADER_API const char *modkit_loader_host_module_name(const modkit_host *host) {
   return host && host->loader ? host->name.c_str() : "";
}

MODKIT_LOADER_API uint64_t modkit_loader_host_instance_id(const modkit_host *host) {
   return host && host->loader ? host->instance_id : 0;
}

MODKIT_LOADER_API void modkit_loader_metrics_text(const modkit_loader *loader, uint32_t what,
                                                  modkit_loader_text_fn write, void *user_data) {
   if (!loader || !write) return;
   try {
      const std::string text = loader->impl.metrics_text(what);
      write(user_data, text.data(), text.size());
   } catch (...) {
      // Out of memory while rendering: the scrape gets nothing rather than a torn text.
   }
}

} // extern "C"
