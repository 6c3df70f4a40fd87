// The templates are plain text with @NAME@-style placeholders, kept next to each other so a
// change to one language's project is easy to mirror in the other.
#include "templates.hpp"

#include <cctype>

namespace modkit::cli {
namespace {

const char cmake_template[] = R"(# @NAME@: a modkit module. Build it against an installed modkit:
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<modkit prefix>
#   cmake --build build
cmake_minimum_required(VERSION 3.25)
project(@NAME@ LANGUAGES @LANGUAGE@)

find_package(modkit 1 CONFIG REQUIRED)

# A MODULE library exporting only modkit_module_entry, with the link options modkit expects.
modkit_add_module(@NAME@ SOURCES @SOURCE@)
)";

const char c_template[] = R"(/* @NAME@.c - a modkit module written in C against the ABI: a spam checker that refuses
 * messages whose content is longer than a configured number of bytes.
 *
 * Config: {"max_length": 2000}  (optional; 2000 when absent) */
#include <modkit/categories/spam_checker.h>
#include <modkit/modkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_MAX_LENGTH = 2000 };

typedef struct @NAME@_module {
   const modkit_host_api *api;
   modkit_host *host;
   long long max_length;
} @NAME@_module;

/* The host checks the config against this schema before parse_config runs. */
static const char schema[] =
   "{\"type\": \"object\", \"additionalProperties\": false,"
   " \"properties\": {\"max_length\": {\"type\": \"integer\", \"minimum\": 1}}}";

static const char *skip_space(const char *p, const char *end) {
   while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
   return p;
}

/* Reads {"max_length": N} (or {}) into *max_length. Returns NULL on success, otherwise what is
 * wrong. Tools may call parse_config without the schema check, so this checks everything. */
static const char *read_config(modkit_str config, long long *max_length) {
   const char *p = config.data, *end = config.data + config.size;
   *max_length = DEFAULT_MAX_LENGTH;
   p = skip_space(p, end);
   if (p == end || *p++ != '{') return "expected a JSON object";
   p = skip_space(p, end);
   if (p < end && *p == '}') return NULL;
   static const char key[] = "\"max_length\"";
   if ((size_t)(end - p) < sizeof key - 1 || memcmp(p, key, sizeof key - 1) != 0)
      return "expected only the key \"max_length\"";
   p = skip_space(p + sizeof key - 1, end);
   if (p == end || *p++ != ':') return "expected ':' after \"max_length\"";
   p = skip_space(p, end);
   long long value = 0;
   int digits = 0;
   while (p < end && *p >= '0' && *p <= '9' && digits < 12) {
      value = value * 10 + (*p - '0');
      ++p;
      ++digits;
   }
   if (digits == 0 || digits == 12 || value < 1) return "expected max_length to be an integer from 1 to 99999999999";
   p = skip_space(p, end);
   if (p == end || *p != '}') return "expected '}' after max_length";
   *max_length = value;
   return NULL;
}

/* Validates the raw config and writes it back complete: {"max_length": N}. */
static modkit_status parse_config(const modkit_host_api *api, modkit_str config, modkit_buffer *out,
                                  modkit_error_sink *err) {
   long long max_length = 0;
   const char *problem = read_config(config, &max_length);
   if (problem) {
      api->report_error(err, MODKIT_E_CONFIG, "", problem);
      return MODKIT_E_CONFIG;
   }
   char text[64];
   const int n = snprintf(text, sizeof text, "{\"max_length\":%lld}", max_length);
   return api->buffer_append(out, text, (size_t)n);
}

/* Refuses an event whose content is longer than max_length bytes. */
static modkit_status check_event_for_spam(void *user_data, modkit_call *call, const modkit_event *event,
                                          modkit_spam_result *result) {
   const @NAME@_module *self = user_data;
   (void)call;
   if ((long long)event->content_json.size > self->max_length) *result = MODKIT_SPAM_TOO_LARGE;
   return MODKIT_OK;
}

static modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                          modkit_error_sink *err) {
   @NAME@_module *self = calloc(1, sizeof *self);
   if (!self) return MODKIT_E_NO_MEMORY;
   self->api = api;
   self->host = host;
   const char *problem = read_config(config, &self->max_length);
   if (problem) {
      api->report_error(err, MODKIT_E_CONFIG, "", problem);
      free(self);
      return MODKIT_E_CONFIG;
   }
   modkit_spam_checker_callbacks callbacks;
   memset(&callbacks, 0, sizeof callbacks);
   callbacks.struct_size = sizeof callbacks;
   callbacks.check_event_for_spam = check_event_for_spam;
   const modkit_status status = modkit_register_spam_checker_callbacks(api, host, &callbacks, self);
   if (status != MODKIT_OK) {
      free(self);
      return status;
   }
   char line[64];
   snprintf(line, sizeof line, "refusing events over %lld bytes", self->max_length);
   api->log(host, MODKIT_LOG_INFO, modkit_str_from_cstr(line));
   *instance = self;
   return MODKIT_OK;
}

static void deinit(void *instance) { free(instance); }

static const modkit_module descriptor = {
   sizeof(modkit_module),
   MODKIT_ABI_VERSION_MAJOR,
   MODKIT_ABI_VERSION_MINOR,
   "@NAME@",
   "0.1.0",
   "Refuses events longer than a configured size",
   schema,
   parse_config,
   init,
   deinit,
};

MODKIT_DECLARE_MODULE(descriptor, "@NAME@", "0.1.0", "modkit.spam_checker");
)";

const char cpp_template[] = R"(// @NAME@.cpp - a modkit module written with the C++ SDK: a spam checker that refuses
// messages containing a blocked word.
//
// Config: {"blocked_words": ["buy now", ...]}
#include <modkit/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct Config {
   std::vector<std::string> blocked_words; // lower case
};

// The normalised config travels to the host as JSON.
void to_json(nlohmann::json &j, const Config &c) { j = {{"blocked_words", c.blocked_words}}; }
void from_json(const nlohmann::json &j, Config &c) { j.at("blocked_words").get_to(c.blocked_words); }

std::string lower(std::string_view text) {
   std::string out(text);
   for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
   return out;
}

} // namespace

class @CLASS@ {
public:
   static nlohmann::json config_schema() {
      return {{"type", "object"},
              {"required", {"blocked_words"}},
              {"additionalProperties", false},
              {"properties", {{"blocked_words", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
   }

   // Pure: validates and normalises; the host shows the result as the module's config.
   static Config parse_config(const nlohmann::json &raw) {
      Config config;
      const auto &words = raw.at("blocked_words");
      for (std::size_t i = 0; i < words.size(); ++i) {
         const std::string word = lower(words[i].get<std::string>());
         if (word.empty()) throw modkit::ConfigError("a blocked word cannot be empty", "/blocked_words/" + std::to_string(i));
         config.blocked_words.push_back(word);
      }
      return config;
   }

   // init: the only place a module registers callbacks.
   @CLASS@(Config config, modkit::Api &api) : config_(std::move(config)) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_event_for_spam = {this, &@CLASS@::check_event_for_spam};
      api.register_spam_checker_callbacks(std::move(callbacks));
      api.log().info("refusing messages with {} blocked words", config_.blocked_words.size());
   }

private:
   modkit::SpamResult check_event_for_spam(const modkit::Event &event) {
      const nlohmann::json content = event.content();
      const auto body = content.find("body");
      if (body == content.end() || !body->is_string()) return modkit::SpamResult::not_spam;
      const std::string text = lower(body->get<std::string>());
      const bool blocked = std::any_of(config_.blocked_words.begin(), config_.blocked_words.end(),
                                       [&](const std::string &word) { return text.find(word) != std::string::npos; });
      return blocked ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
   }

   Config config_;
};

MODKIT_MODULE(@CLASS@, "@NAME@", "0.1.0", "Refuses messages that contain a blocked word", "modkit.spam_checker")
)";

const char readme_template[] = R"(# @NAME@

A modkit module (@LANG_NAME@): a spam checker that @WHAT@.

## Build

Against an installed modkit (`tools/dev install PREFIX` in the modkit tree):

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=PREFIX
cmake --build build
```

## Check

`modkit check` loads the module in a child process with the test config, lists what it
registers and unloads it; `modkit inspect` shows what the file declares without running it.

```sh
modkit inspect build/@NAME@.so
modkit check build/@NAME@.so --config config.json
```

## Use

A host loads it by name from one of its module directories, with its config:

```json
{"module_path": ["/path/to/modules"], "modules": [{"module": "@NAME@", "config": @CONFIG@}]}
```
)";

std::string replace_all(std::string text, const std::string &from, const std::string &to) {
   for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
   return text;
}

} // namespace

std::string class_name_for(const std::string &name) {
   std::string out;
   bool upper = true;
   for (const char c : name) {
      if (c == '_') {
         upper = true;
         continue;
      }
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
   }
   // An all-underscore or digit-leading result would not be a class name.
   if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "Module" + out;
   return out;
}

std::vector<ProjectFile> project_files(const std::string &name, const std::string &lang) {
   const bool c = lang == "c";
   const std::string source = name + (c ? ".c" : ".cpp");
   const std::string config = c ? "{\"max_length\": 2000}" : "{\"blocked_words\": [\"buy now\", \"free money\"]}";
   auto fill = [&](std::string text) {
      text = replace_all(std::move(text), "@NAME@", name);
      text = replace_all(std::move(text), "@CLASS@", class_name_for(name));
      text = replace_all(std::move(text), "@LANGUAGE@", c ? "C" : "CXX");
      text = replace_all(std::move(text), "@LANG_NAME@", c ? "C, written against the ABI" : "C++, written with the SDK");
      text = replace_all(std::move(text), "@WHAT@",
                         c ? "refuses events whose content is longer than `max_length` bytes"
                           : "refuses messages that contain one of `blocked_words`");
      text = replace_all(std::move(text), "@SOURCE@", source);
      return replace_all(std::move(text), "@CONFIG@", config);
   };
   return {
      {"CMakeLists.txt", fill(cmake_template)},
      {source, fill(c ? c_template : cpp_template)},
      {"README.md", fill(readme_template)},
      {"config.json", config + "\n"},
   };
}

} // namespace modkit::cli
