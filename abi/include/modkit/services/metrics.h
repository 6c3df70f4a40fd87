// modkit/services/metrics.h - counters, gauges and histograms a module exports (ABI 1.1),
// Synapse modules' own Prometheus metrics.
//
// Reached with get_extension(host, MODKIT_METRICS_ID) and announced by has_capability. The
// loader provides it and renders every module's metrics, beside its per-callback metrics, in
// the Prometheus text format (modkit_loader_metrics_text); a host may replace it.
//
// A module registers a metric once (usually in init), picks a series (one set of label values)
// once per label set, and updates the series on its hot path: an update takes no lock and
// allocates nothing.
#pragma once

#include "../host.h"
#include "../status.h"
#include "../str.h"

MODKIT_EXTERN_C_BEGIN

#define MODKIT_METRICS_ID "modkit.metrics/1"

// A registered metric and one series of it. Owned by the host, valid until the module's
// deinit returns; a module never frees them.
typedef struct modkit_metric modkit_metric;
typedef struct modkit_metric_series modkit_metric_series;

// The kinds of metric.
enum {
   MODKIT_METRIC_COUNTER = 0,   // only goes up; exported with the suffix _total
   MODKIT_METRIC_GAUGE = 1,     // goes up and down, or is set
   MODKIT_METRIC_HISTOGRAM = 2, // counts observations into buckets, with their sum
};

// What a metric is. Read during register_metric only (the host copies it).
typedef struct modkit_metric_desc {
   uint32_t struct_size;           // sizeof(modkit_metric_desc) as compiled into the module
   uint32_t kind;                  // MODKIT_METRIC_*
   const char *name;               // [a-z_][a-z0-9_]*, no "__", at most 64 bytes; exported as
                                   // modkit_mod_<prefix><name>, where <prefix> is the module's
                                   // storage table prefix ("spam_filter__"), unique per host
   const char *help;               // one line
   const char *const *label_names; // [a-z_][a-z0-9_]*, not "le", none starting with "__"
   size_t label_count;             // at most 8
   const double *buckets;          // histograms: strictly increasing upper bounds, +Inf implied;
   size_t bucket_count;            // NULL/0: 0.005 .. 10 (Prometheus' defaults); at most 32
} modkit_metric_desc;

typedef struct modkit_metrics_api {
   uint32_t struct_size; // sizeof(modkit_metrics_api) as compiled into the host

   // ---- since 1.1 ----

   // Registers a metric. MODKIT_E_INVALID_ARGUMENT for a name, label or bucket list that breaks
   // the rules above (the log says which), MODKIT_E_CONFLICT when this module or another one
   // already exports that name, MODKIT_E_STATE after deinit began.
   // [thread-safe]
   modkit_status(MODKIT_ABI *register_metric)(modkit_host *host, const modkit_metric_desc *desc,
                                              modkit_metric **out);

   // The series of metric for these label values (label_count of them, in the order of
   // label_names; copied), made on first use and the same pointer afterwards.
   // MODKIT_E_INVALID_ARGUMENT for the wrong count; MODKIT_E_DENIED past the host's cap on
   // series per module (default 1,000: one scrape must stay small).
   // [thread-safe]; allocates on a new label set only: keep the pointer for hot paths
   modkit_status(MODKIT_ABI *series)(modkit_metric *metric, const modkit_str *label_values,
                                     size_t label_count, modkit_metric_series **out);

   // Adds n to a counter. Does nothing for another kind. [thread-safe]; lock- and allocation-free
   void(MODKIT_ABI *counter_add)(modkit_metric_series *series, uint64_t n);
   // Sets a gauge. Does nothing for another kind. [thread-safe]; lock- and allocation-free
   void(MODKIT_ABI *gauge_set)(modkit_metric_series *series, double value);
   // Adds delta (may be negative) to a gauge. [thread-safe]; lock- and allocation-free
   void(MODKIT_ABI *gauge_add)(modkit_metric_series *series, double delta);
   // Records one observation in a histogram. [thread-safe]; lock- and allocation-free
   void(MODKIT_ABI *histogram_observe)(modkit_metric_series *series, double value);
} modkit_metrics_api;

MODKIT_EXTERN_C_END
