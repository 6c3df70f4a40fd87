#include "manifest.hpp"

#include "elf/symbol_versions.hpp"

#include <nlohmann/json.hpp>

namespace modkit::cli {

std::vector<std::string> split_list(const std::string &list) {
   std::vector<std::string> out;
   size_t start = 0;
   while (start < list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      std::string item = list.substr(start, end - start);
      const size_t first = item.find_first_not_of(' ');
      const size_t last = item.find_last_not_of(' ');
      if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
      start = end + 1;
   }
   return out;
}

bool parse_major_minor(const std::string &text, unsigned &major, unsigned &minor) {
   const auto parts = elf::parse_dotted(text);
   if (!parts || parts->size() != 2) return false;
   major = (*parts)[0];
   minor = (*parts)[1];
   return true;
}

bool parse_manifest(const std::string &text, Manifest &out, std::string &problem) {
   out = Manifest{};
   const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
   if (doc.is_discarded() || !doc.is_object()) {
      problem = "text that is not a JSON object";
      return false;
   }
   auto field = [&](const char *key) {
      const auto it = doc.find(key);
      return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
   };
   out.name = field("name");
   out.version = field("version");
   out.abi = field("abi");
   out.sdk = field("sdk");
   out.compiler = field("compiler");
   out.registers = split_list(field("registers"));
   if (out.name.empty() || out.version.empty() || out.abi.empty()) {
      problem = "an object without a non-empty \"name\", \"version\" or \"abi\" string";
      return false;
   }
   unsigned major = 0, minor = 0;
   if (parse_major_minor(out.abi, major, minor)) {
      out.abi_major = major;
      out.abi_minor = minor;
   }
   return true;
}

} // namespace modkit::cli
