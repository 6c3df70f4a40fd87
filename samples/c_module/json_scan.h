/* json_scan.h - just enough JSON reading for a C module: walk the top level of an object and
 * read strings, integers and arrays of strings. The loader has already checked the config
 * against the module's schema, so this only needs to be correct, not forgiving. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct json_scan {
   const char *p;
   const char *end;
} json_scan;

/* Decodes the JSON string at s->p into out (at most cap - 1 bytes, NUL-terminated); \uXXXX
 * escapes outside ASCII are copied as '?'. Returns false on malformed input or overflow. */
bool json_read_string(json_scan *s, char *out, size_t cap);
/* Skips any JSON value. */
bool json_skip_value(json_scan *s);
/* Positions s at the value of key in the object text; false when absent or malformed. */
bool json_find_key(const char *text, size_t size, const char *key, json_scan *value);
/* Reads an integer value. */
bool json_read_int(json_scan *s, int64_t *out);
/* Skips whitespace and one expected character. */
bool json_expect(json_scan *s, char c);
/* Skips whitespace; returns the next character or 0 at the end. */
char json_peek(json_scan *s);
