#include "manifest.hpp"

#include "elf/symbol_versions.hpp"

#include <modkit/version.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>

namespace modkit::loader {
namespace {

elf::Finding finding(const char *check, const char *subject, std::string expected, std::string found) {
   elf::Finding f;
   f.check = check;
   f.subject = subject;
   f.expected = std::move(expected);
   f.found = std::move(found);
   return f;
}

} // namespace

std::optional<AbiVersion> parse_abi_version(const std::string &text) {
   const auto parts = elf::parse_dotted(text);
   // uint16_t, as in modkit_module and modkit_module_entry's arguments.
   if (!parts || parts->size() != 2 || (*parts)[0] > UINT16_MAX || (*parts)[1] > UINT16_MAX) return std::nullopt;
   return AbiVersion{uint16_t((*parts)[0]), uint16_t((*parts)[1])};
}

std::string abi_refusal(AbiVersion module, AbiVersion host) {
   if (modkit_abi_compatible(module.major, module.minor, host.major, host.minor)) return {};
   return fmt::format("built for ABI {}.{}, host provides {}.{}{}", module.major, module.minor, host.major, host.minor,
                      module.major != host.major ? " (the major versions must be equal)" : "");
}

std::vector<std::string> split_registers(const std::string &list) {
   std::vector<std::string> out;
   size_t start = 0;
   while (start < list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      const std::string item = list.substr(start, end - start);
      const size_t first = item.find_first_not_of(' ');
      const size_t last = item.find_last_not_of(' ');
      if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
      start = end + 1;
   }
   return out;
}

std::optional<Manifest> parse_manifest(const std::string &text, std::vector<elf::Finding> &findings) {
   const char *const expected = "a JSON object with \"name\", \"version\" and \"abi\" strings (modkit/manifest.h)";
   const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
   if (doc.is_discarded() || !doc.is_object()) {
      findings.push_back(finding("manifest.invalid", "manifest", expected, "text that is not a JSON object"));
      return std::nullopt;
   }
   auto field = [&](const char *key) {
      const auto it = doc.find(key);
      return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
   };
   Manifest out;
   out.name = field("name");
   out.version = field("version");
   out.abi = field("abi");
   out.sdk = field("sdk");
   out.compiler = field("compiler");
   out.registers = split_registers(field("registers"));
   if (out.name.empty() || out.version.empty() || out.abi.empty()) {
      findings.push_back(finding("manifest.invalid", "manifest", expected,
                                 "an object without a non-empty \"name\", \"version\" or \"abi\" string"));
      return std::nullopt;
   }
   out.abi_version = parse_abi_version(out.abi);
   if (!out.abi_version)
      findings.push_back(finding("manifest.abi", "manifest abi", "MAJOR.MINOR, e.g. \"1.0\"", "\"" + out.abi + "\""));
   return out;
}

std::vector<elf::Finding> check_declared_categories(const std::vector<std::string> &registers,
                                                    const std::vector<std::string> &provided) {
   std::string list;
   for (const std::string &id : provided) list += (list.empty() ? "" : ", ") + id;
   std::vector<elf::Finding> out;
   for (const std::string &id : registers) {
      if (std::find(provided.begin(), provided.end(), id) != provided.end()) continue;
      out.push_back(finding("manifest.registers", "declared category",
                            provided.empty() ? "none: the host provides no categories"
                                             : "one the host provides (" + list + ")",
                            id));
   }
   return out;
}

} // namespace modkit::loader
