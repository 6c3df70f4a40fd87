// loader.cpp - the pipeline driver: options, logging, errors, and loading a host config
// (prepare every module, then init them in order). Each stage lives in the file named for it.
#include "loader.hpp"

#include "resolve.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace modkit::loader {

namespace {

const char *level_name(modkit_log_level level) {
   switch (level) {
   case MODKIT_LOG_DEBUG: return "debug";
   case MODKIT_LOG_INFO: return "info";
   case MODKIT_LOG_WARNING: return "warning";
   default: return "error";
   }
}

} // namespace

Loader::Loader(const modkit_loader_options &options) {
   std::memcpy(&options_, &options, std::min<size_t>(sizeof options_, options.struct_size));
   if (options_.base_dir) base_dir_ = options_.base_dir;
   if (MODKIT_HAS_FIELD(&options_, modkit_loader_options, categories_json) && options_.categories_json)
      categories_json_ = options_.categories_json;
   options_.categories_json = nullptr; // the copy above is what is kept
   for (size_t i = 0; i < options_.reserved_web_prefix_count; ++i) {
      if (options_.reserved_web_prefixes[i]) reserved_web_.emplace_back(options_.reserved_web_prefixes[i]);
   }
   if (MODKIT_HAS_FIELD(&options_, modkit_loader_options, pending_wait_ms) && options_.pending_wait_ms)
      pending_wait_ms_ = options_.pending_wait_ms;
   if (options_.allow_any_owner)
      logf(MODKIT_LOG_WARNING, nullptr,
           "allow_any_owner is on: module files owned by any user are accepted (development only)");
}

Loader::~Loader() {
   unload_all();
   // Before any member goes: a service thread may still run an abandoned module's work.
   services_.shutdown();
   release_abandoned(); // their work has ended with the services' threads
   timers_.stop();
}

bool Loader::init_categories(std::string &error) {
   std::vector<const modkit_category *> all(options_.categories, options_.categories + options_.category_count);
   std::string why;
   if (!categories_json_.empty() && !category_store_.add_json(categories_json_, all, why)) {
      error = "invalid categories_json: " + why;
   } else {
      for (const modkit_category *category : all) {
         if (!registry_.add_category(category, why)) {
            error = "invalid category descriptor: " + why;
            break;
         }
      }
      // Every signature is parsed now, so a malformed one is refused before any module loads.
      if (error.empty() && !dynamic_.prepare(registry_, why)) error = "invalid category descriptor: " + why;
   }
   if (error.empty()) return true;
   logf(MODKIT_LOG_ERROR, nullptr, error);
   return false;
}

void Loader::log(modkit_log_level level, const char *module, modkit_str message) const {
   if (options_.log) {
      options_.log(options_.log_user_data, level, module, message);
      return;
   }
   std::fprintf(stderr, "[modkit] %s%s%s: %.*s\n", level_name(level), module ? " " : "", module ? module : "",
                static_cast<int>(message.size), message.data ? message.data : "");
}

void Loader::logf(modkit_log_level level, const char *module, const std::string &message) const {
   log(level, module, modkit_str{message.data(), message.size()});
}

void Loader::fail(Module *module, Stage stage, modkit_status code, std::string pointer, std::string message) {
   Error e;
   e.code = code;
   e.stage = stage;
   e.pointer = std::move(pointer);
   e.message = std::move(message);
   if (module) {
      e.module = module->spec.module;
      e.file = module->path;
      if (e.pointer.empty()) e.pointer = module->spec.pointer;
   }
   errors_.push_back(std::move(e));
}

void Loader::publish_errors() {
   error_texts_.clear();
   error_views_.clear();
   error_texts_.reserve(errors_.size());
   for (const auto &e : errors_) error_texts_.push_back(e.text());
   for (size_t i = 0; i < errors_.size(); ++i) {
      const auto &e = errors_[i];
      error_views_.push_back({sizeof(modkit_loader_error), e.code, stage_name(e.stage), e.module.c_str(),
                              e.file.c_str(), e.pointer.c_str(), e.message.c_str(), error_texts_[i].c_str()});
   }
}

modkit_status Loader::load_file(const std::string &path) {
   std::ifstream in(path, std::ios::binary);
   if (!in) {
      errors_.clear();
      fail(nullptr, Stage::config, MODKIT_E_NOT_FOUND, "",
           fmt::format("cannot read host config {}: {}", path, std::strerror(errno)));
      publish_errors();
      return MODKIT_E_NOT_FOUND;
   }
   std::stringstream text;
   text << in.rdbuf();
   if (base_dir_.empty()) {
      const auto slash = path.rfind('/');
      base_dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
   }
   return load(text.str());
}

modkit_status Loader::load(const std::string &config_text) {
   errors_.clear();
   if (loaded_) {
      fail(nullptr, Stage::config, MODKIT_E_STATE, "", "this loader has already loaded a host config");
      publish_errors();
      return MODKIT_E_STATE;
   }
   HostConfig config;
   if (!parse_host_config(config_text, config, errors_)) {
      publish_errors();
      return MODKIT_E_CONFIG;
   }
   services_.configure(config.services, base_dir_);
   std::string dir_error;
   if (!absolute_module_dirs(config.module_path, base_dir_, dirs_, dir_error)) {
      fail(nullptr, Stage::config, MODKIT_E_CONFIG, "/module_path", dir_error);
      publish_errors();
      return MODKIT_E_CONFIG;
   }

   // Pure stages for every module, collecting every error.
   bool ok = true;
   for (auto &spec : config.modules) {
      auto module = std::make_unique<Module>();
      module->spec = std::move(spec);
      ok = prepare(*module, modules_.size()) && ok;
      modules_.push_back(std::move(module));
   }
   module_names_.resize(modules_.size());
   // init has side effects, so it runs only once everything else passed, and stops at the first
   // failure.
   if (ok) {
      for (auto &module : modules_) {
         if (!initialise(*module)) {
            ok = false;
            break;
         }
         go_live(*module);
      }
   }
   if (ok) publish_and_wait();
   if (!ok) {
      unload_all();
      dirs_.clear();
      publish_errors();
      return errors_.empty() ? MODKIT_E_INTERNAL : errors_.front().code;
   }
   loaded_ = true;
   publish_errors();
   return MODKIT_OK;
}

} // namespace modkit::loader
