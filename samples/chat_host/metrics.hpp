// metrics.hpp - counters the host exposes at GET /metrics, in the Prometheus text format:
// per module and callback, calls, errors and a latency histogram; module load and reload times;
// per cache hits, misses and invalidations; HTTP requests by status.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace chat {

class Metrics {
public:
   static constexpr std::array<double, 10> buckets{0.00001, 0.00005, 0.0001, 0.0005, 0.001,
                                                   0.005,   0.01,    0.05,   0.1,    1.0};

   // [thread-safe], all of them.
   void observe_call(const std::string &module, const std::string &callback, double seconds);
   void count_error(const std::string &module, const std::string &callback);
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
   struct Histogram {
      std::array<uint64_t, buckets.size()> counts{};
      uint64_t count = 0, errors = 0;
      double sum = 0;
   };
   using Key = std::pair<std::string, std::string>;
   mutable std::mutex mutex_;
   std::map<Key, Histogram> calls_;
   std::map<std::string, double> load_seconds_;
   std::map<std::string, std::pair<uint64_t, uint64_t>> reloads_; // ok, failed
   std::map<Key, CacheCounts> caches_;
   std::map<int, uint64_t> requests_;
};

} // namespace chat
