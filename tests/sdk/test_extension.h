/* A host extension the SDK tests hand to modules through get_extension. */
#pragma once

#include <stdint.h>

#define TEST_EXTENSION_ID "test.answer/1"

typedef struct test_extension {
   int32_t answer;
} test_extension;
