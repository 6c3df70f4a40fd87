// Parsing and ordering symbol version names.
#include "elf/symbol_versions.hpp"

#include <limits>

namespace modkit::elf {

const std::vector<RuntimeFamily> &runtime_families() {
   static const std::vector<RuntimeFamily> families = {
      {"GLIBC", "libc.so.6"},
      {"GLIBCXX", "libstdc++.so.6"},
      {"CXXABI", "libstdc++.so.6"},
      {"GCC", "libgcc_s.so.1"},
   };
   return families;
}

std::string SymbolVersion::text() const {
   std::string out;
   for (unsigned n : number) out += (out.empty() ? "" : ".") + std::to_string(n);
   return out;
}

std::string SymbolVersion::name() const { return family + "_" + text(); }

std::optional<std::vector<unsigned>> parse_dotted(const std::string &text) {
   std::vector<unsigned> out;
   unsigned long value = 0;
   bool digit = false;
   for (const char c : text) {
      if (c >= '0' && c <= '9') {
         value = value * 10 + unsigned(c - '0');
         if (value > std::numeric_limits<unsigned>::max()) return std::nullopt;
         digit = true;
      } else if (c == '.' && digit) {
         out.push_back(unsigned(value));
         value = 0;
         digit = false;
      } else {
         return std::nullopt;
      }
   }
   if (!digit) return std::nullopt;
   out.push_back(unsigned(value));
   return out;
}

std::optional<SymbolVersion> parse_symbol_version(const std::string &name) {
   const size_t underscore = name.rfind('_');
   if (underscore == std::string::npos || underscore == 0) return std::nullopt;
   auto number = parse_dotted(name.substr(underscore + 1));
   if (!number) return std::nullopt;
   return SymbolVersion{name.substr(0, underscore), std::move(*number)};
}

int compare_versions(const std::vector<unsigned> &a, const std::vector<unsigned> &b) {
   for (size_t i = 0; i < a.size() || i < b.size(); ++i) {
      const unsigned x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
      if (x != y) return x < y ? -1 : 1;
   }
   return 0;
}

std::vector<SymbolVersion> highest_versions(const std::vector<std::string> &names) {
   std::vector<SymbolVersion> out;
   for (const RuntimeFamily &f : runtime_families()) {
      std::optional<SymbolVersion> best;
      for (const std::string &name : names) {
         auto v = parse_symbol_version(name);
         if (v && v->family == f.family && (!best || compare_versions(v->number, best->number) > 0)) best = v;
      }
      if (best) out.push_back(*best);
   }
   return out;
}

} // namespace modkit::elf
