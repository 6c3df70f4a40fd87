// host_api.cpp - the modkit_host_api table. Every function is noexcept in practice: nothing may
// unwind into module code, so each one catches what could throw and turns it into a status.
#include "async_calls.hpp"
#include "host_state.hpp"
#include "loader.hpp"
#include "min_sizes.hpp"

#include <modkit/loader.h>

#include <new>

namespace modkit::loader {

namespace {

void report_error(modkit_error_sink *sink, modkit_status code, const char *json_pointer,
                  const char *message) {
   if (!sink) return;
   try {
      std::string pointer = json_pointer ? json_pointer : "";
      // Accept "ttl" as well as "/ttl": modules write both.
      if (!pointer.empty() && pointer.front() != '/') pointer.insert(pointer.begin(), '/');
      sink->entries.push_back({code, std::move(pointer), message ? message : ""});
   } catch (...) {
      // Out of memory while recording an error: the status the module returns still fails it.
   }
}

void host_log(modkit_host *host, modkit_log_level level, modkit_str message) {
   if (!host || !host->loader) return;
   try {
      host->loader->log(level, host->name.c_str(), message);
   } catch (...) {
   }
}

bool call_valid(const modkit_call *call) {
   return call && call->struct_size >= min_size::call;
}

modkit_str call_request_id(const modkit_call *call) {
   return call_valid(call) && call->request_id.data ? call->request_id : modkit_str{"", 0};
}

int64_t call_deadline_ns(const modkit_call *call) {
   return call_valid(call) ? call->deadline_ns : 0;
}

bool call_is_cancelled(const modkit_call *call) {
   return call_valid(call) && call->cancelled && __atomic_load_n(call->cancelled, __ATOMIC_RELAXED) != 0;
}

// Checks the error and hands it to the host that made the call; no host, no error kept.
modkit_status MODKIT_ABI call_set_error(modkit_call *call, modkit_str errcode, modkit_str message, modkit_str extra) {
   if (!call_valid(call) || !errcode.data || errcode.size == 0 || errcode.size > 64 || (message.size && !message.data))
      return MODKIT_E_INVALID_ARGUMENT;
   for (size_t i = 0; i < errcode.size; ++i) {
      const char c = errcode.data[i];
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return MODKIT_E_INVALID_ARGUMENT;
   }
   if (extra.data) {
      try {
         if (!nlohmann::json::parse(extra.data, extra.data + extra.size, nullptr, false).is_object())
            return MODKIT_E_INVALID_ARGUMENT;
      } catch (...) {
         return MODKIT_E_NO_MEMORY;
      }
   }
   if (call->struct_size < min_size::error_call || !call->on_error) return MODKIT_E_UNSUPPORTED;
   call->on_error(call->error_user_data, call, errcode, message.data ? message : modkit_str{"", 0}, extra);
   return MODKIT_OK;
}

template <class F>
modkit_status guarded(modkit_host *host, F &&f) {
   if (!host || !host->loader) return MODKIT_E_INVALID_ARGUMENT;
   try {
      return f(*host->loader);
   } catch (const std::bad_alloc &) {
      return MODKIT_E_NO_MEMORY;
   } catch (...) {
      return MODKIT_E_INTERNAL;
   }
}

modkit_status register_callbacks(modkit_host *host, const char *category_id, uint16_t major, uint16_t minor,
                                 const void *callbacks, void *user_data) {
   return guarded(host, [&](Loader &l) {
      return l.register_callbacks(host, category_id, major, minor, callbacks, user_data);
   });
}

modkit_status register_web_resource(modkit_host *host, const char *path, modkit_web_handler handler,
                                    void *user_data) {
   return guarded(host, [&](Loader &l) { return l.register_web_resource(host, path, handler, user_data); });
}

modkit_status register_cached_function(modkit_host *host, const char *name, modkit_cache_invalidate_fn fn,
                                       void *user_data) {
   return guarded(host, [&](Loader &l) { return l.register_cached_function(host, name, fn, user_data); });
}

modkit_status invalidate_cache(modkit_host *host, const char *module_name, const char *name,
                               const modkit_str *key_json) {
   return guarded(host, [&](Loader &l) {
      return l.invalidate_cache(module_name, host, name, key_json);
   });
}

void response_set_status(modkit_http_response *response, int32_t status) {
   if (response && status >= 100 && status <= 599) response->status = status;
}

bool has_line_break(modkit_str s) {
   for (size_t i = 0; i < s.size; ++i) {
      if (s.data[i] == '\r' || s.data[i] == '\n' || s.data[i] == '\0') return true;
   }
   return false;
}

modkit_status response_add_header(modkit_http_response *response, modkit_str name, modkit_str value) {
   if (!response || !name.data || name.size == 0 || (!value.data && value.size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   if (has_line_break(name) || has_line_break(value)) return MODKIT_E_INVALID_ARGUMENT;
   try {
      response->headers.emplace_back(std::string(name.data, name.size),
                                     std::string(value.data ? value.data : "", value.size));
      return MODKIT_OK;
   } catch (...) {
      return MODKIT_E_NO_MEMORY;
   }
}

modkit_status response_append(modkit_http_response *response, const char *data, size_t size) {
   if (!response || (!data && size > 0)) return MODKIT_E_INVALID_ARGUMENT;
   try {
      response->body.append(data, size);
      return MODKIT_OK;
   } catch (...) {
      return MODKIT_E_NO_MEMORY;
   }
}

bool has_capability(modkit_host *host, const char *id) {
   try {
      return host && host->loader && host->loader->has_capability(id);
   } catch (...) {
      return false;
   }
}

const void *get_extension(modkit_host *host, const char *id) {
   return host && host->loader ? host->loader->get_extension(id) : nullptr;
}

constexpr modkit_host_api table = {
   sizeof(modkit_host_api),
   MODKIT_ABI_VERSION_MAJOR,
   MODKIT_ABI_VERSION_MINOR,
   report_error,
   modkit::invoke::buffer_append,
   host_log,
   call_request_id,
   call_deadline_ns,
   call_is_cancelled,
   register_callbacks,
   register_web_resource,
   register_cached_function,
   invalidate_cache,
   response_set_status,
   response_add_header,
   response_append,
   has_capability,
   get_extension,
   call_can_suspend,
   call_complete,
   call_set_error,
};

} // namespace

const modkit_host_api *host_api_table() { return &table; }

} // namespace modkit::loader
