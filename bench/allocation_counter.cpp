#include "allocation_counter.hpp"

#include <cstddef>
#include <cstdlib>
#include <new>

std::atomic<std::uint64_t> modkit_bench_allocations{0};
std::atomic<std::uint64_t> modkit_bench_allocated_bytes{0};

namespace {
void *counted_alloc(std::size_t size, std::size_t align) {
   modkit_bench_allocations.fetch_add(1, std::memory_order_relaxed);
   modkit_bench_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
   void *p = align <= alignof(std::max_align_t) ? std::malloc(size ? size : 1)
                                                 : std::aligned_alloc(align, (size + align - 1) / align * align);
   if (!p) throw std::bad_alloc();
   return p;
}
} // namespace

void *operator new(std::size_t size) { return counted_alloc(size, 0); }
void *operator new[](std::size_t size) { return counted_alloc(size, 0); }
void *operator new(std::size_t size, std::align_val_t align) { return counted_alloc(size, static_cast<std::size_t>(align)); }
void *operator new[](std::size_t size, std::align_val_t align) { return counted_alloc(size, static_cast<std::size_t>(align)); }

// g++ pairs the library's operator new with free() once these are inlined, and warns; the
// pairs here are this file's own new and delete, which do match.
#if defined(__GNUC__) && !defined(__clang__)
#   pragma GCC diagnostic push
#   pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
void operator delete(void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#   pragma GCC diagnostic pop
#endif
