// modkit/cache.h - cached functions a module registers so the host can invalidate them.
#pragma once

#include "status.h"
#include "str.h"

MODKIT_EXTERN_C_BEGIN

// Drops cached entries. key_json is a JSON array of the function's arguments (the cache key),
// or NULL to drop every entry. Owned by the host; valid only during the call.
// Invalidation must not fail for an unknown key: it is then a no-op returning MODKIT_OK.
// [thread-safe]
typedef modkit_status(MODKIT_ABI *modkit_cache_invalidate_fn)(void *user_data,
                                                              const modkit_str *key_json);

MODKIT_EXTERN_C_END
