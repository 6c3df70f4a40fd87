// modkit/log.h - log levels for modkit_host_api.log.
#pragma once

#include "private/macros.h"

MODKIT_EXTERN_C_BEGIN

enum {
   MODKIT_LOG_DEBUG = 0,
   MODKIT_LOG_INFO = 1,
   MODKIT_LOG_WARNING = 2,
   MODKIT_LOG_ERROR = 3,
};
typedef int32_t modkit_log_level;

MODKIT_EXTERN_C_END
