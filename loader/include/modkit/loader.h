// modkit/loader.h - the loader's C API, for hosts in any language.
//
// A host creates a loader with the categories it supports, loads a host config (JSON:
// {"module_path": [...], "modules": [{"module": ..., "config": {...}}]}), dispatches callbacks
// through the registry, and destroys the loader, which unloads every module in reverse order.
//
// Ownership: every pointer a modkit_loader_* function returns is owned by the loader. Unless a
// function says otherwise, it stays valid until the next call that loads, unloads or reloads
// modules on that loader, or until modkit_loader_destroy. The lookups that read the registry
// (modules, slots, web resources, caches) read its current snapshot: called inside a read
// section, what they return stays valid until that section ends, whatever other threads
// unload or reload meanwhile.
// Threads: functions that change the module set ([main-thread]) must not run concurrently with
// each other or with dispatch. Read-only functions marked [thread-safe] may run concurrently
// with each other and with dispatch.
#pragma once

#include <modkit/modkit.h>

#if defined(MODKIT_LOADER_BUILD)
#   define MODKIT_LOADER_API __attribute__((visibility("default")))
#else
#   define MODKIT_LOADER_API
#endif

MODKIT_EXTERN_C_BEGIN

typedef struct modkit_loader modkit_loader;

// Receives every log line: the loader's own (module == NULL) and modules' (module = its name).
// message is valid only during the call. Called from whichever thread logged.
typedef void (*modkit_loader_log_fn)(void *user_data, modkit_log_level level, const char *module,
                                     modkit_str message);

// Host-specific services handed to modules through modkit_host_api.get_extension.
typedef const void *(*modkit_loader_extension_fn)(void *user_data, const char *extension_id);

typedef struct modkit_loader_options {
   uint32_t struct_size; // sizeof(modkit_loader_options)

   // The categories this host dispatches. The array and the descriptors are borrowed and
   // must outlive the loader.
   const modkit_category *const *categories;
   size_t category_count;

   // Relative "module_path" entries resolve against this directory; NULL: the current one.
   // modkit_loader_load_file sets it to the config file's directory when it is NULL.
   const char *base_dir;

   modkit_loader_log_fn log;   // NULL: lines go to stderr
   void *log_user_data;

   // Development only: accept module files owned by any user. Off by default; logged when on.
   bool allow_any_owner;

   // Web paths modules may not register under (e.g. "/_matrix/"); borrowed.
   const char *const *reserved_web_prefixes;
   size_t reserved_web_prefix_count;

   modkit_loader_extension_fn get_extension; // NULL: modules see no extensions
   void *extension_user_data;

   // More categories, described in JSON (NUL-terminated; NULL for none) for hosts without C
   // headers for them; the format is in docs/host-integration.md. Copied at creation.
   const char *categories_json;

   // Since 1.1: how long unload and reload wait for suspended calls to complete before they
   // give up on the module: it is then reported by name and kept loaded, never unmapped
   // under a call. 0: 10,000 ms.
   uint32_t pending_wait_ms;

   // Since 1.1: the standard services (docs/services.md). The loader serves every
   // "modkit.<service>/1" ID itself unless get_extension answers it first: that is how a host
   // replaces a service. A host that does stops a module instance's work in its replacements
   // here: called on the main thread before the instance's deinit (also before the file of a
   // module whose init failed is closed), after the loader drained its own services for it.
   // When it returns, nothing of the host's may call into that instance again. host is the
   // handle the instance called the services with. NULL: nothing to stop. Gets
   // extension_user_data.
   void (*module_stopping)(void *user_data, modkit_host *host);
} modkit_loader_options;

// The descriptor name of the module instance whose host handle this is (what a host's own
// service implementation logs), or "" for a handle the loader did not make. Valid until that
// instance's deinit returns.
// [thread-safe]
MODKIT_LOADER_API const char *modkit_loader_host_module_name(const modkit_host *host);

// Since 1.1: a number naming this module instance, unique in the process and never reused (a
// reloaded module's new instance has a new one, even if its handle has the old address), or 0
// for a handle the loader did not make. A host keys what it keeps per instance by it. Valid until
// that instance's deinit returns.
// [thread-safe]
MODKIT_LOADER_API uint64_t modkit_loader_host_instance_id(const modkit_host *host);

// Every module's standard metrics (modkit/services/metrics.h) and, with
// MODKIT_LOADER_METRICS_CALLBACKS, the per-callback metrics (calls, errors, sampled time), in the
// Prometheus text exposition format (version 0.0.4). write receives the text in pieces, on the
// calling thread, before this returns. Module metric names are modkit_mod_<prefix><name> (the
// module's storage table prefix, "spam_filter__"), unique across modules (a clash is refused at
// registration); a host's own families must not start with modkit_mod_.
// [thread-safe]
enum {
   MODKIT_LOADER_METRICS_MODULES = 1u << 0,   // what modules registered through modkit.metrics/1
   MODKIT_LOADER_METRICS_CALLBACKS = 1u << 1, // modkit_callback_calls_total and the like
};
typedef void (*modkit_loader_text_fn)(void *user_data, const char *data, size_t size);
MODKIT_LOADER_API void modkit_loader_metrics_text(const modkit_loader *loader, uint32_t what,
                                                  modkit_loader_text_fn write, void *user_data);

// Creates a loader. options is copied (not the arrays it points to).
// Returns MODKIT_E_INVALID_ARGUMENT for a malformed category; modkit_loader_create_error then
// says which and why (the log says it too).
// [main-thread]
MODKIT_LOADER_API modkit_status modkit_loader_create(const modkit_loader_options *options,
                                                     modkit_loader **out);

// Why the last modkit_loader_create on the calling thread failed; "" after a success. The
// string is owned by the loader library and valid until the thread's next create.
// [thread-safe]
MODKIT_LOADER_API const char *modkit_loader_create_error(void);

// Unloads every module in reverse config order (deinit, then dlclose) and frees the loader.
// No dispatch may be running. NULL is ignored.
// [main-thread]
MODKIT_LOADER_API void modkit_loader_destroy(modkit_loader *loader);

// Loads every module of a host config, in order: resolve, trust, inspect, link, configure
// (schema, parse_config) and then init. All or nothing: the static and configuration stages
// run for every module and all their errors are collected; if any failed, or an init fails,
// the modules already initialised are unloaded again and the call fails. The errors are then
// read with modkit_loader_error_count/_at. Once a load succeeds, the loader is loaded for good
// (MODKIT_E_STATE afterwards); after a failed one, nothing is loaded and it may be tried again.
// [main-thread]
MODKIT_LOADER_API modkit_status modkit_loader_load(modkit_loader *loader, const char *config_json,
                                                   size_t config_size);

// The same, reading the config from a file.
// [main-thread]
MODKIT_LOADER_API modkit_status modkit_loader_load_file(modkit_loader *loader, const char *path);

// Writes a line through the loader's log sink, attributed to module (NULL: the host itself).
// Hosts use it to report callback failures in the same stream as the loader's own lines.
// [thread-safe]
MODKIT_LOADER_API void modkit_loader_log(const modkit_loader *loader, modkit_log_level level,
                                         const char *module, modkit_str message);

// ---- errors of the last failed call, as data ----

typedef struct modkit_loader_error {
   uint32_t struct_size;
   modkit_status code;
   const char *stage;   // "config", "resolve", "trust", "inspect", "link", "configure", "init"
   const char *module;  // the module as named in the host config ("" if unknown)
   const char *file;    // the resolved file ("" before resolution)
   const char *pointer; // JSON pointer into the host config, e.g. "/modules/1/config/max_size"
   const char *message; // what was expected and what was found
   const char *text;    // all of the above as one line, for humans
} modkit_loader_error;

// [thread-safe]
MODKIT_LOADER_API size_t modkit_loader_error_count(const modkit_loader *loader);
// NULL when index is out of range. [thread-safe]
MODKIT_LOADER_API const modkit_loader_error *modkit_loader_error_at(const modkit_loader *loader,
                                                                    size_t index);

// ---- loaded modules ----

typedef struct modkit_loader_module {
   uint32_t struct_size;
   const char *name;        // from the module's descriptor
   const char *version;
   const char *description; // "" when the module has none
   const char *path;        // the file that was checked and loaded
   const char *config_json; // the normalised config that init received
   size_t position;         // index in the host config's "modules" array
} modkit_loader_module;

// The modules of the current snapshot (see "Ownership" above; modkit_loader_snapshot.modules
// is the same list as seen by one snapshot).
// [thread-safe]
MODKIT_LOADER_API size_t modkit_loader_module_count(const modkit_loader *loader);
// In config order; NULL when out of range. [thread-safe]
MODKIT_LOADER_API const modkit_loader_module *modkit_loader_module_at(const modkit_loader *loader,
                                                                      size_t index);

// ---- the registry ----

// One module's callback for a slot. fn is the slot's function pointer; cast it to the slot's
// type (the category header's callbacks struct) before calling it with user_data first.
typedef struct modkit_loader_entry {
   void (*fn)(void);
   void *user_data;
   uint32_t module_index; // the module's index in the snapshot that holds this entry
   // Since 1.1: the registration's metric (1-based index for modkit_loader_metric_at; 0: not
   // counted). Zero in 1.0 loaders.
   uint32_t reserved;
} modkit_loader_entry;

// Every registrant of one slot, in config order.
typedef struct modkit_loader_slot {
   const modkit_category *category;
   const modkit_slot_desc *desc;
   const modkit_loader_entry *entries;
   size_t count;
} modkit_loader_slot;

// Finds a slot by category ID and slot index (the category header's slot enum) or name, in the
// current snapshot. MODKIT_E_NOT_FOUND for a category the loader was not created with or an
// unknown slot. Called outside a read section while another thread is unloading or reloading a
// module, the answer could be freed under the caller: that misuse is refused with MODKIT_E_STATE
// (and logged) instead. Dispatch that may race with unload belongs in a read section.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_slot_at(const modkit_loader *loader,
                                                      const char *category_id,
                                                      uint32_t slot_index,
                                                      const modkit_loader_slot **out);
MODKIT_LOADER_API modkit_status modkit_loader_find_slot(const modkit_loader *loader,
                                                        const char *category_id,
                                                        const char *slot_name,
                                                        const modkit_loader_slot **out);

// ---- read sections: dispatch while modules are unloaded or reloaded ----
//
// The registry is published as immutable snapshots. A dispatch that may race with
// modkit_loader_unload_module / _reload_module reads the snapshot inside a read section on its
// own thread; an unload or reload publishes a new snapshot and waits until every section that
// may still see the old one has ended before it runs deinit and dlclose. Read sections take no
// lock and allocate nothing: begin and end are two plain stores on a thread's own cache line.
//
//   modkit_loader_reader *reader = modkit_loader_reader_get(loader);     // once per thread
//   const modkit_loader_snapshot *snap = modkit_loader_read_begin(reader);
//   const modkit_loader_slot *slot = modkit_loader_snapshot_slot(snap, category, slot_index);
//   ... call slot->entries[i].fn ...
//   modkit_loader_read_end(reader);
//
// The three are inline for speed; hosts that cannot use inline C (ctypes, bindgen, other
// languages' FFIs) call the exported modkit_loader_read_section_begin / _end and
// modkit_loader_snapshot_slot_at, which do the same.

typedef struct modkit_loader_web_resource modkit_loader_web_resource;
typedef struct modkit_loader_cache modkit_loader_cache;

// The registry at one moment. Owned by the loader; valid until the read section in which it
// was obtained ends. Nothing in it changes while it is valid. Only the loader creates
// snapshots, so the struct grows at its end in later minors: read fields added after 1.0 only
// after MODKIT_HAS_FIELD says they are there.
typedef struct modkit_loader_snapshot {
   uint32_t struct_size;
   uint32_t category_count;             // categories in the order the loader was created with
   const modkit_loader_slot *const *slots; // slots[category index][slot index]
   const uint32_t *slot_counts;         // slot_counts[category index]
   size_t web_resource_count;
   const modkit_loader_web_resource *web_resources;
   size_t cache_count;
   const modkit_loader_cache *caches;
   uint64_t generation;                 // increases with every change of the module set

   // Since 1.1: the loaded modules, in config order; modules[entry.module_index] is the module
   // of a registration in this snapshot.
   size_t module_count;
   const modkit_loader_module *modules;
   // Since 1.1: per web resource (parallel to web_resources), its metric for
   // modkit_loader_metrics_count (see "per-callback metrics").
   const uint32_t *web_resource_metrics;
} modkit_loader_snapshot;

// Per-thread counts of one (module, slot) registration; see modkit_loader_metric. Written only
// by the thread that owns the reader, with relaxed atomic stores; read by anyone with relaxed
// atomic loads.
typedef struct modkit_loader_counter {
   uint64_t calls;       // calls that returned
   uint64_t errors;      // calls that returned a status other than MODKIT_OK
   uint64_t timed_calls; // the sampled calls whose time was measured
   uint64_t timed_ns;    // their total time, in nanoseconds
} modkit_loader_counter;

// A thread's registration for read sections. The fields belong to the loader: hosts only pass
// the pointer to the functions below, and only on the thread that got it. Only the loader
// creates readers, so the struct grows at its end in later minors.
typedef struct modkit_loader_reader {
   uint32_t struct_size;
   uint32_t depth;   // nesting of read sections on this thread
   uint32_t fenced;  // 1 when this system lacks membarrier(2) and readers must fence
   uint32_t reserved;
   uint64_t active;  // the epoch the outermost section began in; 0 outside any section
   const volatile uint64_t *epoch;
   const modkit_loader_snapshot *const volatile *current;
   char padding[24]; // one cache line per reader: readers never share one

   // Since 1.1: this thread's metric counters, indexed by modkit_loader_entry.reserved - 1.
   modkit_loader_counter *counters;
   uint32_t counter_capacity;
   uint32_t sample_countdown; // calls left until the next timed one
} modkit_loader_reader;

// Whether the inline read-section functions below are compiled inline. They need the GCC/Clang
// __atomic builtins (C11's <stdatomic.h> works only on _Atomic objects and is not C++); where
// those are missing, or when a host defines MODKIT_LOADER_INLINE_READS to 0 before including
// this header, each inline function calls its exported twin instead. Same protocol either way.
#ifndef MODKIT_LOADER_INLINE_READS
#   if defined(__GNUC__) || defined(__clang__)
#      define MODKIT_LOADER_INLINE_READS 1
#   else
#      define MODKIT_LOADER_INLINE_READS 0
#   endif
#endif

// The calling thread's reader for this loader (registered on first call; cheap afterwards,
// but still worth keeping per thread). Valid until the loader is destroyed or the thread
// exits, whichever comes first: a thread that exits gives its reader back, with its counts.
// [thread-safe]
MODKIT_LOADER_API modkit_loader_reader *modkit_loader_reader_get(modkit_loader *loader);

// The exported forms of the three inline functions below, for FFI hosts. Same rules.
// [thread-safe]; reader must be the calling thread's
MODKIT_LOADER_API const modkit_loader_snapshot *modkit_loader_read_section_begin(modkit_loader_reader *reader);
MODKIT_LOADER_API void modkit_loader_read_section_end(modkit_loader_reader *reader);
// [thread-safe]
MODKIT_LOADER_API const modkit_loader_slot *modkit_loader_snapshot_slot_at(const modkit_loader_snapshot *snapshot,
                                                                           uint32_t category_index,
                                                                           uint32_t slot_index);

// Begins a read section (sections nest) and returns the current snapshot.
// [thread-safe]; reader must be the calling thread's
static inline const modkit_loader_snapshot *modkit_loader_read_begin(modkit_loader_reader *reader) {
#if MODKIT_LOADER_INLINE_READS
   if (reader->depth++ == 0) {
      __atomic_store_n(&reader->active, __atomic_load_n(reader->epoch, __ATOMIC_ACQUIRE), __ATOMIC_RELAXED);
      if (reader->fenced) __atomic_thread_fence(__ATOMIC_SEQ_CST);
      else __atomic_signal_fence(__ATOMIC_SEQ_CST);
   }
   return __atomic_load_n(reader->current, __ATOMIC_ACQUIRE);
#else
   return modkit_loader_read_section_begin(reader);
#endif
}

// Ends the innermost read section; snapshots obtained in the outermost one become invalid.
// [thread-safe]; reader must be the calling thread's
static inline void modkit_loader_read_end(modkit_loader_reader *reader) {
#if MODKIT_LOADER_INLINE_READS
   if (--reader->depth == 0) __atomic_store_n(&reader->active, (uint64_t)0, __ATOMIC_RELEASE);
#else
   modkit_loader_read_section_end(reader);
#endif
}

// The registrants of one slot in a snapshot; NULL when out of range. Constant time.
// [thread-safe]
static inline const modkit_loader_slot *modkit_loader_snapshot_slot(const modkit_loader_snapshot *snapshot,
                                                                    uint32_t category_index,
                                                                    uint32_t slot_index) {
   if (category_index >= snapshot->category_count || slot_index >= snapshot->slot_counts[category_index])
      return (const modkit_loader_slot *)0;
   return &snapshot->slots[category_index][slot_index];
}

// ---- per-callback metrics (since 1.1) ----
//
// For every (module, slot) registration, and every web resource, the loader counts the calls
// that returned, those that failed, and the time of a sample of them: one call in MODKIT_LOADER_SAMPLE_PERIOD on each
// thread is timed, and the sample's mean estimates the rest (timing every call would cost more
// than a dispatch). A dispatch records them with the two inline functions below around each
// call, into counters of the calling thread's own reader: no lock, no atomic read-modify-write
// and no allocation on the way (a thread's counter array grows once, when it first meets a
// registration beyond its capacity). modkit::ReadGuard::metered (loader.hpp) and the dynamic
// path (modkit_loader_dispatch_json, _call_json) record them for the host.
//
//   uint64_t started = modkit_loader_metrics_begin(reader);
//   modkit_status status = fn(entry->user_data, &call, ...);
//   modkit_loader_metrics_end(reader, entry, status, started);

// One clock read costs more than a dispatch (tens of ns in a VM): at 1 in 16 it doubled the
// cost of counting, at 1 in 256 it is a fraction of a nanosecond per call.
#define MODKIT_LOADER_SAMPLE_PERIOD 256u

// Keeps the rare paths (growing the counters, the timed sample) out of the way of the common one.
#if defined(__GNUC__) || defined(__clang__)
#   define MODKIT_LOADER_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#   define MODKIT_LOADER_LIKELY(x) (x)
#endif

// CLOCK_MONOTONIC in nanoseconds. [thread-safe]
MODKIT_LOADER_API uint64_t modkit_loader_now_ns(void);

// Grows the calling thread's counter array to hold metric (1-based); called by
// modkit_loader_metrics_end when needed. Leaves the capacity as it was when out of memory.
// [thread-safe]; reader must be the calling thread's
MODKIT_LOADER_API void modkit_loader_counters_reserve(modkit_loader_reader *reader, uint32_t metric);

// The exported forms of the two inline functions below, for FFI hosts. Same rules.
// [thread-safe]; reader must be the calling thread's
MODKIT_LOADER_API uint64_t modkit_loader_metrics_call_begin(modkit_loader_reader *reader);
MODKIT_LOADER_API void modkit_loader_metrics_call_count(modkit_loader_reader *reader, uint32_t metric,
                                                        modkit_status status, uint64_t started);

// The category ID under which web resources are counted; their path is the slot name.
#define MODKIT_LOADER_WEB_RESOURCE_METRICS "modkit.web_resource"

// Before a call: non-zero (the start time) when this call is one of the timed sample.
// [thread-safe]; reader must be the calling thread's
static inline uint64_t modkit_loader_metrics_begin(modkit_loader_reader *reader) {
   if (MODKIT_LOADER_LIKELY(--reader->sample_countdown != 0)) return 0;
   reader->sample_countdown = MODKIT_LOADER_SAMPLE_PERIOD;
   return modkit_loader_now_ns();
}

// After a call: counts it under metric (1-based; 0 counts nothing). started is what _begin
// returned. Callbacks use _end below; web resources pass snapshot->web_resource_metrics[i].
// [thread-safe]; reader must be the calling thread's
static inline void modkit_loader_metrics_count(modkit_loader_reader *reader, uint32_t metric, modkit_status status,
                                               uint64_t started) {
#if MODKIT_LOADER_INLINE_READS
   modkit_loader_counter *c;
   if (metric == 0) return;
   if (!MODKIT_LOADER_LIKELY(metric <= reader->counter_capacity)) {
      modkit_loader_counters_reserve(reader, metric);
      if (metric > reader->counter_capacity) return;
   }
   // Only this thread writes its counters; relaxed stores let others read them without a race.
   c = &reader->counters[metric - 1];
   __atomic_store_n(&c->calls, c->calls + 1, __ATOMIC_RELAXED);
   if (status != MODKIT_OK) __atomic_store_n(&c->errors, c->errors + 1, __ATOMIC_RELAXED);
   if (!MODKIT_LOADER_LIKELY(started == 0)) {
      __atomic_store_n(&c->timed_ns, c->timed_ns + (modkit_loader_now_ns() - started), __ATOMIC_RELAXED);
      __atomic_store_n(&c->timed_calls, c->timed_calls + 1, __ATOMIC_RELAXED);
   }
#else
   modkit_loader_metrics_call_count(reader, metric, status, started);
#endif
}

// After a callback: counts it for entry's registration (entry->reserved is its metric).
// [thread-safe]; reader must be the calling thread's
static inline void modkit_loader_metrics_end(modkit_loader_reader *reader, const modkit_loader_entry *entry,
                                             modkit_status status, uint64_t started) {
   modkit_loader_metrics_count(reader, entry->reserved, status, started);
}

// One registration's counts, summed over every thread (also threads that have exited).
typedef struct modkit_loader_metric {
   uint32_t struct_size;    // set by the caller: sizeof(modkit_loader_metric)
   uint32_t reserved;
   const char *module;      // descriptor name
   const char *category_id; // or MODKIT_LOADER_WEB_RESOURCE_METRICS for a web resource
   const char *slot;        // slot name, or the web resource's path
   uint64_t calls;
   uint64_t errors;
   uint64_t timed_calls;    // the sample: calls whose time was measured
   uint64_t timed_ns;       // the sample's total time; timed_ns / timed_calls * calls estimates all
} modkit_loader_metric;

// How many registrations have metrics: every (module, slot) ever registered on this loader
// (an unloaded module's counts stay; a reloaded one goes on counting in the same metric).
// [thread-safe]
MODKIT_LOADER_API size_t modkit_loader_metric_count(const modkit_loader *loader);

// Reads metric index (0-based) into out, whose struct_size the caller sets; fields past it are
// not written. The strings are owned by the loader and valid until it is destroyed.
// MODKIT_E_NOT_FOUND when index is out of range. Counts read while calls run are each exact at
// some moment, not all at the same one.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_metric_at(const modkit_loader *loader, size_t index,
                                                        modkit_loader_metric *out);

// The index of a category in snapshots, or -1 when the loader was not created with it.
// [thread-safe]
MODKIT_LOADER_API int32_t modkit_loader_category_index(const modkit_loader *loader, const char *category_id);

// A web resource a module registered.
struct modkit_loader_web_resource {
   const char *path;
   modkit_web_handler handler;
   void *user_data;
   uint32_t module_index;
};

// [thread-safe]
MODKIT_LOADER_API size_t modkit_loader_web_resource_count(const modkit_loader *loader);
MODKIT_LOADER_API const modkit_loader_web_resource *
modkit_loader_web_resource_at(const modkit_loader *loader, size_t index);

// A cached function a module registered.
struct modkit_loader_cache {
   const char *name;
   uint32_t module_index;
};

// [thread-safe]
MODKIT_LOADER_API size_t modkit_loader_cache_count(const modkit_loader *loader);
MODKIT_LOADER_API const modkit_loader_cache *modkit_loader_cache_at(const modkit_loader *loader,
                                                                    size_t index);

// Invalidates module_name's cached function name: the entry for key_json (a JSON array), or
// every entry when key_json is NULL. MODKIT_E_NOT_FOUND when no such cache is registered.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_invalidate_cache(modkit_loader *loader,
                                                               const char *module_name,
                                                               const char *name,
                                                               const modkit_str *key_json);

// ---- calls into modules ----

// The per-call handle. Hosts fill one in (usually on the stack) for each dispatch; modules see
// it as opaque and read it through modkit_host_api's call_* functions.
typedef void (*modkit_loader_call_done_fn)(void *user_data, modkit_call *call, modkit_status status);
// Receives what a module passed to call_set_error (checked: errcode matches [A-Z0-9_]{1,64},
// extra_json is absent or a JSON object). The strings are valid during the call only.
typedef void (*modkit_loader_call_error_fn)(void *user_data, modkit_call *call, modkit_str errcode,
                                            modkit_str message, modkit_str extra_json);

struct modkit_call {
   uint32_t struct_size;            // sizeof(struct modkit_call)
   uint32_t reserved;               // zero
   modkit_str request_id;           // borrowed; may be empty
   int64_t deadline_ns;             // CLOCK_MONOTONIC nanoseconds; 0 for none
   const volatile int32_t *cancelled; // non-zero once cancelled; may be NULL

   // Since 1.1: asynchronous completion, set up by modkit_loader_call_arm for one callback at a
   // time. Zero (as modkit_call_make leaves them): the call cannot suspend. After arming, the
   // fields belong to the loader's functions until the call is answered or completed.
   modkit_loader_call_done_fn done;  // receives a suspended call's completion
   void *done_user_data;
   const modkit_loader *loader;      // where a misused completion is logged; may be NULL
   uint32_t state;                   // MODKIT_LOADER_CALL_* below
   modkit_status status;             // the status of a completion that beat the return

   // Since 1.1: where the module's call_set_error goes, on the thread that calls it. NULL (as
   // modkit_call_make leaves it): the host keeps no errors, and the module is told so.
   modkit_loader_call_error_fn on_error;
   void *error_user_data;
};

// The states of a call's completion protocol (modkit_call.state).
enum {
   MODKIT_LOADER_CALL_IDLE = 0,      // not armed: the callback cannot suspend
   MODKIT_LOADER_CALL_ARMED = 1,     // a callback that may suspend is running
   MODKIT_LOADER_CALL_SUSPENDED = 2, // it returned MODKIT_PENDING; done will receive the status
   MODKIT_LOADER_CALL_COMPLETED = 3, // it completed before returning MODKIT_PENDING
};

// Initialises a call handle with no deadline and no cancellation; it cannot suspend.
// [thread-safe]
static inline modkit_call modkit_call_make(modkit_str request_id) {
   modkit_call c;
   c.struct_size = sizeof(modkit_call);
   c.reserved = 0;
   c.request_id = request_id;
   c.deadline_ns = 0;
   c.cancelled = (const volatile int32_t *)0;
   c.done = (modkit_loader_call_done_fn)0;
   c.done_user_data = (void *)0;
   c.loader = (const modkit_loader *)0;
   c.state = MODKIT_LOADER_CALL_IDLE;
   c.status = MODKIT_OK;
   c.on_error = (modkit_loader_call_error_fn)0;
   c.error_user_data = (void *)0;
   return c;
}

// ---- asynchronous calls (since 1.1) ----
//
// A host that accepts MODKIT_PENDING arms the call before each callback it invokes, then passes
// the callback's return value through modkit_loader_call_returned:
//
//   modkit_loader_call_arm(&call, on_done, state, loader);
//   modkit_status s = modkit_loader_call_returned(&call, fn(entry->user_data, &call, ...));
//   if (s == MODKIT_PENDING) { ...pin, leave the read section; on_done(state, &call, status) follows... }
//   else { ...the callback answered (also when it completed before returning)... }
//
// on_done runs exactly once per suspension, on the thread that completed the call, possibly
// before modkit_loader_call_returned has returned on the dispatching thread: whatever it needs
// must be set up before the callback is invoked. While a call is suspended, the host keeps
// the handle and every output it passed alive and unmoved, and keeps the module's snapshot
// pinned (modkit_loader_pin), never a read section. modkit::AsyncDispatch (modkit/async.hpp)
// and modkit_loader_dispatch_json_async do all of this for hosts.

// Arms call for one callback invocation that may suspend. loader (may be NULL) is where a
// module's misused completion is logged.
// [thread-safe] for distinct calls; the call must not be suspended
static inline void modkit_loader_call_arm(modkit_call *call, modkit_loader_call_done_fn done, void *user_data,
                                          const modkit_loader *loader) {
   call->done = done;
   call->done_user_data = user_data;
   call->loader = loader;
   call->status = MODKIT_OK;
   call->state = MODKIT_LOADER_CALL_ARMED;
}

// Takes what an armed callback returned: MODKIT_PENDING when the call is now suspended (done
// will receive the completion), the completion's status when the module completed it before
// returning MODKIT_PENDING, and status itself otherwise. Disarms the call unless suspended.
// [thread-safe]; on the thread that invoked the callback, once per invocation
MODKIT_LOADER_API modkit_status modkit_loader_call_settle(modkit_call *call, modkit_status status);

static inline modkit_status modkit_loader_call_returned(modkit_call *call, modkit_status status) {
   if (MODKIT_LOADER_LIKELY(status != MODKIT_PENDING)) {
      call->state = MODKIT_LOADER_CALL_IDLE;
      return status;
   }
   return modkit_loader_call_settle(call, status);
}

// Pins snapshot for a suspended call into module_index: until the matching unpin, the snapshot
// and every module in it stay loaded, as they would for a read section, but no thread is held.
// Unload and reload wait for pins (bounded: see modkit_loader_options.pending_wait_ms). Call it
// inside a read section that returned snapshot, or while holding another pin on it.
// [thread-safe]
MODKIT_LOADER_API void modkit_loader_pin(const modkit_loader_snapshot *snapshot, uint32_t module_index);
// Releases a pin. snapshot may be freed as soon as this returns. [thread-safe]
MODKIT_LOADER_API void modkit_loader_unpin(const modkit_loader_snapshot *snapshot, uint32_t module_index);

// A one-shot timer on the loader's timer thread, for deadlines: fire(user_data) runs there
// once, at or after deadline_ns (CLOCK_MONOTONIC), unless cancelled first. *id identifies it.
// [thread-safe]
typedef void (*modkit_loader_timer_fn)(void *user_data);
MODKIT_LOADER_API modkit_status modkit_loader_timer_start(modkit_loader *loader, int64_t deadline_ns,
                                                          modkit_loader_timer_fn fire, void *user_data,
                                                          uint64_t *id);
// True when the timer was removed before it fired; false when it has fired or is firing (then
// fire owns whatever user_data it was given). [thread-safe]; never from inside fire
MODKIT_LOADER_API bool modkit_loader_timer_cancel(modkit_loader *loader, uint64_t id);

// ---- changing one module while the others run ----

// Unloads the module whose descriptor name is module_name: its registrations are revoked,
// then, once every read section that might still see them has ended, deinit runs and the file
// is closed. Later modules keep their order. MODKIT_E_NOT_FOUND when no such module is loaded;
// MODKIT_E_STATE when called inside the calling thread's own read section.
// [main-thread]; other threads may dispatch meanwhile, inside read sections (see below);
// dispatch outside read sections, and the module list functions, must not run concurrently
MODKIT_LOADER_API modkit_status modkit_loader_unload_module(modkit_loader *loader, const char *module_name);

// Reloads a module through the whole pipeline (the file is resolved, checked and linked again,
// so a new build at the same path is picked up), initialises the new instance and swaps it in
// at the old one's position; the old instance is then deinitialised and closed. If any stage
// fails, the old instance keeps running untouched and the errors are reported as for a load.
// Every dispatch sees either the old instance or the new one, never both and never neither.
// [main-thread]; the same rules as modkit_loader_unload_module
MODKIT_LOADER_API modkit_status modkit_loader_reload_module(modkit_loader *loader, const char *module_name);

// ---- the dynamic path: slots by name, arguments and answers as JSON ----

// Calls a slot for every registrant under its combination and exception policies and writes
// a JSON document to result:
//   {"outcome": "decided"|"no_opinion"|"failed_closed"|"error", "status": "ok"|...,
//    "module": deciding module or null, "answer": its outputs or null,
//    "answers": [{"module", "status", "outputs"}, ...], "chain_to": slot or null}
// args_json is an object keyed by parameter name, or an array in signature order, of the
// slot's inputs (the JSON form of each type is in docs/signature-grammar.md). call may be NULL.
// Returns MODKIT_E_NOT_FOUND for an unknown category or slot, MODKIT_E_INVALID_ARGUMENT when
// the arguments do not fit (result then holds {"error": "..."} naming the argument), the
// module's status when the outcome is "error", and MODKIT_OK otherwise.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_dispatch_json(modkit_loader *loader, const char *category_id,
                                                            const char *slot_name, const char *args_json,
                                                            size_t args_size, modkit_call *call,
                                                            modkit_buffer *result);

// Calls one module's callback for a slot; result gets {"module", "status", "outputs"}.
// Returns the callback's status, or MODKIT_E_NOT_FOUND / MODKIT_E_INVALID_ARGUMENT as above.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_call_json(modkit_loader *loader, const char *module_name,
                                                        const char *category_id, const char *slot_name,
                                                        const char *args_json, size_t args_size,
                                                        modkit_call *call, modkit_buffer *result);

// ---- the dynamic path, asynchronously (since 1.1) ----

// One asynchronous dynamic dispatch. Owned by the host from modkit_loader_dispatch_json_async
// until modkit_loader_async_release; the loader keeps what it needs beyond that itself.
typedef struct modkit_loader_async modkit_loader_async;

// Receives the dispatch's result: status and result_json as modkit_loader_dispatch_json returns
// and writes them; result_json is valid during the call only. Called exactly once, on the
// thread that finished the dispatch: the caller's own before dispatch_json_async returns when no
// module suspended, a module's thread that completed, or the loader's timer thread on the
// deadline (status MODKIT_E_TIMEOUT unless the slot fails open).
typedef void (*modkit_loader_async_done_fn)(void *user_data, modkit_status status, modkit_str result_json);

typedef struct modkit_loader_async_options {
   uint32_t struct_size;  // sizeof(modkit_loader_async_options)
   uint32_t reserved;
   modkit_str request_id; // copied; may be empty
   int64_t deadline_ns;   // CLOCK_MONOTONIC nanoseconds; 0 for none
} modkit_loader_async_options;

// modkit_loader_dispatch_json that lets modules suspend. Modules are called in config order, each
// after the one before has completed, with the slot's combination and exception policies; a
// suspended module holds a pin, not a read section. On the deadline or on
// modkit_loader_async_cancel the dispatch stops calling modules, treats the module it waits for
// as failed (MODKIT_E_TIMEOUT, MODKIT_E_CANCELLED) under the slot's exception policy, and calls
// done at once; that module's late completion is then ignored. options may be NULL. *out
// receives the handle (also when done was called already). When nothing could start (no such
// slot, arguments that do not fit), done is called at once with {"error": ...} and that status
// (MODKIT_E_NOT_FOUND, MODKIT_E_INVALID_ARGUMENT) is also returned.
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_dispatch_json_async(modkit_loader *loader, const char *category_id,
                                                                  const char *slot_name, const char *args_json,
                                                                  size_t args_size,
                                                                  const modkit_loader_async_options *options,
                                                                  modkit_loader_async_done_fn done,
                                                                  void *user_data, modkit_loader_async **out);

// Cancels: modules see call_is_cancelled, no further module is called, and done (if it has not
// run) runs now. [thread-safe]; before release
MODKIT_LOADER_API void modkit_loader_async_cancel(modkit_loader_async *async);

// Gives the handle back; done still runs if it has not yet. [thread-safe]; once
MODKIT_LOADER_API void modkit_loader_async_release(modkit_loader_async *async);

// Describes the loaded modules and what each registered, as JSON:
//   {"modules": [{"name", "version", "description", "path", "position", "config",
//                 "registrations": {category_id: [slot names]}, "web_resources": [paths],
//                 "cached_functions": [names]}],
//    "categories": [{"id", "version", "slots": [{"name", "signature", "combine", "on_error"}]}]}
// [thread-safe]
MODKIT_LOADER_API modkit_status modkit_loader_describe_json(const modkit_loader *loader, modkit_buffer *out);

// ---- output buffers for "*buf" parameters ----

// A host-owned buffer modules append to through modkit_host_api.buffer_append.
// [thread-safe] for distinct buffers
MODKIT_LOADER_API modkit_buffer *modkit_loader_buffer_create(void);
MODKIT_LOADER_API void modkit_loader_buffer_destroy(modkit_buffer *buffer);
// The bytes appended so far; valid until the next append, clear or destroy.
MODKIT_LOADER_API modkit_str modkit_loader_buffer_data(const modkit_buffer *buffer);
MODKIT_LOADER_API void modkit_loader_buffer_clear(modkit_buffer *buffer);

// ---- HTTP responses for web resources ----

// A response a handler writes through modkit_host_api's response_* functions.
// [thread-safe] for distinct responses
MODKIT_LOADER_API modkit_http_response *modkit_loader_response_create(void);
MODKIT_LOADER_API void modkit_loader_response_destroy(modkit_http_response *response);
MODKIT_LOADER_API int32_t modkit_loader_response_status(const modkit_http_response *response);
MODKIT_LOADER_API modkit_str modkit_loader_response_body(const modkit_http_response *response);
MODKIT_LOADER_API size_t modkit_loader_response_header_count(const modkit_http_response *response);
// Header name and value; false when index is out of range.
MODKIT_LOADER_API bool modkit_loader_response_header_at(const modkit_http_response *response,
                                                        size_t index, modkit_str *name,
                                                        modkit_str *value);

MODKIT_EXTERN_C_END
