// allocation_counter.hpp - heap allocations made in this process, counted by replacing the
// global operator new (allocation_counter.cpp, linked into every benchmark binary), so a
// benchmark can report allocations per iteration.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

extern std::atomic<std::uint64_t> modkit_bench_allocations;
// The bytes those allocations asked for.
extern std::atomic<std::uint64_t> modkit_bench_allocated_bytes;

// Reports the heap allocations made while it lives, per iteration, as the counter
// "allocs_per_iter" (summarize.py's column).
class Allocs {
public:
   explicit Allocs(benchmark::State &state) : state_(state), start_(modkit_bench_allocations.load()) {}
   ~Allocs() {
      const double made = static_cast<double>(modkit_bench_allocations.load() - start_);
      state_.counters["allocs_per_iter"] = state_.iterations() ? made / static_cast<double>(state_.iterations()) : 0;
   }
   Allocs(const Allocs &) = delete;
   Allocs &operator=(const Allocs &) = delete;

private:
   benchmark::State &state_;
   std::uint64_t start_;
};
