#include "config.hpp"

#include <algorithm>
#include <cctype>

namespace modkit::loader {

std::string json_type_name(const nlohmann::json &value) {
   switch (value.type()) {
   case nlohmann::json::value_t::null: return "null";
   case nlohmann::json::value_t::boolean: return "boolean";
   case nlohmann::json::value_t::number_integer:
   case nlohmann::json::value_t::number_unsigned: return "integer";
   case nlohmann::json::value_t::number_float: return "number";
   case nlohmann::json::value_t::string: return "string";
   case nlohmann::json::value_t::array: return "array";
   case nlohmann::json::value_t::object: return "object";
   default: return "value";
   }
}

std::string json_excerpt(const nlohmann::json &value) {
   std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
   constexpr size_t limit = 60;
   if (text.size() > limit) text = text.substr(0, limit) + "...";
   return text;
}

Error config_error(std::string pointer, std::string message) {
   Error e;
   e.code = MODKIT_E_CONFIG;
   e.stage = Stage::config;
   e.pointer = std::move(pointer);
   e.message = std::move(message);
   return e;
}

std::string expected_got(const char *expected, const nlohmann::json &found) {
   return std::string("expected ") + expected + ", got " + json_type_name(found) + " " +
          json_excerpt(found);
}

const std::vector<std::string> &hygiene_check_names() {
   static const std::vector<std::string> names = {"exec_stack", "static_tls", "unique_symbols",  "textrel",
                                                  "ifunc",      "runpath",    "needed_libraries", "symbol_versions"};
   return names;
}

namespace {

bool parse_sha256(const nlohmann::json &value, const std::string &pointer, std::string &out, Errors &errors) {
   std::string hex = value.is_string() ? value.get<std::string>() : "";
   for (char &c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
   if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      errors.push_back(config_error(pointer, expected_got("64 hexadecimal digits (a SHA-256 digest)", value)));
      return false;
   }
   out = hex;
   return true;
}

bool parse_exceptions(const nlohmann::json &value, const std::string &pointer, std::map<std::string, std::string> &out,
                      Errors &errors) {
   if (!value.is_object()) {
      errors.push_back(config_error(pointer, expected_got("an object of check name -> reason", value)));
      return false;
   }
   bool ok = true;
   for (const auto &item : value.items()) {
      const auto &names = hygiene_check_names();
      const std::string at = pointer + "/" + pointer_token(item.key());
      if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
         std::string known;
         for (const auto &n : names) known += (known.empty() ? "" : ", ") + n;
         errors.push_back(config_error(at, "unknown hygiene check; expected one of " + known));
         ok = false;
      } else if (!item.value().is_string() || item.value().get_ref<const std::string &>().empty()) {
         errors.push_back(config_error(at, expected_got("the reason, as a non-empty string", item.value())));
         ok = false;
      } else {
         out[item.key()] = item.value().get<std::string>();
      }
   }
   return ok;
}

} // namespace

bool parse_host_config(const std::string &text, HostConfig &out, Errors &errors) {
   const size_t before = errors.size();
   nlohmann::json root;
   try {
      root = nlohmann::json::parse(text);
   } catch (const nlohmann::json::exception &e) {
      // A syntax error, or a number too large for a double (out_of_range). nlohmann's message
      // carries the position; keep it, minus the library prefix.
      std::string what = e.what();
      auto pos = what.find("] ");
      errors.push_back(config_error("", "host config is not valid JSON: " +
                                           (pos == std::string::npos ? what : what.substr(pos + 2))));
      return false;
   }
   if (!root.is_object()) {
      errors.push_back(config_error("", expected_got("an object", root)));
      return false;
   }
   for (const auto &item : root.items()) {
      if (item.key() != "module_path" && item.key() != "modules" && item.key() != "services")
         errors.push_back(config_error("/" + pointer_token(item.key()),
                                       "unknown key; expected \"module_path\", \"services\" or \"modules\""));
   }
   if (auto it = root.find("services"); it != root.end()) services::parse_settings(*it, out.services, errors);

   if (auto it = root.find("module_path"); it != root.end()) {
      if (!it->is_array()) {
         errors.push_back(config_error("/module_path", expected_got("an array of directories", *it)));
      } else {
         for (size_t i = 0; i < it->size(); ++i) {
            const auto &dir = (*it)[i];
            if (!dir.is_string() || dir.get_ref<const std::string &>().empty())
               errors.push_back(config_error("/module_path/" + std::to_string(i),
                                             expected_got("a non-empty directory string", dir)));
            else
               out.module_path.push_back(dir.get<std::string>());
         }
      }
   }

   auto modules = root.find("modules");
   if (modules == root.end()) {
      errors.push_back(config_error("/modules", "missing; expected an array of modules"));
   } else if (!modules->is_array()) {
      errors.push_back(config_error("/modules", expected_got("an array of modules", *modules)));
   } else {
      for (size_t i = 0; i < modules->size(); ++i) {
         const auto &item = (*modules)[i];
         const std::string pointer = "/modules/" + std::to_string(i);
         if (!item.is_object()) {
            errors.push_back(config_error(pointer, expected_got("an object", item)));
            continue;
         }
         ModuleSpec spec;
         spec.pointer = pointer;
         spec.position = i;
         bool ok = true;
         for (const auto &field : item.items()) {
            if (field.key() == "sha256") {
               ok = parse_sha256(field.value(), pointer + "/sha256", spec.sha256, errors) && ok;
            } else if (field.key() == "hygiene_exceptions") {
               ok = parse_exceptions(field.value(), pointer + "/hygiene_exceptions", spec.hygiene_exceptions, errors) && ok;
            } else if (field.key() != "module" && field.key() != "config" && field.key() != "permissions" &&
                       field.key() != "services") {
               errors.push_back(config_error(pointer + "/" + pointer_token(field.key()),
                                             "unknown key; expected \"module\", \"config\", \"permissions\", "
                                             "\"services\", \"sha256\" or \"hygiene_exceptions\""));
               ok = false;
            }
         }
         auto name = item.find("module");
         if (name == item.end()) {
            errors.push_back(config_error(pointer + "/module", "missing; expected a module name or absolute path"));
            ok = false;
         } else if (!name->is_string() || name->get_ref<const std::string &>().empty()) {
            errors.push_back(config_error(pointer + "/module",
                                          expected_got("a module name or absolute path", *name)));
            ok = false;
         } else {
            spec.module = name->get<std::string>();
         }
         const size_t errors_before = errors.size();
         auto permissions = item.find("permissions");
         auto services = item.find("services");
         services::parse_grants(permissions == item.end() ? nullptr : &*permissions,
                                services == item.end() ? nullptr : &*services, pointer, out.services.limits,
                                spec.grants, errors);
         ok = ok && errors.size() == errors_before;
         auto config = item.find("config");
         spec.config = (config == item.end() || config->is_null()) ? nlohmann::json::object() : *config;
         if (ok) out.modules.push_back(std::move(spec));
      }
   }
   return errors.size() == before;
}

} // namespace modkit::loader
