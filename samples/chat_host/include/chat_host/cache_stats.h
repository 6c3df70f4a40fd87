// chat_host/cache_stats.h - a chat host extension: modules report how their cached functions
// fare, so the host's /metrics and admin API show per-cache hits and misses next to the
// invalidations the host sends.
//
//   const chat_host_cache_stats *stats =
//      (const chat_host_cache_stats *)api->get_extension(host, CHAT_HOST_CACHE_STATS_ID);
//   if (stats) stats->record(stats->context, "my_module", "is_spam", hit);
//
// The host counts only caches the module registered with register_cached_function; reports
// for other names are ignored. Hosts other than the chat host return NULL for the ID.
#pragma once

#include <modkit/modkit.h>

MODKIT_EXTERN_C_BEGIN

static const char CHAT_HOST_CACHE_STATS_ID[] = "modkit.chat_host.cache_stats/1";

typedef struct chat_host_cache_stats {
   uint32_t struct_size; // sizeof(chat_host_cache_stats) as compiled into the host
   void *context;        // pass back to record
   // One lookup of module_name's cached function cache_name: hit true when the cache answered,
   // false when the function had to be computed. Strings are NUL-terminated, read during the
   // call only.
   // [thread-safe]
   void(MODKIT_ABI *record)(void *context, const char *module_name, const char *cache_name, bool hit);
} chat_host_cache_stats;

MODKIT_EXTERN_C_END
