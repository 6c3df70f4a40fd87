#include "loader.hpp"

#include "elf/elf_facts.hpp"
#include "environment_checks.hpp"
#include "elf/elf_policy.hpp"
#include "link.hpp"
#include "resolve.hpp"
#include "schema.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>
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
   if (options_.allow_any_owner)
      logf(MODKIT_LOG_WARNING, nullptr,
           "allow_any_owner is on: module files owned by any user are accepted (development only)");
}

Loader::~Loader() { unload_all(); }

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

bool Loader::prepare(Module &module, size_t index) {
   const std::string &pointer = module.spec.pointer;
   std::string error;
   if (!resolve_module(module.spec.module, dirs_, module.path, error)) {
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
   if (!module.spec.sha256.empty()) {
      std::string digest;
      if (!file.sha256(digest, error)) {
         fail(&module, Stage::trust, MODKIT_E_INTERNAL, pointer + "/sha256", error);
         return false;
      }
      if (digest != module.spec.sha256) {
         fail(&module, Stage::trust, MODKIT_E_DENIED, pointer + "/sha256",
              fmt::format("content does not match the pin: expected sha256 {}, found {}", module.spec.sha256, digest));
         return false;
      }
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
   module.load_name = linked.name;
   if (module.manifest_name != module.desc->name) {
      fail(&module, Stage::link, MODKIT_E_INVALID_ARGUMENT, pointer + "/module",
           fmt::format("descriptor name \"{}\" differs from the manifest's \"{}\"", module.desc->name,
                       module.manifest_name));
      return false;
   }
   module.description = module.desc->description ? module.desc->description : "";
   module.host = std::make_unique<modkit_host>();
   module.host->loader = this;
   module.host->module_index = index;
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
   auto hygiene = elf::check_hygiene(facts);
   const std::string module_dir = module.path.substr(0, module.path.rfind('/'));
   for (auto &f : check_search_path(facts, module_dir)) hygiene.push_back(std::move(f));
   for (auto &f : check_needed_libraries(facts, module_dir)) hygiene.push_back(std::move(f));
   for (auto &f : check_symbol_versions(facts)) hygiene.push_back(std::move(f));
   for (const auto &f : hygiene) {
      // "hygiene.static_tls" -> "static_tls", the name a host config switches it off by.
      const std::string name = f.check.substr(f.check.find('.') + 1);
      auto exception = module.spec.hygiene_exceptions.find(name);
      if (exception != module.spec.hygiene_exceptions.end()) {
         logf(MODKIT_LOG_WARNING, nullptr,
              fmt::format("module '{}': hygiene check {} is off by the host config ({}); it found: {}",
                          module.spec.module, name, exception->second, f.message()));
         continue;
      }
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
   if (!nlohmann::json::accept(out.bytes)) {
      fail(&module, Stage::configure, MODKIT_E_INTERNAL, pointer,
           "parse_config succeeded but its output is not valid JSON");
      return false;
   }
   module.config_json = std::move(out.bytes);
   return true;
}

bool Loader::initialise(Module &module) {
   modkit_host &host = *module.host;
   modkit_error_sink sink;
   host.state = modkit_host::State::initialising;
   const std::vector<pid_t> threads_before = process_threads();
   const auto started = std::chrono::steady_clock::now();
   const modkit_status status = module.desc->init(host_api_table(), &host,
                                                  modkit_str{module.config_json.data(), module.config_json.size()},
                                                  &module.instance, &sink);
   host.state = modkit_host::State::running;
   const std::string pointer = module.spec.pointer;
   if (status != MODKIT_OK || !host.staged.refusals.empty()) {
      // The module ignoring a refused registration fails too: it cannot run as its author intended.
      const modkit_status code = status != MODKIT_OK ? status : MODKIT_E_INVALID_ARGUMENT;
      const std::string head = status != MODKIT_OK
                                  ? fmt::format("init failed with status {}", modkit_status_name(status))
                                  : std::string("registration refused");
      // One error per reason; those the module reported point into its config, as at configure.
      for (const auto &e : sink.entries) {
         fail(&module, Stage::init, e.code != MODKIT_OK ? e.code : code,
              e.pointer.empty() ? pointer : pointer + "/config" + e.pointer,
              head + ": " + (e.message.empty() ? "no reason given" : e.message));
      }
      for (const auto &r : host.staged.refusals) fail(&module, Stage::init, code, pointer, head + ": " + r);
      if (sink.entries.empty() && host.staged.refusals.empty()) fail(&module, Stage::init, code, pointer, head);
      if (status == MODKIT_OK && module.desc->deinit) module.desc->deinit(module.instance);
      host.staged = Staged{};
      module.instance = nullptr;
      return false;
   }
   module.initialised = true;
   // Threads that appeared during init are the module's; unload checks that deinit ended them.
   const std::vector<pid_t> threads_after = process_threads();
   std::set_difference(threads_after.begin(), threads_after.end(), threads_before.begin(), threads_before.end(),
                       std::back_inserter(module.threads));
   const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
   logf(MODKIT_LOG_INFO, nullptr,
        fmt::format("loaded module '{}' {} from {} (position {}, init {} us)", module.desc->name,
                    module.desc->version, module.path, module.spec.position, micros.count()));
   return true;
}

void Loader::publish_and_wait() {
   registry_.publish(module_names_);
   epoch_.synchronize();
   registry_.free_retired();
}

void Loader::retire(Module &module) {
   if (module.initialised) {
      module.host->state = modkit_host::State::unloading;
      if (module.desc->deinit) module.desc->deinit(module.instance);
      module.initialised = false;
      module.instance = nullptr;
   }
   if (!module.handle) return;
   // Unmapping code a thread still runs would crash the host: a module whose own threads
   // outlive deinit stays mapped, and the operator is told. (A module that started none needs
   // no listing of the process's threads.)
   std::vector<pid_t> left;
   if (!module.threads.empty()) {
      const std::vector<pid_t> now = process_threads();
      std::set_intersection(module.threads.begin(), module.threads.end(), now.begin(), now.end(),
                            std::back_inserter(left));
   }
   const std::string name = module.desc ? module.desc->name : module.spec.module;
   if (!left.empty()) {
      logf(MODKIT_LOG_WARNING, nullptr,
           fmt::format("module '{}' left {} thread(s) running after deinit (thread {}); it stays mapped instead of "
                       "being closed", name, left.size(), left.front()));
      module.handle = nullptr; // deliberately never closed
      module.desc = nullptr;
      return;
   }
   ::dlclose(module.handle);
   module.handle = nullptr;
   module.desc = nullptr;
   if (!module.load_name.empty() && still_mapped(module.load_name))
      logf(MODKIT_LOG_INFO, nullptr,
           fmt::format("module '{}' is still mapped after dlclose (something in it, such as thread-local "
                       "destructors, keeps it loaded)", name));
}

void Loader::go_live(Module &module) {
   registry_.commit(*module.host);
   module_names_[module.host->module_index] = module.desc->name;
   module.view = {sizeof(modkit_loader_module), module.desc->name, module.desc->version, module.description.c_str(),
                  module.path.c_str(), module.config_json.c_str(), module.spec.position};
}

long Loader::find_module(const char *name) const {
   for (size_t i = 0; name && i < modules_.size(); ++i) {
      if (modules_[i]->initialised && std::strcmp(modules_[i]->desc->name, name) == 0) return static_cast<long>(i);
   }
   return -1;
}

modkit_status Loader::unload_module(const char *name) {
   errors_.clear();
   const long found = find_module(name);
   if (found < 0) {
      fail(nullptr, Stage::unload, MODKIT_E_NOT_FOUND, "", fmt::format("no module '{}' is loaded", name ? name : ""));
      publish_errors();
      return MODKIT_E_NOT_FOUND;
   }
   if (epoch_.in_read_section()) {
      fail(nullptr, Stage::unload, MODKIT_E_STATE, "", "unload_module called inside a read section would wait for itself");
      publish_errors();
      return MODKIT_E_STATE;
   }
   const auto index = static_cast<size_t>(found);
   std::unique_ptr<Module> module = std::move(modules_[index]);
   modules_.erase(modules_.begin() + found);
   module_names_.erase(module_names_.begin() + found);
   for (size_t i = index; i < modules_.size(); ++i) modules_[i]->host->module_index = i;
   registry_.remove_module(static_cast<uint32_t>(index));
   // Dispatches already running finish with the old snapshot; new ones no longer see it.
   publish_and_wait();
   const std::string unloaded = module->desc->name;
   retire(*module);
   logf(MODKIT_LOG_INFO, nullptr, fmt::format("unloaded module '{}'", unloaded));
   publish_errors();
   return MODKIT_OK;
}

modkit_status Loader::reload_module(const char *name) {
   errors_.clear();
   const long found = find_module(name);
   if (found < 0) {
      fail(nullptr, Stage::unload, MODKIT_E_NOT_FOUND, "", fmt::format("no module '{}' is loaded", name ? name : ""));
      publish_errors();
      return MODKIT_E_NOT_FOUND;
   }
   if (epoch_.in_read_section()) {
      fail(nullptr, Stage::unload, MODKIT_E_STATE, "", "reload_module called inside a read section would wait for itself");
      publish_errors();
      return MODKIT_E_STATE;
   }
   const auto index = static_cast<size_t>(found);
   Module &old = *modules_[index];
   auto fresh = std::make_unique<Module>();
   fresh->spec = old.spec;
   bool ok = prepare(*fresh, index);
   if (ok && std::strcmp(fresh->desc->name, old.desc->name) != 0) {
      fail(fresh.get(), Stage::link, MODKIT_E_INVALID_ARGUMENT, fresh->spec.pointer + "/module",
           fmt::format("the file now holds module '{}', not '{}'", fresh->desc->name, old.desc->name));
      ok = false;
   }
   // init stages the new registrations; the old instance keeps serving until they are swapped.
   if (ok) ok = initialise(*fresh);
   if (!ok) {
      unload(*fresh);
      publish_errors();
      logf(MODKIT_LOG_WARNING, nullptr,
           fmt::format("reload of module '{}' failed; the running instance is kept", old.desc->name));
      return errors_.empty() ? MODKIT_E_INTERNAL : errors_.front().code;
   }
   old.host->state = modkit_host::State::unloading;
   registry_.revoke(static_cast<uint32_t>(index));
   go_live(*fresh);
   modules_[index].swap(fresh);
   // One snapshot swaps old for new: a dispatch sees exactly one of them, never both or none.
   publish_and_wait();
   retire(*fresh);
   logf(MODKIT_LOG_INFO, nullptr, fmt::format("reloaded module '{}'", modules_[index]->desc->name));
   publish_errors();
   return MODKIT_OK;
}

void Loader::unload(Module &module) {
   if (module.initialised) {
      registry_.revoke(static_cast<uint32_t>(module.host->module_index));
      publish_and_wait();
   }
   retire(module);
}

void Loader::unload_all() {
   for (auto &m : modules_) {
      if (m->initialised) registry_.revoke(static_cast<uint32_t>(m->host->module_index));
   }
   if (!modules_.empty()) publish_and_wait();
   for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) retire(**it);
   modules_.clear();
   module_names_.clear();
   registry_.publish(module_names_);
   registry_.free_retired();
}

DispatchContext Loader::dispatch_context(const Snapshot &snapshot) const {
   DispatchContext context;
   context.module_name = [&snapshot](uint32_t index) -> const char * {
      return index < snapshot.module_names.size() ? snapshot.module_names[index].c_str() : "";
   };
   context.warn = [this](const std::string &module, const std::string &line) {
      logf(MODKIT_LOG_WARNING, module.c_str(), line);
   };
   return context;
}

modkit_status Loader::find_dynamic(const char *category_id, const char *slot_name, size_t &category, size_t &slot,
                                   const invoke::Invoker *&invoker, nlohmann::json &result) const {
   const long c = registry_.find_category(category_id);
   const modkit_category *cat = c < 0 ? nullptr : registry_.category(static_cast<size_t>(c));
   for (uint32_t s = 0; cat && slot_name && s < cat->slot_count; ++s) {
      if (std::strcmp(cat->slots[s].name, slot_name) == 0) {
         category = static_cast<size_t>(c);
         slot = s;
         std::string why;
         invoker = dynamic_.find(category, slot, why);
         if (invoker) return MODKIT_OK;
         result = {{"error", why}};
         return MODKIT_E_INTERNAL;
      }
   }
   result = {{"error", fmt::format("no slot {}.{} in this host", category_id ? category_id : "null",
                                   slot_name ? slot_name : "null")}};
   return MODKIT_E_NOT_FOUND;
}

namespace {

bool parse_args(const std::string &text, nlohmann::json &args, nlohmann::json &result) {
   args = nlohmann::json::parse(text.empty() ? std::string("{}") : text, nullptr, false);
   if (!args.is_discarded()) return true;
   result = {{"error", "arguments are not valid JSON"}};
   return false;
}

// A read section for the calling thread, ended on scope exit.
class ReadSection {
public:
   explicit ReadSection(modkit_loader_reader *reader)
      : reader_(reader), snapshot_(static_cast<const Snapshot *>(modkit_loader_read_begin(reader))) {}
   ~ReadSection() { modkit_loader_read_end(reader_); }
   ReadSection(const ReadSection &) = delete;
   ReadSection &operator=(const ReadSection &) = delete;
   const Snapshot &snapshot() const { return *snapshot_; }

private:
   modkit_loader_reader *reader_;
   const Snapshot *snapshot_;
};

long module_index(const Snapshot &snapshot, const char *name) {
   for (size_t i = 0; name && i < snapshot.module_names.size(); ++i) {
      if (snapshot.module_names[i] == name) return static_cast<long>(i);
   }
   return -1;
}

} // namespace

modkit_status Loader::dispatch_json(const char *category_id, const char *slot_name, const std::string &args_text,
                                    modkit_call *call, nlohmann::json &result) const {
   size_t c = 0, s = 0;
   const invoke::Invoker *invoker = nullptr;
   if (modkit_status status = find_dynamic(category_id, slot_name, c, s, invoker, result)) return status;
   nlohmann::json args;
   if (!parse_args(args_text, args, result)) return MODKIT_E_INVALID_ARGUMENT;
   ReadSection section(epoch_.reader(registry_.current_location()));
   const modkit_loader_slot &slot = section.snapshot().slot_arrays[c][s];
   return dispatch(slot, *invoker, args, call, dispatch_context(section.snapshot()), result);
}

modkit_status Loader::call_json(const char *module_name, const char *category_id, const char *slot_name,
                                const std::string &args_text, modkit_call *call, nlohmann::json &result) const {
   size_t c = 0, s = 0;
   const invoke::Invoker *invoker = nullptr;
   if (modkit_status status = find_dynamic(category_id, slot_name, c, s, invoker, result)) return status;
   nlohmann::json args;
   if (!parse_args(args_text, args, result)) return MODKIT_E_INVALID_ARGUMENT;
   ReadSection section(epoch_.reader(registry_.current_location()));
   const long module = module_index(section.snapshot(), module_name);
   if (module < 0) {
      result = {{"error", fmt::format("no module '{}' is loaded", module_name ? module_name : "")}};
      return MODKIT_E_NOT_FOUND;
   }
   const modkit_loader_slot &slot = section.snapshot().slot_arrays[c][s];
   return call_module(slot, *invoker, static_cast<uint32_t>(module), args, call, dispatch_context(section.snapshot()),
                      result);
}

nlohmann::json Loader::describe() const {
   static const char *const combines[] = {"first_non_zero", "all_true", "run_all", "merge", "single", "keyed", "chained"};
   static const char *const on_errors[] = {"fail_open", "fail_closed", "propagate"};
   nlohmann::json modules = nlohmann::json::array();
   for (size_t i = 0; i < modules_.size(); ++i) {
      const Module &m = *modules_[i];
      if (!m.initialised) continue;
      nlohmann::json registrations = nlohmann::json::object();
      registry_.for_each_registration(static_cast<uint32_t>(i), [&](size_t c, size_t s) {
         const modkit_category *cat = registry_.category(c);
         registrations[cat->id].push_back(cat->slots[s].name);
      });
      nlohmann::json web = nlohmann::json::array(), caches = nlohmann::json::array();
      for (const auto &w : registry_.current().web)
         if (w.module_index == i) web.push_back(w.path);
      for (const auto &c : registry_.current().cache_list)
         if (c.module_index == i) caches.push_back(c.name);
      modules.push_back({{"name", m.desc->name}, {"version", m.desc->version}, {"description", m.description},
                         {"path", m.path}, {"position", m.spec.position},
                         {"config", nlohmann::json::parse(m.config_json, nullptr, false)},
                         {"registrations", registrations}, {"web_resources", web}, {"cached_functions", caches}});
   }
   nlohmann::json categories = nlohmann::json::array();
   for (size_t c = 0; c < registry_.category_count(); ++c) {
      const modkit_category *cat = registry_.category(c);
      nlohmann::json slots = nlohmann::json::array();
      for (uint32_t s = 0; s < cat->slot_count; ++s) {
         const modkit_slot_desc &d = cat->slots[s];
         slots.push_back({{"name", d.name}, {"signature", d.signature}, {"combine", combines[d.combine]},
                          {"on_error", on_errors[d.on_error]}, {"chain_to", d.chain_to ? nlohmann::json(d.chain_to) : nlohmann::json()},
                          {"out_max", d.out_max}, {"since", d.since_minor}});
      }
      nlohmann::json types = nlohmann::json::array();
      for (uint32_t t = 0; t < cat->type_count; ++t) {
         const modkit_type_desc &type = cat->types[t];
         nlohmann::json fields = nlohmann::json::array();
         for (uint32_t f = 0; f < type.field_count; ++f)
            fields.push_back({{"name", type.fields[f].name}, {"type", type.fields[f].type}, {"offset", type.fields[f].offset}});
         types.push_back({{"name", type.name}, {"size", type.size}, {"fields", fields}});
      }
      // The same shape categories_json takes, so a host in another language can start from it.
      categories.push_back({{"id", cat->id}, {"major", cat->major}, {"minor", cat->minor},
                            {"version", fmt::format("{}.{}", cat->major, cat->minor)}, {"slots", slots}, {"types", types}});
   }
   return {{"modules", modules}, {"categories", categories}};
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
   if (key_json && !nlohmann::json::accept(std::string(key_json->data ? key_json->data : "", key_json->size)))
      return MODKIT_E_INVALID_ARGUMENT;
   // The module cannot be unloaded while its invalidate function runs inside the section.
   ReadSection section(epoch_.reader(registry_.current_location()));
   const Snapshot &snap = section.snapshot();
   const long index = module_name ? module_index(snap, module_name) : static_cast<long>(self_index);
   if (index < 0) return MODKIT_E_NOT_FOUND;
   for (size_t i = 0; i < snap.cache_list.size(); ++i) {
      if (snap.cache_list[i].module_index == static_cast<uint32_t>(index) && std::strcmp(snap.cache_list[i].name, name) == 0)
         return snap.cache_functions[i].first(snap.cache_functions[i].second, key_json);
   }
   return MODKIT_E_NOT_FOUND;
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
