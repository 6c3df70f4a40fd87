// min_sizes.hpp - the oldest size the loader accepts for each struct a caller hands it with a
// struct_size: the size the struct had when it first shipped. Every struct_size check compares
// with this table, never with today's sizeof, so a struct that grows in a later minor still
// accepts its older callers; fields added since are read only behind MODKIT_HAS_FIELD.
#pragma once

#include <modkit/loader.h>

#include <cstddef>

// The size of type up to and including field.
#define MODKIT_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)nullptr)->field))

namespace modkit::loader::min_size {

// ABI 1.0 (module side).
inline constexpr size_t module = MODKIT_SIZE_THROUGH(modkit_module, deinit);
inline constexpr size_t category = MODKIT_SIZE_THROUGH(modkit_category, types);
// ABI 1.0 (loader API). 1.0 already accepted options that stop before get_extension.
inline constexpr size_t call = MODKIT_SIZE_THROUGH(modkit_call, cancelled);
inline constexpr size_t loader_options = offsetof(modkit_loader_options, get_extension);
// ABI 1.1 (loader API).
inline constexpr size_t metric = MODKIT_SIZE_THROUGH(modkit_loader_metric, timed_ns);
// A call handle that can carry asynchronous completion.
inline constexpr size_t async_call = MODKIT_SIZE_THROUGH(modkit_call, status);
// A call handle that can take call_set_error's error.
inline constexpr size_t error_call = MODKIT_SIZE_THROUGH(modkit_call, error_user_data);

#if defined(__x86_64__) || defined(__aarch64__)
// The shipped sizes, so that a field inserted before these ends cannot move them unnoticed.
static_assert(module == 64 && category == 48 && call == 40 && loader_options == 72,
              "a 1.0 struct's shipped size changed: structs only grow at the end");
static_assert(async_call == 72, "a 1.1 struct's shipped size changed: structs only grow at the end");
#endif

} // namespace modkit::loader::min_size
