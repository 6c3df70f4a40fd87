// utf8.cpp - the UTF-8 check, byte ranges from RFC 3629's table (section 4).
#include "utf8.hpp"

namespace chat {

bool valid_utf8(std::string_view text) {
   const auto *p = reinterpret_cast<const unsigned char *>(text.data());
   const auto *end = p + text.size();
   while (p < end) {
      const unsigned c = *p++;
      if (c < 0x80) continue;
      int more = 0;
      unsigned lo = 0x80, hi = 0xBF; // the range of the first continuation byte
      if (c >= 0xC2 && c <= 0xDF) more = 1;
      else if (c == 0xE0) more = 2, lo = 0xA0;             // no overlong three-byte forms
      else if (c == 0xED) more = 2, hi = 0x9F;             // no surrogates
      else if (c >= 0xE1 && c <= 0xEF) more = 2;
      else if (c == 0xF0) more = 3, lo = 0x90;             // no overlong four-byte forms
      else if (c == 0xF4) more = 3, hi = 0x8F;             // nothing above U+10FFFF
      else if (c >= 0xF1 && c <= 0xF3) more = 3;
      else return false;                                   // 0x80..0xC1, 0xF5..0xFF
      if (end - p < more) return false;
      if (*p < lo || *p > hi) return false;
      ++p;
      for (int i = 1; i < more; ++i, ++p)
         if (*p < 0x80 || *p > 0xBF) return false;
   }
   return true;
}

} // namespace chat
