// metrics.cpp - counting, and rendering in the Prometheus text exposition format.
#include "metrics.hpp"

#include <fmt/format.h>

namespace chat {

namespace {

// Label values escape backslash, double quote and newline.
std::string label(const std::string &value) {
   std::string out;
   for (char c : value) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
         out += "\\n";
         continue;
      }
      out += c;
   }
   return out;
}

} // namespace

void Metrics::attach(const modkit_loader *loader) {
   std::lock_guard<std::mutex> lock(mutex_);
   loader_ = loader;
}

void Metrics::count_rejected(const std::string &module, const std::string &callback) {
   std::lock_guard<std::mutex> lock(mutex_);
   ++rejected_[{module, callback}];
}

std::map<Metrics::Key, Metrics::CallCounts> Metrics::loader_counts() const {
   std::map<Key, CallCounts> out;
   for (size_t i = 0; loader_ && i < modkit_loader_metric_count(loader_); ++i) {
      modkit_loader_metric m{};
      m.struct_size = sizeof m;
      if (modkit_loader_metric_at(loader_, i, &m) != MODKIT_OK) continue;
      // "modkit.spam_checker" + "check_event_for_spam" -> "spam_checker.check_event_for_spam";
      // web resources -> "web_resource /path", the names traces use.
      std::string category = m.category_id;
      const std::string name = category == MODKIT_LOADER_WEB_RESOURCE_METRICS
                                  ? std::string("web_resource ") + m.slot
                                  : category.substr(category.rfind('.') + 1) + "." + m.slot;
      CallCounts &c = out[{m.module, name}];
      c.calls += m.calls;
      c.errors += m.errors;
      if (m.timed_calls > 0)
         c.seconds += static_cast<double>(m.timed_ns) / static_cast<double>(m.timed_calls) *
                      static_cast<double>(m.calls) / 1e9;
   }
   for (const auto &[key, n] : rejected_) out[key].errors += n;
   return out;
}

void Metrics::set_load_seconds(const std::string &module, double seconds) {
   std::lock_guard<std::mutex> lock(mutex_);
   load_seconds_[module] = seconds;
}

void Metrics::count_reload(const std::string &module, bool ok, double seconds) {
   std::lock_guard<std::mutex> lock(mutex_);
   auto &r = reloads_[module];
   (ok ? r.first : r.second)++;
   if (ok) load_seconds_[module] = seconds;
}

void Metrics::count_cache(const std::string &module, const std::string &cache, bool hit) {
   std::lock_guard<std::mutex> lock(mutex_);
   auto &c = caches_[{module, cache}];
   (hit ? c.hits : c.misses)++;
}

void Metrics::count_invalidation(const std::string &module, const std::string &cache) {
   std::lock_guard<std::mutex> lock(mutex_);
   ++caches_[{module, cache}].invalidations;
}

void Metrics::count_request(int status) {
   std::lock_guard<std::mutex> lock(mutex_);
   ++requests_[status];
}

Metrics::CacheCounts Metrics::cache(const std::string &module, const std::string &cache) const {
   std::lock_guard<std::mutex> lock(mutex_);
   auto it = caches_.find({module, cache});
   return it == caches_.end() ? CacheCounts{} : it->second;
}

uint64_t Metrics::calls(const std::string &module, const std::string &callback) const {
   std::lock_guard<std::mutex> lock(mutex_);
   const auto counts = loader_counts();
   auto it = counts.find({module, callback});
   return it == counts.end() ? 0 : it->second.calls;
}

uint64_t Metrics::errors(const std::string &module, const std::string &callback) const {
   std::lock_guard<std::mutex> lock(mutex_);
   const auto counts = loader_counts();
   auto it = counts.find({module, callback});
   return it == counts.end() ? 0 : it->second.errors;
}

std::string Metrics::render() const {
   std::lock_guard<std::mutex> lock(mutex_);
   std::string out;
   const auto calls = loader_counts();
   out += "# HELP modkit_callback_calls_total Calls into a module's callback or web resource.\n"
          "# TYPE modkit_callback_calls_total counter\n";
   for (const auto &[key, c] : calls)
      out += fmt::format("modkit_callback_calls_total{{module=\"{}\",callback=\"{}\"}} {}\n", label(key.first),
                         label(key.second), c.calls);
   out += "# HELP modkit_callback_errors_total Calls that failed, or whose answer the host could not use.\n"
          "# TYPE modkit_callback_errors_total counter\n";
   for (const auto &[key, c] : calls)
      out += fmt::format("modkit_callback_errors_total{{module=\"{}\",callback=\"{}\"}} {}\n", label(key.first),
                         label(key.second), c.errors);
   // The loader times one call in MODKIT_LOADER_SAMPLE_PERIOD per thread; the sum is that
   // sample's mean times the calls.
   out += "# HELP modkit_callback_duration_seconds Time spent in a module's callback, estimated from a sample.\n"
          "# TYPE modkit_callback_duration_seconds summary\n";
   for (const auto &[key, c] : calls) {
      const std::string labels = fmt::format("module=\"{}\",callback=\"{}\"", label(key.first), label(key.second));
      out += fmt::format("modkit_callback_duration_seconds_sum{{{}}} {:.9f}\n", labels, c.seconds);
      out += fmt::format("modkit_callback_duration_seconds_count{{{}}} {}\n", labels, c.calls);
   }
   out += "# HELP modkit_module_load_seconds Time the module's last load or reload took to initialise.\n"
          "# TYPE modkit_module_load_seconds gauge\n";
   for (const auto &[module, s] : load_seconds_)
      out += fmt::format("modkit_module_load_seconds{{module=\"{}\"}} {:.9f}\n", label(module), s);
   out += "# HELP modkit_module_reloads_total Reloads of a module, by result.\n"
          "# TYPE modkit_module_reloads_total counter\n";
   for (const auto &[module, r] : reloads_) {
      out += fmt::format("modkit_module_reloads_total{{module=\"{}\",result=\"ok\"}} {}\n", label(module), r.first);
      out += fmt::format("modkit_module_reloads_total{{module=\"{}\",result=\"failed\"}} {}\n", label(module), r.second);
   }
   out += "# HELP modkit_cache_hits_total Lookups a module's cached function answered from its cache.\n"
          "# TYPE modkit_cache_hits_total counter\n";
   for (const auto &[key, c] : caches_)
      out += fmt::format("modkit_cache_hits_total{{module=\"{}\",cache=\"{}\"}} {}\n", label(key.first),
                         label(key.second), c.hits);
   out += "# HELP modkit_cache_misses_total Lookups a module's cached function had to compute.\n"
          "# TYPE modkit_cache_misses_total counter\n";
   for (const auto &[key, c] : caches_)
      out += fmt::format("modkit_cache_misses_total{{module=\"{}\",cache=\"{}\"}} {}\n", label(key.first),
                         label(key.second), c.misses);
   out += "# HELP modkit_cache_invalidations_total Invalidations the host sent to a module's cache.\n"
          "# TYPE modkit_cache_invalidations_total counter\n";
   for (const auto &[key, c] : caches_)
      out += fmt::format("modkit_cache_invalidations_total{{module=\"{}\",cache=\"{}\"}} {}\n", label(key.first),
                         label(key.second), c.invalidations);
   out += "# HELP modkit_http_requests_total Requests answered, by HTTP status.\n"
          "# TYPE modkit_http_requests_total counter\n";
   for (const auto &[status, n] : requests_)
      out += fmt::format("modkit_http_requests_total{{status=\"{}\"}} {}\n", status, n);
   return out;
}

} // namespace chat
