// request.cpp - URL decoding.
#include "request.hpp"

namespace chat {

namespace {

int hex_value(char c) {
   if (c >= '0' && c <= '9') return c - '0';
   if (c >= 'a' && c <= 'f') return c - 'a' + 10;
   if (c >= 'A' && c <= 'F') return c - 'A' + 10;
   return -1;
}

} // namespace

std::string percent_decode(const std::string &text) {
   std::string out;
   out.reserve(text.size());
   for (size_t i = 0; i < text.size(); ++i) {
      const int hi = text[i] == '%' && i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
      if (lo >= 0) {
         out += static_cast<char>(hi * 16 + lo);
         i += 2;
      } else {
         out += text[i];
      }
   }
   return out;
}

std::map<std::string, std::string> parse_query(const std::string &raw) {
   std::map<std::string, std::string> out;
   size_t i = 0;
   while (i < raw.size()) {
      size_t amp = raw.find('&', i);
      if (amp == std::string::npos) amp = raw.size();
      const std::string pair = raw.substr(i, amp - i);
      const size_t eq = pair.find('=');
      std::string key = pair.substr(0, eq), value = eq == std::string::npos ? "" : pair.substr(eq + 1);
      for (auto *s : {&key, &value})
         for (char &c : *s)
            if (c == '+') c = ' ';
      if (!key.empty()) out.emplace(percent_decode(key), percent_decode(value));
      i = amp + 1;
   }
   return out;
}

} // namespace chat
