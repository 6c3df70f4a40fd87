#include "settings.hpp"

#include "../config.hpp"

#include <fmt/format.h>

namespace modkit::loader::services {

namespace {

// Reads an integer in [min, max] at pointer; false (and an error) otherwise.
bool read_count(const nlohmann::json &value, const std::string &pointer, uint32_t min, uint32_t max, uint32_t &out,
                Errors &errors) {
   if (!value.is_number_integer() || value.get<int64_t>() < min || value.get<int64_t>() > max) {
      errors.push_back(config_error(pointer, expected_got(fmt::format("an integer from {} to {}", min, max).c_str(), value)));
      return false;
   }
   out = value.get<uint32_t>();
   return true;
}

void unknown_key(const std::string &pointer, const std::string &key, const char *expected, Errors &errors) {
   errors.push_back(config_error(pointer + "/" + pointer_token(key), std::string("unknown key; expected ") + expected));
}

// "tasks": {"concurrency": N, "queue": N} and "metrics": {"max_series": N}, shared by the
// host-wide object and a module's own.
bool parse_limit(const std::string &key, const nlohmann::json &value, const std::string &pointer, ModuleLimits &out,
                 Errors &errors) {
   const std::string at = pointer + "/" + key;
   if (key != "tasks" && key != "metrics") return false;
   if (!value.is_object()) {
      errors.push_back(config_error(at, expected_got("an object", value)));
      return true;
   }
   for (const auto &item : value.items()) {
      const std::string here = at + "/" + pointer_token(item.key());
      if (key == "tasks" && item.key() == "concurrency")
         read_count(item.value(), here, 1, 256, out.task_concurrency, errors);
      else if (key == "tasks" && item.key() == "queue")
         read_count(item.value(), here, 0, 1000000, out.task_queue, errors);
      else if (key == "metrics" && item.key() == "max_series")
         read_count(item.value(), here, 1, 1000000, out.max_series, errors);
      else
         unknown_key(at, item.key(), key == "tasks" ? "\"concurrency\" or \"queue\"" : "\"max_series\"", errors);
   }
   return true;
}

} // namespace

void parse_settings(const nlohmann::json &services, Settings &out, Errors &errors) {
   const std::string pointer = "/services";
   if (!services.is_object()) {
      errors.push_back(config_error(pointer, expected_got("an object", services)));
      return;
   }
   for (const auto &item : services.items()) {
      const std::string &key = item.key();
      const std::string at = pointer + "/" + pointer_token(key);
      const nlohmann::json &value = item.value();
      if (parse_limit(key, value, pointer, out.limits, errors)) continue;
      if (key == "event_threads") {
         read_count(value, at, 1, 64, out.event_threads, errors);
      } else if (key == "task_threads") {
         read_count(value, at, 1, 256, out.task_threads, errors);
      } else if (key == "background_instance") {
         if (value.is_boolean())
            out.background_instance = value.get<bool>();
         else
            errors.push_back(config_error(at, expected_got("true or false", value)));
      } else if (key == "storage") {
         if (!value.is_object()) {
            errors.push_back(config_error(at, expected_got("an object", value)));
            continue;
         }
         for (const auto &s : value.items()) {
            if (s.key() != "path") {
               unknown_key(at, s.key(), "\"path\"", errors);
            } else if (!s.value().is_string() || s.value().get_ref<const std::string &>().empty()) {
               errors.push_back(config_error(at + "/path", expected_got("a file path or \":memory:\"", s.value())));
            } else {
               out.storage_path = s.value().get<std::string>();
            }
         }
      } else {
         unknown_key(pointer, key,
                     "\"event_threads\", \"task_threads\", \"background_instance\", \"storage\", \"tasks\" or "
                     "\"metrics\"",
                     errors);
      }
   }
}

void parse_grants(const nlohmann::json *permissions, const nlohmann::json *services, const std::string &pointer,
                  const ModuleLimits &defaults, ModuleGrants &out, Errors &errors) {
   out.limits = defaults;
   if (permissions) {
      const std::string at = pointer + "/permissions";
      if (!permissions->is_object()) {
         errors.push_back(config_error(at, expected_got("an object", *permissions)));
      } else {
         for (const auto &item : permissions->items()) {
            if (item.key() != "http") {
               unknown_key(at, item.key(), "\"http\"", errors);
               continue;
            }
            const nlohmann::json &list = item.value();
            if (!list.is_array()) {
               errors.push_back(config_error(at + "/http", expected_got("an array of URL prefixes", list)));
               continue;
            }
            for (size_t i = 0; i < list.size(); ++i) {
               const nlohmann::json &url = list[i];
               const std::string text = url.is_string() ? url.get<std::string>() : "";
               if (text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0)
                  errors.push_back(config_error(at + "/http/" + std::to_string(i),
                                                expected_got("an http:// or https:// URL prefix", url)));
               else
                  out.http.push_back(text);
            }
         }
      }
   }
   if (services) {
      const std::string at = pointer + "/services";
      if (!services->is_object()) {
         errors.push_back(config_error(at, expected_got("an object", *services)));
         return;
      }
      for (const auto &item : services->items()) {
         if (!parse_limit(item.key(), item.value(), at, out.limits, errors))
            unknown_key(at, item.key(), "\"tasks\" or \"metrics\"", errors);
      }
   }
}

} // namespace modkit::loader::services
