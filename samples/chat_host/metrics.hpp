// metrics.hpp - counters the host exposes at GET /metrics, in the Prometheus text format:
// per module and callback (and web resource), calls, errors and time, which the loader counts
// on the dispatch path without a lock (modkit_loader_metric_at); answers the host rejected;
// module load and reload times; per cache hits, misses and invalidations; HTTP requests by
// status.
#pragma once

#include <modkit/loader.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace chat {

class Metrics {
public:
   // The loader whose per-callback counts are reported; NULL detaches it before it goes.
   // [thread-safe], all of them.
   void attach(const modkit_loader *loader);
   // An answer the host could not use (out of range, malformed): the loader counted the call as
   // a success, so the host counts it as an error too. Only on that rare path.
   void count_rejected(const std::string &module, const std::string &callback);
   void set_load_seconds(const std::string &module, double seconds);
   void count_reload(const std::string &module, bool ok, double seconds);
   void count_cache(const std::string &module, const std::string &cache, bool hit);
   void count_invalidation(const std::string &module, const std::string &cache);
   void count_request(int status);

   struct CacheCounts {
      uint64_t hits = 0, misses = 0, invalidations = 0;
   };
   CacheCounts cache(const std::string &module, const std::string &cache) const;
   uint64_t calls(const std::string &module, const std::string &callback) const;
   uint64_t errors(const std::string &module, const std::string &callback) const;

   std::string render() const;

private:
   struct CallCounts {
      uint64_t calls = 0, errors = 0;
      double seconds = 0; // estimated from the loader's timed sample
   };
   using Key = std::pair<std::string, std::string>;
   // The loader's counts by (module, callback name as the host writes it). [mutex_ held]
   std::map<Key, CallCounts> loader_counts() const;

   mutable std::mutex mutex_; // guards everything below; never taken on a module call's success path
   const modkit_loader *loader_ = nullptr;
   std::map<Key, uint64_t> rejected_;
   std::map<std::string, double> load_seconds_;
   std::map<std::string, std::pair<uint64_t, uint64_t>> reloads_; // ok, failed
   std::map<Key, CacheCounts> caches_;
   std::map<int, uint64_t> requests_;
};

} // namespace chat
