// modkit/call.h - the per-call handle every callback receives.
#pragma once

#include "private/macros.h"

MODKIT_EXTERN_C_BEGIN

// One handle per dispatch of a callback: it carries the request ID (for logs and traces),
// a deadline and a cancelled flag, read through modkit_host_api's call_* functions.
// Owned by the host; valid until the callback that received it returns or, if the callback
// returned MODKIT_PENDING (ABI 1.1), until it completes the call with
// modkit_host_api.call_complete.
//
// Every callback's parameters start with (void *user_data, modkit_call *call), which is how
// ABI 1.1 added asynchronous completion without changing any callback's signature.
typedef struct modkit_call modkit_call;

MODKIT_EXTERN_C_END
