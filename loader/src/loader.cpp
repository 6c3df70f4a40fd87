#include "loader.hpp"

#include "elf/elf_facts.hpp"
#include "elf/elf_policy.hpp"
#include "link.hpp"
#include "resolve.hpp"
#include "schema.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <chrono>
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

std::vector<std::string> split_registers(const std::string &list) {
   std::vector<std::string> out;
   size_t start = 0;
   while (start < list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      std::string item = list.substr(start, end - start);
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) out.push_back(item);
      start = end + 1;
   }
   return out;
}

std::string join_sink(const modkit_error_sink &sink) {
   std::string out;
   for (const auto &e : sink.entries) out += (out.empty() ? "" : "; ") + e.message;
   return out;
}

} // namespace

Loader::Loader(const modkit_loader_options &options) {
   std::memcpy(&options_, &options, std::min<size_t>(sizeof options_, options.struct_size));
   if (options_.base_dir) base_dir_ = options_.base_dir;
   for (size_t i = 0; i < options_.reserved_web_prefix_count; ++i) {
      if (options_.reserved_web_prefixes[i]) reserved_web_.emplace_back(options_.reserved_web_prefixes[i]);
   }
   if (options_.allow_any_owner)
      logf(MODKIT_LOG_WARNING, nullptr,
           "allow_any_owner is on: module files owned by any user are accepted (development only)");
}

Loader::~Loader() { unload_all(); }

bool Loader::init_categories() {
   for (size_t i = 0; i < options_.category_count; ++i) {
      std::string error;
      if (!registry_.add_category(options_.categories[i], error)) {
         logf(MODKIT_LOG_ERROR, nullptr, "invalid category descriptor: " + error);
         return false;
      }
   }
   return true;
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
   loaded_ = true;
   HostConfig config;
   if (!parse_host_config(config_text, config, errors_)) {
      publish_errors();
      return MODKIT_E_CONFIG;
   }
   std::vector<std::string> dirs;
   std::string dir_error;
   if (!absolute_module_dirs(config.module_path, base_dir_, dirs, dir_error)) {
      fail(nullptr, Stage::config, MODKIT_E_CONFIG, "/module_path", dir_error);
      publish_errors();
      return MODKIT_E_CONFIG;
   }

   // Pure stages for every module, collecting every error.
   bool ok = true;
   for (auto &spec : config.modules) {
      auto module = std::make_unique<Module>();
      module->spec = std::move(spec);
      ok = prepare(*module, dirs) && ok;
      modules_.push_back(std::move(module));
   }
   // init has side effects, so it runs only once everything else passed, and stops at the first
   // failure.
   if (ok) {
      for (auto &module : modules_) {
         if (!initialise(*module)) {
            ok = false;
            break;
         }
      }
   }
   if (!ok) {
      unload_all();
      publish_errors();
      return errors_.empty() ? MODKIT_E_INTERNAL : errors_.front().code;
   }
   for (auto &m : modules_) {
      m->view = {sizeof(modkit_loader_module), m->desc->name, m->desc->version, m->description.c_str(),
                 m->path.c_str(), m->config_json.c_str(), m->spec.position};
   }
   publish_errors();
   return MODKIT_OK;
}

bool Loader::prepare(Module &module, const std::vector<std::string> &dirs) {
   const std::string &pointer = module.spec.pointer;
   std::string error;
   if (!resolve_module(module.spec.module, dirs, module.path, error)) {
      fail(&module, Stage::resolve, MODKIT_E_NOT_FOUND, pointer + "/module", error);
      return false;
   }
   TrustPolicy policy;
   policy.allow_any_owner = options_.allow_any_owner;
   TrustedFile file;
   if (!TrustedFile::open(module.path, policy, file, error)) {
      fail(&module, Stage::trust, MODKIT_E_DENIED, pointer + "/module", error);
      return false;
   }
   std::vector<std::string> registers;
   if (!inspect(module, file, registers)) return false;

   Linked linked;
   modkit_status code = MODKIT_OK;
   if (!link_module(module.path, file, linked, code, error)) {
      fail(&module, Stage::link, code, pointer + "/module", error);
      return false;
   }
   module.handle = linked.handle;
   module.desc = linked.desc;
   if (module.manifest_name != module.desc->name) {
      fail(&module, Stage::link, MODKIT_E_INVALID_ARGUMENT, pointer + "/module",
           fmt::format("descriptor name \"{}\" differs from the manifest's \"{}\"", module.desc->name,
                       module.manifest_name));
      return false;
   }
   module.description = module.desc->description ? module.desc->description : "";
   module.host = std::make_unique<modkit_host>();
   module.host->loader = this;
   module.host->module_index = modules_.size();
   module.host->name = module.desc->name;
   module.host->registers = std::move(registers);
   return configure(module);
}

bool Loader::inspect(Module &module, const TrustedFile &file, std::vector<std::string> &registers) {
   const std::string pointer = module.spec.pointer + "/module";
   elf::Facts facts;
   elf::ParseError parse_error;
   if (!elf::read_facts(file.fd(), facts, parse_error)) {
      // A wrong class or byte order usually breaks parsing further on; saying so is clearer.
      auto ident = facts.elf_class != 0 ? elf::check_ident(facts, elf::HostFacts::current())
                                        : std::vector<elf::Finding>{};
      if (ident.empty()) fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer, parse_error.message());
      for (const auto &f : ident) fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer, f.message());
      return false;
   }
   bool ok = true;
   for (const auto &f : elf::check_structure(facts, elf::HostFacts::current())) {
      const bool version = f.check.rfind("manifest", 0) == 0;
      fail(&module, Stage::inspect, version ? MODKIT_E_VERSION_MISMATCH : MODKIT_E_INVALID_ARGUMENT, pointer,
           f.message());
      ok = false;
   }
   if (!ok) return false;
   for (const auto &f : elf::check_hygiene(facts)) {
      fail(&module, Stage::inspect, MODKIT_E_DENIED, pointer, f.message());
      ok = false;
   }
   if (!ok) return false;

   nlohmann::json manifest = nlohmann::json::parse(facts.manifests.front(), nullptr, false);
   auto text_field = [&](const char *key) -> std::string {
      if (!manifest.is_object()) return {};
      auto it = manifest.find(key);
      return it != manifest.end() && it->is_string() ? it->get<std::string>() : std::string();
   };
   const std::string abi = text_field("abi");
   module.manifest_name = text_field("name");
   if (!manifest.is_object() || module.manifest_name.empty() || text_field("version").empty() || abi.empty()) {
      fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer,
           "the .note.modkit manifest is not a JSON object with \"name\", \"version\" and \"abi\" strings");
      return false;
   }
   unsigned major = 0, minor = 0;
   char tail = 0;
   if (std::sscanf(abi.c_str(), "%u.%u%c", &major, &minor, &tail) != 2) {
      fail(&module, Stage::inspect, MODKIT_E_INVALID_ARGUMENT, pointer,
           fmt::format("manifest abi \"{}\" is not MAJOR.MINOR", abi));
      return false;
   }
   if (major != MODKIT_ABI_VERSION_MAJOR) {
      fail(&module, Stage::inspect, MODKIT_E_VERSION_MISMATCH, pointer,
           fmt::format("built for ABI {}.{}; the loader provides {}.{} and the major versions must be equal",
                       major, minor, MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
      return false;
   }
   if (minor > MODKIT_ABI_VERSION_MINOR) {
      fail(&module, Stage::inspect, MODKIT_E_VERSION_MISMATCH, pointer,
           fmt::format("built for ABI {}.{}, newer than the loader's {}.{}; expected a module built for "
                       "{}.{} or older", major, minor, MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR,
                       MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR));
      return false;
   }
   registers = split_registers(text_field("registers"));
   return true;
}

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
   if (!nlohmann::json::accept(out.data)) {
      fail(&module, Stage::configure, MODKIT_E_INTERNAL, pointer,
           "parse_config succeeded but its output is not valid JSON");
      return false;
   }
   module.config_json = std::move(out.data);
   return true;
}

bool Loader::initialise(Module &module) {
   modkit_host &host = *module.host;
   modkit_error_sink sink;
   host.state = modkit_host::State::initialising;
   const auto started = std::chrono::steady_clock::now();
   const modkit_status status = module.desc->init(host_api_table(), &host,
                                                  modkit_str{module.config_json.data(), module.config_json.size()},
                                                  &module.instance, &sink);
   host.state = modkit_host::State::running;
   const std::string pointer = module.spec.pointer;
   if (status != MODKIT_OK || !host.staged.refusals.empty()) {
      std::string why = join_sink(sink);
      for (const auto &r : host.staged.refusals) why += (why.empty() ? "" : "; ") + r;
      if (status == MODKIT_OK) {
         // The module ignored a refused registration; it cannot run as its author intended.
         fail(&module, Stage::init, MODKIT_E_INVALID_ARGUMENT, pointer, "registration refused: " + why);
         if (module.desc->deinit) module.desc->deinit(module.instance);
      } else {
         fail(&module, Stage::init, status, pointer,
              fmt::format("init failed with status {}{}{}", modkit_status_name(status), why.empty() ? "" : ": ", why));
      }
      host.staged = Staged{};
      module.instance = nullptr;
      return false;
   }
   registry_.commit(host);
   module.initialised = true;
   module_names_.resize(modules_.size());
   module_names_[host.module_index] = module.desc->name;
   const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
   logf(MODKIT_LOG_INFO, nullptr,
        fmt::format("loaded module '{}' {} from {} (position {}, init {} us)", module.desc->name,
                    module.desc->version, module.path, module.spec.position, micros.count()));
   return true;
}

void Loader::unload(Module &module) {
   if (module.initialised) {
      module.host->state = modkit_host::State::unloading;
      registry_.revoke(static_cast<uint32_t>(module.host->module_index));
      if (module.desc->deinit) module.desc->deinit(module.instance);
      module.initialised = false;
      module.instance = nullptr;
   }
   if (module.handle) {
      ::dlclose(module.handle);
      module.handle = nullptr;
      module.desc = nullptr;
   }
}

void Loader::unload_all() {
   for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) unload(**it);
   modules_.clear();
   module_names_.clear();
}

modkit_status Loader::register_callbacks(modkit_host *host, const char *category_id, uint16_t major,
                                         uint16_t minor, const void *callbacks, void *user_data) {
   if (host->state != modkit_host::State::initialising) {
      logf(MODKIT_LOG_WARNING, host->name.c_str(),
           fmt::format("register_callbacks({}) outside init refused", category_id ? category_id : "null"));
      return MODKIT_E_STATE;
   }
   Refusal r = registry_.stage_callbacks(*host, category_id, major, minor, callbacks, user_data);
   if (r.code != MODKIT_OK) host->staged.refusals.push_back(r.why);
   return r.code;
}

modkit_status Loader::register_web_resource(modkit_host *host, const char *path, modkit_web_handler handler,
                                            void *user_data) {
   if (host->state != modkit_host::State::initialising) {
      logf(MODKIT_LOG_WARNING, host->name.c_str(), "register_web_resource outside init refused");
      return MODKIT_E_STATE;
   }
   Refusal r = registry_.stage_web_resource(*host, path, handler, user_data, reserved_web_, module_names_);
   if (r.code == MODKIT_E_CONFLICT)
      logf(MODKIT_LOG_WARNING, host->name.c_str(), r.why + "; this module's handler is ignored");
   else if (r.code != MODKIT_OK)
      host->staged.refusals.push_back(r.why);
   return r.code;
}

modkit_status Loader::register_cached_function(modkit_host *host, const char *name, modkit_cache_invalidate_fn fn,
                                               void *user_data) {
   if (host->state != modkit_host::State::initialising) {
      logf(MODKIT_LOG_WARNING, host->name.c_str(), "register_cached_function outside init refused");
      return MODKIT_E_STATE;
   }
   Refusal r = registry_.stage_cache(*host, name, fn, user_data);
   if (r.code != MODKIT_OK) host->staged.refusals.push_back(r.why);
   return r.code;
}

modkit_status Loader::invalidate_cache(const char *module_name, size_t self_index, const char *name,
                                       const modkit_str *key_json) {
   if (!name) return MODKIT_E_INVALID_ARGUMENT;
   size_t index = self_index;
   if (module_name) {
      index = modules_.size();
      for (size_t i = 0; i < modules_.size(); ++i) {
         if (modules_[i]->initialised && std::strcmp(modules_[i]->desc->name, module_name) == 0) index = i;
      }
      if (index == modules_.size()) return MODKIT_E_NOT_FOUND;
   }
   modkit_cache_invalidate_fn fn = nullptr;
   void *user_data = nullptr;
   if (!registry_.find_cache(static_cast<uint32_t>(index), name, fn, &user_data)) return MODKIT_E_NOT_FOUND;
   if (key_json && !nlohmann::json::accept(std::string(key_json->data ? key_json->data : "", key_json->size)))
      return MODKIT_E_INVALID_ARGUMENT;
   return fn(user_data, key_json);
}

bool Loader::has_capability(const char *id) const {
   if (!id) return false;
   const std::string want = id;
   if (want == "modkit.web_resources/1" || want == "modkit.cached_functions/1") return true;
   for (size_t i = 0; i < registry_.category_count(); ++i) {
      const modkit_category *c = registry_.category(i);
      if (want == fmt::format("{}/{}", c->id, c->major)) return true;
   }
   return false;
}

const void *Loader::get_extension(const char *id) const {
   if (!id || !options_.get_extension) return nullptr;
   return options_.get_extension(options_.extension_user_data, id);
}

} // namespace modkit::loader
