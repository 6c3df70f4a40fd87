// metrics_service.cpp - modkit.metrics/1: a module's counters, gauges and histograms, and
// their Prometheus text.
//
// A series' values are atomics updated with relaxed order: each is a count on its own, and a
// scrape reading them while they move is exact for each at some moment, which is all the
// exposition format promises. Doubles live in uint64_t bits so that adding is a
// compare-exchange, never a lock.
#include "../loader.hpp"
#include "service_parts.hpp"
#include "services.hpp"

#include <modkit/services/metrics.h>

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>

struct modkit_metric_series {
   const modkit_metric *family = nullptr;
   std::vector<std::string> labels;
   std::atomic<uint64_t> value{0};                 // counter: the count; gauge: double bits
   std::atomic<uint64_t> sum{0};                   // histogram: double bits
   std::unique_ptr<std::atomic<uint64_t>[]> buckets; // histogram: per bucket, not cumulative
};

struct modkit_metric {
   modkit::loader::services::ModuleServices *owner = nullptr;
   uint32_t kind = MODKIT_METRIC_COUNTER;
   std::string name; // the exported name, prefix included
   std::string help;
   std::vector<std::string> label_names;
   std::vector<double> bounds;
   std::map<std::vector<std::string>, std::unique_ptr<modkit_metric_series>> series; // [owner->mutex]
};

namespace modkit::loader::services {

struct MetricFamily : modkit_metric {};

namespace {

bool valid_name(const char *name) {
   if (!name || !*name || std::strlen(name) > 64) return false;
   if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
   for (const char *c = name; *c; ++c) {
      if (!(std::islower(static_cast<unsigned char>(*c)) || std::isdigit(static_cast<unsigned char>(*c)) || *c == '_'))
         return false;
   }
   return true;
}

double from_bits(uint64_t bits) {
   double d;
   std::memcpy(&d, &bits, sizeof d);
   return d;
}
uint64_t to_bits(double d) {
   uint64_t bits;
   std::memcpy(&bits, &d, sizeof bits);
   return bits;
}
void add_double(std::atomic<uint64_t> &target, double delta) {
   uint64_t old = target.load(std::memory_order_relaxed);
   while (!target.compare_exchange_weak(old, to_bits(from_bits(old) + delta), std::memory_order_relaxed)) {
   }
}

// Modules' metrics live apart from every family the loader and its hosts export (modkit_callback_*,
// a host's own modkit_*): hosts leave this prefix to modules.
constexpr const char *exported_prefix = "modkit_mod_";

const std::vector<double> default_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Why desc breaks the header's rules, or "" when it does not.
std::string check(const modkit_metric_desc &desc) {
   if (desc.kind > MODKIT_METRIC_HISTOGRAM) return fmt::format("kind {} is none of counter, gauge, histogram", desc.kind);
   if (!valid_name(desc.name))
      return fmt::format("name \"{}\" must match [a-z_][a-z0-9_]* and be at most 64 bytes", desc.name ? desc.name : "");
   if (desc.label_count > 8) return fmt::format("{} labels; at most 8", desc.label_count);
   if (desc.label_count && !desc.label_names) return "label_count without label_names";
   for (size_t i = 0; i < desc.label_count; ++i) {
      const char *l = desc.label_names[i];
      if (!valid_name(l) || std::strncmp(l, "__", 2) == 0 || std::strcmp(l, "le") == 0)
         return fmt::format("label \"{}\" must match [a-z_][a-z0-9_]*, not start with __ and not be \"le\"",
                            l ? l : "");
      for (size_t j = 0; j < i; ++j) {
         if (std::strcmp(l, desc.label_names[j]) == 0) return fmt::format("label \"{}\" appears twice", l);
      }
   }
   if (desc.kind == MODKIT_METRIC_HISTOGRAM && desc.buckets) {
      if (desc.bucket_count > 32) return fmt::format("{} buckets; at most 32", desc.bucket_count);
      for (size_t i = 0; i < desc.bucket_count; ++i) {
         if (!std::isfinite(desc.buckets[i]) || (i > 0 && desc.buckets[i] <= desc.buckets[i - 1]))
            return "bucket bounds must be finite and strictly increasing";
      }
   }
   return "";
}

modkit_status MODKIT_ABI register_metric(modkit_host *host, const modkit_metric_desc *desc, modkit_metric **out) {
   ModuleServices *m = module_services(host);
   if (!m || !desc || !out || desc->struct_size < sizeof(modkit_metric_desc)) return MODKIT_E_INVALID_ARGUMENT;
   Services &services = *services_of(host);
   if (const std::string why = check(*desc); !why.empty()) {
      services.log(MODKIT_LOG_WARNING, *m, "register_metric refused: " + why);
      return MODKIT_E_INVALID_ARGUMENT;
   }
   if (std::strstr(desc->name, "__")) {
      services.log(MODKIT_LOG_WARNING, *m, fmt::format("register_metric refused: name \"{}\" contains \"__\"", desc->name));
      return MODKIT_E_INVALID_ARGUMENT;
   }
   auto family = std::make_shared<MetricFamily>();
   family->owner = m;
   family->kind = desc->kind;
   family->name = exported_prefix + m->prefix + desc->name; // the prefix is lower case, ends "__"
   family->help = desc->help ? desc->help : "";
   for (char &c : family->help) c = c == '\n' ? ' ' : c;
   family->label_names.assign(desc->label_names, desc->label_names + desc->label_count);
   if (desc->kind == MODKIT_METRIC_HISTOGRAM)
      family->bounds = desc->buckets && desc->bucket_count ? std::vector<double>(desc->buckets, desc->buckets + desc->bucket_count)
                                                           : default_buckets;
   // Unique across every module: "a_b" + "c" and "a" + "b_c" would otherwise export one name.
   return services.with_live([&](const std::vector<ModuleServices *> &live) {
      for (ModuleServices *other : live) {
         std::lock_guard<std::mutex> lock(other->mutex);
         for (const auto &f : other->metrics) {
            if (f->name != family->name) continue;
            if (other != m)
               services.log(MODKIT_LOG_WARNING, *m,
                            fmt::format("register_metric refused: module '{}' already exports {}", other->name, f->name));
            return MODKIT_E_CONFLICT;
         }
      }
      std::lock_guard<std::mutex> lock(m->mutex);
      if (!m->open) return MODKIT_E_STATE;
      *out = family.get();
      m->metrics.push_back(std::move(family));
      return MODKIT_OK;
   });
}

modkit_status MODKIT_ABI series(modkit_metric *metric, const modkit_str *values, size_t count,
                                modkit_metric_series **out) {
   if (!metric || !out || count != metric->label_names.size() || (count && !values)) return MODKIT_E_INVALID_ARGUMENT;
   std::vector<std::string> labels;
   for (size_t i = 0; i < count; ++i) labels.emplace_back(values[i].data ? values[i].data : "", values[i].size);
   ModuleServices &m = *metric->owner;
   std::lock_guard<std::mutex> lock(m.mutex);
   auto it = metric->series.find(labels);
   if (it != metric->series.end()) {
      *out = it->second.get();
      return MODKIT_OK;
   }
   if (m.series >= m.grants.limits.max_series) return MODKIT_E_DENIED;
   auto s = std::make_unique<modkit_metric_series>();
   s->family = metric;
   s->labels = labels;
   if (metric->kind == MODKIT_METRIC_HISTOGRAM) {
      s->buckets = std::make_unique<std::atomic<uint64_t>[]>(metric->bounds.size() + 1);
      for (size_t i = 0; i <= metric->bounds.size(); ++i) s->buckets[i].store(0, std::memory_order_relaxed);
   }
   ++m.series;
   *out = s.get();
   metric->series.emplace(std::move(labels), std::move(s));
   return MODKIT_OK;
}

void MODKIT_ABI counter_add(modkit_metric_series *s, uint64_t n) {
   if (s && s->family->kind == MODKIT_METRIC_COUNTER) s->value.fetch_add(n, std::memory_order_relaxed);
}

void MODKIT_ABI gauge_set(modkit_metric_series *s, double value) {
   if (s && s->family->kind == MODKIT_METRIC_GAUGE) s->value.store(to_bits(value), std::memory_order_relaxed);
}

void MODKIT_ABI gauge_add(modkit_metric_series *s, double delta) {
   if (s && s->family->kind == MODKIT_METRIC_GAUGE) add_double(s->value, delta);
}

void MODKIT_ABI histogram_observe(modkit_metric_series *s, double value) {
   if (!s || s->family->kind != MODKIT_METRIC_HISTOGRAM) return;
   const std::vector<double> &bounds = s->family->bounds;
   const size_t bucket = size_t(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
   s->buckets[bucket].fetch_add(1, std::memory_order_relaxed);
   add_double(s->sum, value);
}

// {a="x",b="y"} plus extra (already rendered), or "" when there is nothing.
std::string label_set(const modkit_metric &family, const modkit_metric_series &s, const std::string &extra = "") {
   std::string out;
   for (size_t i = 0; i < s.labels.size(); ++i)
      out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", family.label_names[i], prometheus_label(s.labels[i]));
   if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
   return out.empty() ? "" : "{" + out + "}";
}

std::string number(double d) {
   if (std::isnan(d)) return "NaN";
   if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
   return fmt::format("{}", d);
}

} // namespace

std::string prometheus_label(std::string_view value) {
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

void render_module_metrics(ModuleServices &m, std::string &out) {
   std::lock_guard<std::mutex> lock(m.mutex);
   for (const auto &f : m.metrics) {
      static const char *const types[] = {"counter", "gauge", "histogram"};
      const std::string name = f->kind == MODKIT_METRIC_COUNTER ? f->name + "_total" : f->name;
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f->help, name, types[f->kind]);
      for (const auto &[labels, s] : f->series) {
         if (f->kind == MODKIT_METRIC_COUNTER) {
            out += fmt::format("{}{} {}\n", name, label_set(*f, *s), s->value.load(std::memory_order_relaxed));
         } else if (f->kind == MODKIT_METRIC_GAUGE) {
            out += fmt::format("{}{} {}\n", name, label_set(*f, *s), number(from_bits(s->value.load(std::memory_order_relaxed))));
         } else {
            uint64_t cumulative = 0;
            for (size_t i = 0; i <= f->bounds.size(); ++i) {
               cumulative += s->buckets[i].load(std::memory_order_relaxed);
               const std::string le = i < f->bounds.size() ? number(f->bounds[i]) : "+Inf";
               out += fmt::format("{}_bucket{} {}\n", name, label_set(*f, *s, "le=\"" + le + "\""), cumulative);
            }
            out += fmt::format("{}_sum{} {}\n", name, label_set(*f, *s), number(from_bits(s->sum.load(std::memory_order_relaxed))));
            out += fmt::format("{}_count{} {}\n", name, label_set(*f, *s), cumulative);
         }
      }
   }
}

const modkit_metrics_api metrics_table = {
   sizeof(modkit_metrics_api), register_metric, series, counter_add, gauge_set, gauge_add, histogram_observe,
};

} // namespace modkit::loader::services
