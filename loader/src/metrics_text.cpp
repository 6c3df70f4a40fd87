// metrics_text.cpp - modkit_loader_metrics_text: the per-callback counts and the modules'
// own metrics in the Prometheus text format.
#include "loader.hpp"
#include "services/service_parts.hpp"

#include <fmt/format.h>

namespace modkit::loader {

namespace {

std::string escape(const char *value) { return services::prometheus_label(value ? value : ""); }

} // namespace

std::string Loader::metrics_text(uint32_t what) const {
   std::string out;
   if (what & MODKIT_LOADER_METRICS_CALLBACKS) {
      std::vector<modkit_loader_metric> all;
      for (size_t i = 0; i < metric_count(); ++i) {
         modkit_loader_metric m{};
         m.struct_size = sizeof m;
         if (metric_at(i, m) == MODKIT_OK) all.push_back(m);
      }
      const auto labels = [](const modkit_loader_metric &m) {
         return fmt::format("module=\"{}\",category=\"{}\",slot=\"{}\"", escape(m.module), escape(m.category_id),
                            escape(m.slot));
      };
      out += "# HELP modkit_callback_calls_total Calls into a module's callback or web resource.\n"
             "# TYPE modkit_callback_calls_total counter\n";
      for (const auto &m : all) out += fmt::format("modkit_callback_calls_total{{{}}} {}\n", labels(m), m.calls);
      out += "# HELP modkit_callback_errors_total Calls that returned an error.\n"
             "# TYPE modkit_callback_errors_total counter\n";
      for (const auto &m : all) out += fmt::format("modkit_callback_errors_total{{{}}} {}\n", labels(m), m.errors);
      // One call in MODKIT_LOADER_SAMPLE_PERIOD per thread is timed; the sum extrapolates its mean.
      out += "# HELP modkit_callback_duration_seconds Time in a module's callback, estimated from a sample.\n"
             "# TYPE modkit_callback_duration_seconds summary\n";
      for (const auto &m : all) {
         const double seconds = m.timed_calls ? double(m.timed_ns) / double(m.timed_calls) * double(m.calls) / 1e9 : 0;
         out += fmt::format("modkit_callback_duration_seconds_sum{{{}}} {:.9f}\n", labels(m), seconds);
         out += fmt::format("modkit_callback_duration_seconds_count{{{}}} {}\n", labels(m), m.calls);
      }
   }
   if (what & MODKIT_LOADER_METRICS_MODULES) services_.render_metrics(out);
   return out;
}

} // namespace modkit::loader
