#include "fake_host.hpp"

#include <cstring>

namespace {
FakeHost &owner(modkit_host *host) { return *host->owner; }
bool has_crlf(modkit_str s) {
   return s.data && (std::memchr(s.data, '\r', s.size) || std::memchr(s.data, '\n', s.size));
}
} // namespace

FakeHost::FakeHost() {
   api_.struct_size = sizeof api_;
   api_.abi_major = MODKIT_ABI_VERSION_MAJOR;
   api_.abi_minor = MODKIT_ABI_VERSION_MINOR;
   api_.report_error = &report_error;
   api_.buffer_append = &buffer_append;
   api_.log = &log;
   api_.call_request_id = &call_request_id;
   api_.call_deadline_ns = &call_deadline_ns;
   api_.call_is_cancelled = &call_is_cancelled;
   api_.register_callbacks = &register_callbacks;
   api_.register_web_resource = &register_web_resource;
   api_.register_cached_function = &register_cached_function;
   api_.invalidate_cache = &invalidate_cache;
   api_.response_set_status = &response_set_status;
   api_.response_add_header = &response_add_header;
   api_.response_append = &response_append;
   api_.has_capability = &has_capability;
   api_.get_extension = &get_extension;
   api_.call_can_suspend = &call_can_suspend;
   api_.call_complete = &call_complete;
}

void FakeHost::end_init(bool succeeded) {
   in_init_ = false;
   if (succeeded) return;
   registrations.resize(pending_mark_.registrations);
   web_resources.resize(pending_mark_.web);
   caches.resize(pending_mark_.caches);
}

std::vector<LogLine> FakeHost::log_lines() const {
   std::lock_guard<std::mutex> lock(log_mutex_);
   return log_;
}

bool FakeHost::logged(modkit_log_level level, const std::string &fragment) const {
   std::lock_guard<std::mutex> lock(log_mutex_);
   for (const auto &line : log_)
      if (line.level == level && line.message.find(fragment) != std::string::npos) return true;
   return false;
}

const Registration *FakeHost::find_registration(const std::string &category) const {
   for (const auto &r : registrations)
      if (r.category == category) return &r;
   return nullptr;
}

const WebRegistration *FakeHost::find_web(const std::string &path) const {
   for (const auto &w : web_resources)
      if (w.path == path) return &w;
   return nullptr;
}

modkit_status FakeHost::serve(const std::string &path, const std::string &method,
                              const std::string &query, const std::string &headers_json,
                              const std::string &body, modkit_http_response &response,
                              modkit_call *call) {
   const WebRegistration *web = find_web(path);
   if (!web) return MODKIT_E_NOT_FOUND;
   modkit_http_request request{};
   request.struct_size = sizeof request;
   request.method = {method.data(), method.size()};
   request.path = {path.data(), path.size()};
   request.query = {query.data(), query.size()};
   request.headers_json = {headers_json.data(), headers_json.size()};
   request.body = {body.data(), body.size()};
   request.user_id = {"@ada:example.org", 16};
   modkit_call fallback;
   return web->handler(web->user_data, call ? call : &fallback, &request, &response);
}

void FakeHost::report_error(modkit_error_sink *sink, modkit_status code, const char *pointer,
                            const char *message) {
   sink->errors.push_back({code, pointer ? pointer : "", message ? message : ""});
}

modkit_status FakeHost::buffer_append(modkit_buffer *buffer, const char *data, size_t size) {
   if (buffer->full) return MODKIT_E_NO_MEMORY;
   buffer->data.append(data, size);
   return MODKIT_OK;
}

void FakeHost::log(modkit_host *host, modkit_log_level level, modkit_str message) {
   FakeHost &self = owner(host);
   std::lock_guard<std::mutex> lock(self.log_mutex_);
   self.log_.push_back({level, str(message)});
}

modkit_str FakeHost::call_request_id(const modkit_call *call) {
   return {call->request_id.data(), call->request_id.size()};
}
int64_t FakeHost::call_deadline_ns(const modkit_call *call) { return call->deadline_ns; }
bool FakeHost::call_is_cancelled(const modkit_call *call) { return call->cancelled; }

bool FakeHost::call_can_suspend(const modkit_call *call) { return call->state == modkit_call::armed; }

modkit_status FakeHost::call_complete(modkit_call *call, modkit_status status) {
   if (!call->suspendable) {
      ++call->misuses;
      return MODKIT_E_INVALID_ARGUMENT;
   }
   if (status == MODKIT_PENDING) {
      ++call->misuses;
      status = MODKIT_E_INTERNAL;
   }
   for (;;) {
      uint32_t state = call->state;
      if (state == modkit_call::armed) {
         call->early_status = status;
         if (call->state.compare_exchange_strong(state, modkit_call::completed)) {
            ++call->completions;
            return MODKIT_OK;
         }
      } else if (state == modkit_call::suspended) {
         if (call->state.compare_exchange_strong(state, modkit_call::idle)) {
            ++call->completions;
            call->finish(status);
            return MODKIT_OK;
         }
      } else {
         ++call->misuses;
         return MODKIT_E_STATE;
      }
   }
}

modkit_status modkit_call::returned(modkit_status status) {
   uint32_t from = armed;
   if (status != MODKIT_PENDING) {
      if (state.exchange(idle) == completed) ++misuses; // answered and completed
      return status;
   }
   if (state.compare_exchange_strong(from, suspended)) return MODKIT_PENDING;
   if (from == completed) {
      state = idle;
      ++early_completions;
      return early_status;
   }
   ++misuses; // MODKIT_PENDING from a call that could not suspend
   return status;
}

void modkit_call::finish(modkit_status status) {
   std::lock_guard<std::mutex> lock(mutex_);
   final_ = status;
   done_.notify_all();
}

std::optional<modkit_status> modkit_call::wait(std::chrono::milliseconds timeout) {
   std::unique_lock<std::mutex> lock(mutex_);
   done_.wait_for(lock, timeout, [&] { return final_.has_value(); });
   return final_;
}

std::optional<modkit_status> modkit_call::final_status() {
   std::lock_guard<std::mutex> lock(mutex_);
   return final_;
}

modkit_status FakeHost::register_callbacks(modkit_host *host, const char *category_id, uint16_t major,
                                           uint16_t minor, const void *callbacks, void *user_data) {
   FakeHost &self = owner(host);
   if (!self.in_init_) return MODKIT_E_STATE;
   if (!self.categories.count(category_id)) return MODKIT_E_NOT_FOUND;
   if (self.find_registration(category_id)) return MODKIT_E_CONFLICT;
   uint32_t size;
   std::memcpy(&size, callbacks, sizeof size);
   const auto *bytes = static_cast<const unsigned char *>(callbacks);
   self.registrations.push_back({category_id, major, minor, {bytes, bytes + size}, user_data});
   return MODKIT_OK;
}

modkit_status FakeHost::register_web_resource(modkit_host *host, const char *path,
                                              modkit_web_handler handler, void *user_data) {
   FakeHost &self = owner(host);
   if (!self.in_init_) return MODKIT_E_STATE;
   if (std::string(path).rfind(self.refused_web_prefix, 0) == 0) return MODKIT_E_DENIED;
   if (self.find_web(path)) return MODKIT_E_CONFLICT;
   self.web_resources.push_back({path, handler, user_data});
   return MODKIT_OK;
}

modkit_status FakeHost::register_cached_function(modkit_host *host, const char *name,
                                                 modkit_cache_invalidate_fn invalidate, void *user_data) {
   FakeHost &self = owner(host);
   if (!self.in_init_) return MODKIT_E_STATE;
   for (const auto &c : self.caches)
      if (c.name == name) return MODKIT_E_CONFLICT;
   self.caches.push_back({name, invalidate, user_data});
   return MODKIT_OK;
}

modkit_status FakeHost::invalidate_cache(modkit_host *host, const char *module_name, const char *name,
                                         const modkit_str *key_json) {
   FakeHost &self = owner(host);
   if (module_name && self.module_name != module_name) return MODKIT_E_NOT_FOUND;
   for (const auto &c : self.caches)
      if (c.name == name) return c.invalidate(c.user_data, key_json);
   return MODKIT_E_NOT_FOUND;
}

void FakeHost::response_set_status(modkit_http_response *response, int32_t status) {
   response->status = status;
}

modkit_status FakeHost::response_add_header(modkit_http_response *response, modkit_str name,
                                            modkit_str value) {
   if (has_crlf(name) || has_crlf(value)) return MODKIT_E_INVALID_ARGUMENT;
   response->headers.emplace_back(str(name), str(value));
   return MODKIT_OK;
}

modkit_status FakeHost::response_append(modkit_http_response *response, const char *data, size_t size) {
   response->body.append(data, size);
   return MODKIT_OK;
}

bool FakeHost::has_capability(modkit_host *host, const char *capability_id) {
   return owner(host).capabilities.count(capability_id) != 0;
}

const void *FakeHost::get_extension(modkit_host *host, const char *extension_id) {
   const auto &extensions = owner(host).extensions;
   const auto it = extensions.find(extension_id);
   return it == extensions.end() ? nullptr : it->second;
}
