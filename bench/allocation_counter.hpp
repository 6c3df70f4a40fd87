// allocation_counter.hpp - heap allocations made in this process, counted by replacing the
// global operator new (allocation_counter.cpp, linked into every benchmark binary), so a
// benchmark can report allocations per iteration.
#pragma once

#include <atomic>
#include <cstdint>

extern std::atomic<std::uint64_t> modkit_bench_allocations;
