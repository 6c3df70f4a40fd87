// modkit/call.h - the per-call handle every callback receives.
#pragma once

#include "private/macros.h"

MODKIT_EXTERN_C_BEGIN

// One handle per dispatch of a callback: it carries the request ID (for logs and traces),
// a deadline and a cancelled flag, read through modkit_host_api's call_* functions.
// Owned by the host; valid only until the callback that received it returns.
//
// Every callback's parameters start with (void *user_data, modkit_call *call), so that a
// later 1.x minor can add asynchronous completion (the callback returns MODKIT_PENDING and
// completes the call from any thread) without changing any callback's signature.
typedef struct modkit_call modkit_call;

MODKIT_EXTERN_C_END
