// modkit/sdk/services/metrics.hpp - counters, gauges and histograms (modkit.metrics/1) that
// the host exports with the module's name, Prometheus style.
//
//    modkit::Metrics metrics(api);
//    auto checked = metrics.counter("events_checked", "Events the spam checker saw", {"verdict"});
//    spam_ = checked.with({"spam"});          // pick each series once, outside the hot path
//    ham_ = checked.with({"ham"});
//    latency_ = metrics.histogram("check_seconds", "Time spent per check", {}, {0.001, 0.01, 0.1}).with({});
//    ...
//    spam_.add();                               // hot path: no lock, no allocation
//    latency_.observe(seconds);
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/detail/service_table.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/services/metrics.h>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace modkit {

// One series of a counter: only goes up. Just the host's series pointer and its table, so
// copying it and updating through it allocate nothing and take no lock (the host's update
// functions promise the same). A default-constructed one is unbound and ignores updates.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
class Counter {
public:
   Counter() noexcept = default;
   Counter(const modkit_metrics_api *table, modkit_metric_series *series) noexcept : table_(table), series_(series) {}

   void add(uint64_t n = 1) const noexcept {
      if (series_ != nullptr) table_->counter_add(series_, n);
   }

   modkit_metric_series *get() const noexcept { return series_; }

private:
   const modkit_metrics_api *table_ = nullptr;
   modkit_metric_series *series_ = nullptr;
};

// One series of a gauge: set, or moved up and down. Allocation- and lock-free, like Counter.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
class Gauge {
public:
   Gauge() noexcept = default;
   Gauge(const modkit_metrics_api *table, modkit_metric_series *series) noexcept : table_(table), series_(series) {}

   void set(double value) const noexcept {
      if (series_ != nullptr) table_->gauge_set(series_, value);
   }
   void add(double delta) const noexcept {
      if (series_ != nullptr) table_->gauge_add(series_, delta);
   }

   modkit_metric_series *get() const noexcept { return series_; }

private:
   const modkit_metrics_api *table_ = nullptr;
   modkit_metric_series *series_ = nullptr;
};

// One series of a histogram: observations counted into buckets. Allocation- and lock-free,
// like Counter.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
class Histogram {
public:
   Histogram() noexcept = default;
   Histogram(const modkit_metrics_api *table, modkit_metric_series *series) noexcept
      : table_(table), series_(series) {}

   void observe(double value) const noexcept {
      if (series_ != nullptr) table_->histogram_observe(series_, value);
   }

   modkit_metric_series *get() const noexcept { return series_; }

private:
   const modkit_metrics_api *table_ = nullptr;
   modkit_metric_series *series_ = nullptr;
};

// The hot path copies these by value: keep them two pointers.
static_assert(std::is_trivially_copyable_v<Counter> && std::is_trivially_copyable_v<Gauge> &&
              std::is_trivially_copyable_v<Histogram>);

// A registered metric; with() picks one of its series. Series is Counter, Gauge or Histogram.
// The host owns the metric and every series until the module's deinit.
// Thread rule: [thread-safe].
template <class Series>
class MetricFamily {
public:
   MetricFamily() = default;
   MetricFamily(const modkit_metrics_api *table, modkit_metric *metric, std::string name)
      : table_(table), metric_(metric), name_(std::move(name)) {}

   // The series for these label values, one per label name, in order ({} without labels). The
   // host makes it on first use and gives the same series afterwards; this call allocates only
   // then (inside the host), so pick series once and keep them. Throws Error with the host's
   // status: MODKIT_E_INVALID_ARGUMENT for the wrong number of values, MODKIT_E_DENIED past
   // the host's cap on series.
   Series with(std::initializer_list<std::string_view> label_values) const {
      if (metric_ == nullptr) throw Error(MODKIT_E_STATE, "modkit::MetricFamily: not registered");
      modkit_str values[max_labels]; // metrics.h allows at most 8
      if (label_values.size() > max_labels)
         throw Error(MODKIT_E_INVALID_ARGUMENT,
                     fmt::format("metric {}: {} label values given; a metric has at most {} labels", name_,
                                 label_values.size(), max_labels));
      std::size_t n = 0;
      for (std::string_view v : label_values) values[n++] = to_modkit_str(v);
      modkit_metric_series *series = nullptr;
      const modkit_status status = table_->series(metric_, values, n, &series);
      if (status != MODKIT_OK || series == nullptr)
         throw Error(status == MODKIT_OK ? MODKIT_E_INTERNAL : status,
                     fmt::format("metric {}: could not pick a series: {}", name_, modkit_status_name(status)));
      return Series(table_, series);
   }

   const std::string &name() const noexcept { return name_; }
   modkit_metric *get() const noexcept { return metric_; }

private:
   static constexpr std::size_t max_labels = 8;

   const modkit_metrics_api *table_ = nullptr;
   modkit_metric *metric_ = nullptr;
   std::string name_; // for messages
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// The host's metrics registry, for this module. A small value: register in the constructor
// (registration allocates), keep the series. Throws Error(MODKIT_E_UNSUPPORTED) on
// construction when the host offers no modkit.metrics/1.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
class Metrics {
public:
   explicit Metrics(const Api &api)
      : host_(detail::ApiAccess::context(api).host),
        table_(detail::service_table<modkit_metrics_api>(
           api, MODKIT_METRICS_ID,
           offsetof(modkit_metrics_api, histogram_observe) + sizeof(modkit_metrics_api::histogram_observe))) {}

   // name is [a-z_][a-z0-9_]* (exported as modkit_<module>_<name>, counters with _total), help
   // one line, labels the label names (at most 8). Each throws Error with the host's status:
   // MODKIT_E_INVALID_ARGUMENT for a name, label or bucket list the host refuses,
   // MODKIT_E_CONFLICT for a name this module registered already.
   CounterFamily counter(std::string_view name, std::string_view help,
                         const std::vector<std::string> &labels = {}) const {
      return CounterFamily(table_, add(MODKIT_METRIC_COUNTER, name, help, labels, {}), std::string(name));
   }
   GaugeFamily gauge(std::string_view name, std::string_view help,
                     const std::vector<std::string> &labels = {}) const {
      return GaugeFamily(table_, add(MODKIT_METRIC_GAUGE, name, help, labels, {}), std::string(name));
   }
   // buckets: strictly increasing upper bounds, +Inf implied; empty for the host's defaults
   // (Prometheus': 0.005 to 10).
   HistogramFamily histogram(std::string_view name, std::string_view help,
                             const std::vector<std::string> &labels = {},
                             const std::vector<double> &buckets = {}) const {
      return HistogramFamily(table_, add(MODKIT_METRIC_HISTOGRAM, name, help, labels, buckets), std::string(name));
   }

private:
   modkit_metric *add(uint32_t kind, std::string_view name, std::string_view help,
                      const std::vector<std::string> &labels, const std::vector<double> &buckets) const {
      const std::string name_z(name), help_z(help); // the host reads NUL-terminated strings
      std::vector<const char *> label_names;
      label_names.reserve(labels.size());
      for (const std::string &l : labels) label_names.push_back(l.c_str());
      modkit_metric_desc desc{};
      desc.struct_size = sizeof desc;
      desc.kind = kind;
      desc.name = name_z.c_str();
      desc.help = help_z.c_str();
      desc.label_names = label_names.empty() ? nullptr : label_names.data();
      desc.label_count = label_names.size();
      desc.buckets = buckets.empty() ? nullptr : buckets.data();
      desc.bucket_count = buckets.size();
      modkit_metric *metric = nullptr;
      const modkit_status status = table_->register_metric(host_, &desc, &metric);
      if (status != MODKIT_OK || metric == nullptr)
         throw Error(status == MODKIT_OK ? MODKIT_E_INTERNAL : status,
                     fmt::format("could not register metric {}: {}", name_z, modkit_status_name(status)));
      return metric;
   }

   modkit_host *host_;
   const modkit_metrics_api *table_;
};

} // namespace modkit
