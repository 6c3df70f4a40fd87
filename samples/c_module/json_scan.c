#include "json_scan.h"

#include <string.h>

char json_peek(json_scan *s) {
   while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) ++s->p;
   return s->p < s->end ? *s->p : 0;
}

bool json_expect(json_scan *s, char c) {
   if (json_peek(s) != c) return false;
   ++s->p;
   return true;
}

bool json_read_string(json_scan *s, char *out, size_t cap) {
   size_t n = 0;
   if (!json_expect(s, '"')) return false;
   while (s->p < s->end && *s->p != '"') {
      char c = *s->p++;
      if (c == '\\') {
         if (s->p >= s->end) return false;
         char e = *s->p++;
         switch (e) {
         case 'n': c = '\n'; break;
         case 't': c = '\t'; break;
         case 'r': c = '\r'; break;
         case 'b': c = '\b'; break;
         case 'f': c = '\f'; break;
         case 'u':
            if (s->end - s->p < 4) return false;
            c = '?';
            s->p += 4;
            break;
         default: c = e; break; /* \" \\ \/ */
         }
      }
      if (out) {
         if (n + 1 >= cap) return false;
         out[n] = c;
      }
      ++n;
   }
   if (out) out[n] = '\0';
   return json_expect(s, '"');
}

bool json_read_int(json_scan *s, int64_t *out) {
   int64_t v = 0;
   bool negative = false, digits = false;
   json_peek(s);
   if (s->p < s->end && *s->p == '-') {
      negative = true;
      ++s->p;
   }
   while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return false;
      v = v * 10 + (*s->p++ - '0');
      digits = true;
   }
   *out = negative ? -v : v;
   return digits;
}

bool json_skip_value(json_scan *s) {
   char c = json_peek(s);
   if (c == '"') return json_read_string(s, NULL, 0);
   if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++s->p;
      if (json_peek(s) == close) {
         ++s->p;
         return true;
      }
      for (;;) {
         if (c == '{' && (!json_read_string(s, NULL, 0) || !json_expect(s, ':'))) return false;
         if (!json_skip_value(s)) return false;
         if (json_expect(s, ',')) continue;
         return json_expect(s, close);
      }
   }
   /* number, true, false, null */
   const char *start = s->p;
   while (s->p < s->end && strchr(",]} \t\r\n", *s->p) == NULL) ++s->p;
   return s->p > start;
}

bool json_find_key(const char *text, size_t size, const char *key, json_scan *value) {
   json_scan s = {text, text + size};
   char name[256];
   if (!json_expect(&s, '{')) return false;
   if (json_peek(&s) == '}') return false;
   for (;;) {
      if (!json_read_string(&s, name, sizeof name) || !json_expect(&s, ':')) return false;
      if (strcmp(name, key) == 0) {
         *value = s;
         return true;
      }
      if (!json_skip_value(&s)) return false;
      if (!json_expect(&s, ',')) return false;
   }
}
