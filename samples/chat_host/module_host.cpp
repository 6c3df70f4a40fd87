// module_host.cpp - loading the modules, the category rules the host enforces after load,
// reloads, cache invalidation and module web resources.
#include "dispatch_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>

namespace chat {

namespace {

std::atomic<uint64_t> next_host_id{1};

std::string join_lines(const std::vector<std::string> &lines) {
   std::string out;
   for (const auto &l : lines) out += (out.empty() ? "" : "\n") + l;
   return out;
}

// Module indices registered for one slot in a snapshot.
std::set<uint32_t> registrants(const modkit_loader_snapshot &snapshot, int32_t category, uint32_t slot) {
   std::set<uint32_t> out;
   const modkit_loader_slot *s = modkit_loader_snapshot_slot(&snapshot, static_cast<uint32_t>(category), slot);
   for (size_t i = 0; s && i < s->count; ++i) out.insert(s->entries[i].module_index);
   return out;
}

} // namespace

StartupError::StartupError(std::vector<std::string> errors)
   : std::runtime_error(join_lines(errors)), errors_(std::move(errors)) {}

std::string ModuleHost::prefixed(const modkit::LoadErrorItem &item) const {
   // The loader saw only the modkit part of the config; point into the whole file.
   if (!item.pointer.empty() && item.text.compare(0, item.pointer.size(), item.pointer) == 0)
      return options_.pointer_prefix + item.text;
   return item.text;
}

ModuleHost::ModuleHost(Options options, Metrics &metrics)
   : options_(std::move(options)), metrics_(metrics), id_(next_host_id++) {
   cache_stats_.struct_size = sizeof cache_stats_;
   cache_stats_.context = this;
   cache_stats_.record = &ModuleHost::record_cache_thunk;

   modkit::Loader::Options lo;
   lo.categories = {modkit_spam_checker_category(),           modkit_third_party_rules_category(),
                    modkit_presence_router_category(),        modkit_account_validity_category(),
                    modkit_password_auth_provider_category(), modkit_background_update_controller_category(),
                    modkit_account_data_category(),           modkit_extra_unsigned_fields_category(),
                    modkit_media_repository_category(),       modkit_ratelimit_category(),
                    modkit_federation_category()};
   lo.base_dir = options_.base_dir;
   lo.reserved_web_prefixes = options_.reserved_web_prefixes;
   // The loader reports each module's init time in its log line; keep it for /metrics.
   static const std::regex loaded(R"(^loaded module '([^']+)' .*init (\d+) us\)$)");
   lo.log = [this](modkit_log_level level, const char *module, std::string_view line) {
      const std::string text(line);
      std::smatch m;
      if (!module && std::regex_match(text, m, loaded)) metrics_.set_load_seconds(m[1], std::stod(m[2]) / 1e6);
      log(level, module ? module : "", text);
   };
   lo.get_extension = [this](const char *id) -> const void * {
      const std::string wanted(id);
      if (wanted == CHAT_HOST_CACHE_STATS_ID) return &cache_stats_;
      return options_.extension ? options_.extension(wanted) : nullptr;
   };
   if (options_.module_stopping) lo.module_stopping = options_.module_stopping;
   loader_ = std::make_unique<modkit::Loader>(std::move(lo));
   metrics_.attach(loader_->get());

   std::vector<std::string> errors;
   try {
      loader_->load(options_.modkit_config.dump());
   } catch (const modkit::LoadError &e) {
      for (const auto &item : e.errors()) errors.push_back(prefixed(item));
      if (errors.empty()) errors.push_back(e.what());
      throw StartupError(errors);
   }
   for (size_t i = 0; i < loader_->module_count(); ++i) names_.emplace_back(loader_->module(i).name);
   std::vector<std::string> warnings;
   errors = check_category_rules(warnings);
   std::shared_ptr<const LoginTypes> types;
   for (auto &e : build_login_types(types)) errors.push_back(std::move(e));
   if (!errors.empty()) throw StartupError(errors); // the loader's destructor unloads in reverse order
   for (const auto &w : warnings) log(MODKIT_LOG_WARNING, "", w);
   std::lock_guard<std::mutex> lock(mutex_);
   warnings_ = std::move(warnings);
   login_types_ = std::move(types);
}

ModuleHost::~ModuleHost() { metrics_.attach(nullptr); }

const std::string &ModuleHost::module_name(uint32_t index) const {
   static const std::string unknown = "?";
   return index < names_.size() ? names_[index] : unknown;
}

std::vector<std::string> ModuleHost::warnings() const {
   std::lock_guard<std::mutex> lock(mutex_);
   return warnings_;
}

std::shared_ptr<const LoginTypes> ModuleHost::login_types() const {
   std::lock_guard<std::mutex> lock(mutex_);
   return login_types_;
}

modkit_loader_reader *ModuleHost::reader() const {
   // One reader per thread and host; keyed by host ID, since a new host may reuse an address.
   thread_local std::map<uint64_t, modkit_loader_reader *> readers;
   auto it = readers.find(id_);
   if (it != readers.end()) return it->second;
   modkit_loader_reader *r = loader_->reader();
   readers[id_] = r;
   return r;
}

int64_t ModuleHost::call_deadline_ns() const {
   // steady_clock is CLOCK_MONOTONIC, the clock of modkit_call.deadline_ns.
   const auto now = std::chrono::steady_clock::now().time_since_epoch();
   return std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() +
          static_cast<int64_t>(options_.call_timeout_ms) * 1000000;
}

void ModuleHost::log(modkit_log_level level, const std::string &module, const std::string &line) const {
   if (options_.log) {
      options_.log(level, module, line);
      return;
   }
   static const char *const levels[] = {"debug", "info", "warning", "error"};
   std::fprintf(stderr, "%s [%s] %s\n", levels[std::clamp(level, 0, 3)], module.empty() ? "host" : module.c_str(),
                line.c_str());
}

std::vector<std::string> ModuleHost::check_category_rules(std::vector<std::string> &warnings) {
   std::vector<std::string> errors;
   modkit::ReadGuard guard(reader());
   const modkit_loader_snapshot &snap = guard.snapshot();
   auto category = [&](const char *id) { return modkit_loader_category_index(loader_->get(), id); };

   // Pairs: a module that sets one callback of the pair must set the other.
   auto paired = [&](const char *id, uint32_t a, uint32_t b, const char *a_name, const char *b_name, const char *why) {
      const auto with_a = registrants(snap, category(id), a), with_b = registrants(snap, category(id), b);
      for (uint32_t m = 0; m < names_.size(); ++m) {
         if (with_a.count(m) == with_b.count(m)) continue;
         const bool has_a = with_a.count(m) > 0;
         errors.push_back(fmt::format("module '{}': {} sets {} without {}; {}", names_[m], id, has_a ? a_name : b_name,
                                      has_a ? b_name : a_name, why));
      }
   };
   paired(MODKIT_PRESENCE_ROUTER_ID, MODKIT_PRESENCE_ROUTER_GET_USERS_FOR_STATES,
          MODKIT_PRESENCE_ROUTER_GET_INTERESTED_USERS, "get_users_for_states", "get_interested_users",
          "the presence router's two callbacks come as a pair");
   paired(MODKIT_PASSWORD_AUTH_PROVIDER_ID, MODKIT_PASSWORD_AUTH_PROVIDER_AUTH_CHECKERS,
          MODKIT_PASSWORD_AUTH_PROVIDER_GET_SUPPORTED_LOGIN_TYPES, "auth_checkers", "get_supported_login_types",
          "auth_checkers answers the login types get_supported_login_types declares");

   // The background update controller: on_update is required; the first registrant owns all.
   const int32_t buc = category(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);
   const auto updaters = registrants(snap, buc, MODKIT_BACKGROUND_UPDATE_CONTROLLER_ON_UPDATE);
   std::set<uint32_t> controllers = updaters;
   for (uint32_t s : {MODKIT_BACKGROUND_UPDATE_CONTROLLER_DEFAULT_BATCH_SIZE, MODKIT_BACKGROUND_UPDATE_CONTROLLER_MIN_BATCH_SIZE}) {
      for (uint32_t m : registrants(snap, buc, s)) {
         controllers.insert(m);
         if (!updaters.count(m))
            errors.push_back(fmt::format("module '{}': {} sets {} without on_update, which is required", names_[m],
                                         MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID,
                                         s == MODKIT_BACKGROUND_UPDATE_CONTROLLER_MIN_BATCH_SIZE ? "min_batch_size"
                                                                                                : "default_batch_size"));
      }
   }
   if (!updaters.empty()) {
      const uint32_t owner = *updaters.begin();
      for (uint32_t m : controllers)
         if (m != owner)
            warnings.push_back(fmt::format("module '{}' registered {} callbacks, but module '{}' comes first in the "
                                           "config and owns the category; '{}''s are ignored",
                                           names_[m], MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID, names_[owner], names_[m]));
   }

   // Each legacy account validity hook has one owner.
   const int32_t av = category(MODKIT_ACCOUNT_VALIDITY_ID);
   const std::pair<uint32_t, const char *> legacy[] = {
      {MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_SEND_MAIL, "on_legacy_send_mail"},
      {MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_RENEW, "on_legacy_renew"},
      {MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_ADMIN_REQUEST, "on_legacy_admin_request"}};
   for (const auto &[slot, name] : legacy) {
      const auto owners = registrants(snap, av, slot);
      if (owners.size() < 2) continue;
      std::string list;
      for (uint32_t m : owners) list += (list.empty() ? "'" : ", '") + names_[m] + "'";
      errors.push_back(fmt::format("{} {} is set by modules {}; it may have only one owner", MODKIT_ACCOUNT_VALIDITY_ID,
                                   name, list));
   }

   // No module may shadow a built-in endpoint.
   for (size_t i = 0; i < snap.web_resource_count; ++i) {
      const modkit_loader_web_resource &w = snap.web_resources[i];
      if (options_.is_builtin_path && options_.is_builtin_path(w.path))
         errors.push_back(fmt::format("module '{}': web path \"{}\" is a built-in endpoint of the host; a module "
                                      "cannot replace it", module_name(w.module_index), w.path));
   }
   return errors;
}

std::vector<std::string> ModuleHost::build_login_types(std::shared_ptr<const LoginTypes> &out) {
   using PAP = modkit_password_auth_provider_callbacks;
   std::vector<std::string> errors;
   auto types = std::make_shared<LoginTypes>();
   std::map<std::string, uint32_t> first_declared;
   CallContext ctx{"startup", nullptr};
   Scope scope(*this, ctx, callback_name<&PAP::get_supported_login_types>("get_supported_login_types"));
   auto slot = scope.slot<&PAP::get_supported_login_types>();
   Buffer buffer;
   for (const modkit_loader_entry &e : slot) {
      const std::string &name = module_name(e.module_index);
      const modkit_status s = scope.wrap_counted([&](const modkit_loader_entry &x) {
         return slot.fn(x)(x.user_data, scope.call(), buffer.fresh());
      })(e);
      if (s != MODKIT_OK) {
         errors.push_back(fmt::format("module '{}': get_supported_login_types failed with status {}", name,
                                      modkit_status_name(s)));
         continue;
      }
      const json declared = json::parse(buffer.text(), nullptr, false);
      if (!declared.is_object()) {
         errors.push_back(fmt::format("module '{}': get_supported_login_types wrote {}, expected a JSON object of "
                                      "login type -> [field, ...]", name, buffer.text().empty() ? "nothing" : buffer.text()));
         continue;
      }
      for (const auto &[type, fields] : declared.items()) {
         if (!fields.is_array() || !std::all_of(fields.begin(), fields.end(), [](const json &f) { return f.is_string(); })) {
            errors.push_back(fmt::format("module '{}': login type \"{}\" must list its fields as an array of strings",
                                         name, type));
            continue;
         }
         std::vector<std::string> list = fields.get<std::vector<std::string>>();
         std::sort(list.begin(), list.end());
         list.erase(std::unique(list.begin(), list.end()), list.end());
         auto known = types->fields.find(type);
         if (known != types->fields.end() && known->second != list) {
            // Synapse documents this refusal but never performs it; modkit does.
            errors.push_back(fmt::format("login type \"{}\" is declared by module '{}' with fields [{}] and by module "
                                         "'{}' with fields [{}]; two modules may share a login type only with the "
                                         "same fields", type, module_name(first_declared[type]),
                                         fmt::join(known->second, ", "), name, fmt::join(list, ", ")));
            continue;
         }
         types->fields[type] = list;
         types->modules[type].insert(e.module_index);
         first_declared.emplace(type, e.module_index);
      }
   }
   scope.finish(modkit::Outcome{});
   out = std::move(types);
   return errors;
}

std::vector<std::string> ModuleHost::reload(const std::string &module) {
   std::lock_guard<std::mutex> reloading(reload_mutex_); // the loader allows one reload at a time
   if (std::find(names_.begin(), names_.end(), module) == names_.end()) return {"no module named '" + module + "'"};
   const auto start = std::chrono::steady_clock::now();
   std::vector<std::string> errors;
   try {
      loader_->reload_module(module.c_str());
   } catch (const modkit::LoadError &e) {
      for (const auto &item : e.errors()) errors.push_back(prefixed(item));
      if (errors.empty()) errors.push_back(e.what());
   }
   const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
   if (errors.empty()) {
      // The new instance may register differently: check the rules and its login types again.
      std::vector<std::string> warnings;
      errors = check_category_rules(warnings);
      std::shared_ptr<const LoginTypes> types;
      for (auto &e : build_login_types(types)) errors.push_back(std::move(e));
      std::lock_guard<std::mutex> lock(mutex_);
      warnings_ = std::move(warnings);
      if (errors.empty()) login_types_ = std::move(types);
      else errors.insert(errors.begin(), "module '" + module + "' was reloaded, but the host's rules refuse it:");
   }
   metrics_.count_reload(module, errors.empty(), took.count());
   return errors;
}

modkit_status ModuleHost::invalidate_cache(const std::string &module, const std::string &cache, const json *key) {
   std::string text;
   modkit_str key_view{nullptr, 0};
   if (key) {
      text = key->dump();
      key_view = view(text);
   }
   const modkit_status s =
      modkit_loader_invalidate_cache(loader_->get(), module.c_str(), cache.c_str(), key ? &key_view : nullptr);
   if (s == MODKIT_OK) metrics_.count_invalidation(module, cache);
   return s;
}

void ModuleHost::record_cache_thunk(void *context, const char *module, const char *cache, bool hit) {
   if (!context || !module || !cache) return;
   try {
      static_cast<ModuleHost *>(context)->record_cache(module, cache, hit);
   } catch (...) {
      // A report that cannot be counted is dropped; it must not unwind into the module.
   }
}

void ModuleHost::record_cache(const char *module, const char *cache, bool hit) {
   // Only caches the module really registered are counted, so labels stay bounded.
   modkit::ReadGuard guard(reader());
   const modkit_loader_snapshot &snap = guard.snapshot();
   for (size_t i = 0; i < snap.cache_count; ++i) {
      if (module_name(snap.caches[i].module_index) == module && std::string(snap.caches[i].name) == cache) {
         metrics_.count_cache(module, cache, hit);
         return;
      }
   }
}

json ModuleHost::describe() const {
   Buffer buffer;
   modkit_loader_describe_json(loader_->get(), buffer.get());
   json d = json::parse(buffer.text(), nullptr, false);
   json modules = json::array();
   if (d.is_object() && d.contains("modules")) {
      for (auto m : d["modules"]) {
         json caches = json::array();
         for (const auto &c : m.value("cached_functions", json::array())) {
            const auto counts = metrics_.cache(m.value("name", ""), c.get<std::string>());
            caches.push_back({{"name", c}, {"hits", counts.hits}, {"misses", counts.misses},
                              {"invalidations", counts.invalidations}});
         }
         m["cached_functions"] = caches;
         modules.push_back(m);
      }
   }
   return {{"modules", modules}, {"warnings", warnings()}};
}

bool ModuleHost::serve_web(CallContext &ctx, const std::string &method, const std::string &path,
                           const std::string &query, const json &headers, const std::string &body,
                           const std::optional<std::string> &user_id, WebResponse &response) {
   modkit::ReadGuard guard(reader());
   const modkit_loader_snapshot &snap = guard.snapshot();
   // The longest registered path that is the request path or one of its parents.
   const modkit_loader_web_resource *best = nullptr;
   size_t best_len = 0;
   for (size_t i = 0; i < snap.web_resource_count; ++i) {
      const std::string p = snap.web_resources[i].path;
      const bool match = path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/');
      if (match && p.size() >= best_len) {
         best = &snap.web_resources[i];
         best_len = p.size();
      }
   }
   if (!best) return false;
   const std::string module = module_name(best->module_index);
   const std::string callback = std::string("web_resource ") + best->path;
   const std::string header_text = headers.dump();
   modkit_http_request request{};
   request.struct_size = sizeof request;
   request.method = view(method);
   request.path = view(path);
   request.query = view(query);
   request.headers_json = view(header_text);
   request.body = view(body);
   request.user_id = view(user_id);
   std::unique_ptr<modkit_http_response, void (*)(modkit_http_response *)> r(modkit_loader_response_create(),
                                                                             modkit_loader_response_destroy);
   if (!r) throw std::bad_alloc();
   modkit_call call = modkit_call_make(view(ctx.request_id));
   // Counted by the loader, in this thread's counters: no lock on the way.
   const uint32_t metric = MODKIT_HAS_FIELD(&snap, modkit_loader_snapshot, web_resource_metrics)
                              ? snap.web_resource_metrics[best - snap.web_resources]
                              : 0;
   const uint64_t started = modkit_loader_metrics_begin(guard.reader());
   const modkit_status s = best->handler(best->user_data, &call, &request, r.get());
   modkit_loader_metrics_count(guard.reader(), metric, s, started);
   CallbackRun run{callback, {{module, s == MODKIT_OK ? "served" : std::string("error ") + modkit_status_name(s)}},
                   module, s == MODKIT_OK ? "served" : "error"};
   if (ctx.trace) ctx.trace->runs.push_back(run);
   if (s != MODKIT_OK) {
      log(MODKIT_LOG_WARNING, module, fmt::format("web resource {} failed with status {}", best->path, modkit_status_name(s)));
      response = {500, {{"content-type", "application/json"}},
                  R"({"errcode":"M_UNKNOWN","error":"Internal server error"})"};
      return true;
   }
   response.status = modkit_loader_response_status(r.get());
   response.headers.clear();
   for (size_t i = 0; i < modkit_loader_response_header_count(r.get()); ++i) {
      modkit_str n{}, v{};
      if (modkit_loader_response_header_at(r.get(), i, &n, &v))
         response.headers.emplace_back(std::string(n.data, n.size), std::string(v.data, v.size));
   }
   const modkit_str b = modkit_loader_response_body(r.get());
   response.body.assign(b.data ? b.data : "", b.size);
   return true;
}

} // namespace chat
