// configure.cpp - the configure stage: the config against the module's JSON Schema, then its
// parse_config.
#include "loader.hpp"

#include "schema.hpp"

#include <fmt/format.h>

namespace modkit::loader {

bool Loader::configure(Module &module) {
   const std::string pointer = module.spec.pointer + "/config";
   const modkit_module &desc = *module.desc;
   if (desc.config_schema) {
      std::vector<SchemaViolation> violations;
      std::string schema_error;
      if (!validate_against_schema(desc.config_schema, module.spec.config, violations, schema_error)) {
         fail(&module, Stage::configure, MODKIT_E_CONFIG, pointer, schema_error);
         return false;
      }
      for (const auto &v : violations) fail(&module, Stage::configure, MODKIT_E_CONFIG, pointer + v.pointer, v.message);
      if (!violations.empty()) return false;
   }
   const std::string raw = module.spec.config.dump();
   if (!desc.parse_config) {
      module.config_json = raw;
      return true;
   }
   modkit_buffer out;
   modkit_error_sink sink;
   const modkit_status status =
      desc.parse_config(host_api_table(), modkit_str{raw.data(), raw.size()}, &out, &sink);
   for (const auto &e : sink.entries) {
      fail(&module, Stage::configure, e.code == MODKIT_OK ? MODKIT_E_CONFIG : e.code, pointer + e.pointer,
           e.message.empty() ? "rejected by parse_config" : e.message);
   }
   if (status != MODKIT_OK) {
      if (sink.entries.empty())
         fail(&module, Stage::configure, status, pointer,
              fmt::format("parse_config failed with status {} and gave no reason", modkit_status_name(status)));
      return false;
   }
   if (!sink.entries.empty()) return false;
   if (!nlohmann::json::accept(out.bytes)) {
      fail(&module, Stage::configure, MODKIT_E_INTERNAL, pointer,
           "parse_config succeeded but its output is not valid JSON");
      return false;
   }
   module.config_json = std::move(out.bytes);
   return true;
}

} // namespace modkit::loader
