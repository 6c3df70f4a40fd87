#include "check_load.hpp"

#include "output.hpp"
#include "standard_categories.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace modkit::cli {
namespace {

const char *level_name(modkit_log_level level) {
   switch (level) {
   case MODKIT_LOG_DEBUG: return "debug";
   case MODKIT_LOG_INFO: return "info";
   case MODKIT_LOG_WARNING: return "warning";
   case MODKIT_LOG_ERROR: return "error";
   default: return "unknown";
   }
}

std::string text(const char *s) { return s != nullptr ? s : ""; }

nlohmann::json module_json(const modkit_loader_module &m) {
   const std::string config_text = text(m.config_json);
   nlohmann::json config = nlohmann::json::parse(config_text, nullptr, false);
   if (config.is_discarded()) config = config_text; // shown as the text the module produced
   return {{"name", text(m.name)},
           {"version", text(m.version)},
           {"description", text(m.description)},
           {"path", text(m.path)},
           {"config", std::move(config)}};
}

// Every slot with a registrant, by category; then web resources and cached functions.
nlohmann::json registrations(const modkit::Loader &loader) {
   nlohmann::json categories = nlohmann::json::array();
   for (const modkit_category *c : standard_category_descriptors()) {
      nlohmann::json slots = nlohmann::json::array();
      for (uint32_t i = 0;; ++i) {
         const modkit_loader_slot *slot = nullptr;
         if (modkit_loader_slot_at(loader.get(), c->id, i, &slot) != MODKIT_OK) break;
         if (slot->count == 0) continue;
         slots.push_back({{"name", text(slot->desc->name)}, {"index", i}, {"registrants", slot->count}});
      }
      if (slots.empty()) continue;
      categories.push_back({{"id", c->id},
                            {"version", std::to_string(c->major) + "." + std::to_string(c->minor)},
                            {"slots", std::move(slots)}});
   }
   nlohmann::json web = nlohmann::json::array();
   for (size_t i = 0; i < modkit_loader_web_resource_count(loader.get()); ++i)
      web.push_back({{"path", text(modkit_loader_web_resource_at(loader.get(), i)->path)}});
   nlohmann::json caches = nlohmann::json::array();
   for (size_t i = 0; i < modkit_loader_cache_count(loader.get()); ++i)
      caches.push_back({{"name", text(modkit_loader_cache_at(loader.get(), i)->name)}});
   return {{"categories", std::move(categories)}, {"web_resources", std::move(web)}, {"cached_functions", std::move(caches)}};
}

} // namespace

PreparedRun prepare_run(const ModuleRun &run, const std::string &host_abi) {
   if (!(run.timeout_seconds > 0 && run.timeout_seconds <= 3600))
      throw UsageError(fmt::format("--timeout must be more than 0 and at most 3600 seconds, not {:g}", run.timeout_seconds));
   PreparedRun out;
   out.limits = {run.timeout_seconds, run.memory_mib};
   if (!run.config_file.empty()) out.config = parse_json_file(run.config_file, "config file");
   HostJudgement host;
   host.abi = host_abi;
   host.categories.emplace();
   for (const modkit_category *c : standard_category_descriptors()) host.categories->push_back(c->id);
   out.file = read_module_file(run.file, host);
   if (out.file.error != ModuleFile::Error::none) out.reasons.push_back(run.file + ": " + out.file.error_message);
   for (const auto &f : out.file.report["findings"])
      out.reasons.push_back(f["check"].get<std::string>() + ": " + f["message"].get<std::string>());
   // The loader takes absolute paths without "." or ".." only.
   out.path = std::filesystem::absolute(run.file).lexically_normal().string();
   return out;
}

nlohmann::json host_config(const std::string &module_path, const std::optional<nlohmann::json> &config) {
   nlohmann::json entry{{"module", module_path}};
   if (config) entry["config"] = *config;
   return {{"modules", nlohmann::json::array({std::move(entry)})}};
}

void load_and_unload(Reporter &reporter, const std::string &module_path, const std::optional<nlohmann::json> &config,
                     const std::function<void(modkit::Loader &)> &while_loaded, uint32_t pending_wait_ms) {
   modkit::Loader::Options options;
   options.categories = standard_category_descriptors();
   options.pending_wait_ms = pending_wait_ms;
   options.log = [&reporter](modkit_log_level level, const char *module, std::string_view message) {
      reporter.send({{"event", "log"},
                     {"level", level_name(level)},
                     {"module", module != nullptr ? nlohmann::json(module) : nlohmann::json(nullptr)},
                     {"message", std::string(message)}});
   };
   reporter.send({{"event", "phase"}, {"phase", "load"}});
   {
      modkit::Loader loader(std::move(options));
      try {
         loader.load(host_config(module_path, config).dump());
      } catch (const modkit::LoadError &e) {
         nlohmann::json errors = nlohmann::json::array();
         for (const modkit::LoadErrorItem &item : e.errors()) {
            errors.push_back({{"code", item.code},
                              {"status", modkit_status_name(item.code)},
                              {"stage", item.stage},
                              {"module", item.module},
                              {"file", item.file},
                              {"pointer", item.pointer},
                              {"message", item.message},
                              {"text", item.text}});
         }
         reporter.send({{"event", "load_failed"}, {"status", modkit_status_name(e.code())}, {"errors", std::move(errors)}});
         return;
      }
      reporter.send({{"event", "loaded"}, {"module", module_json(loader.module(0))}, {"registrations", registrations(loader)}});
      if (while_loaded) while_loaded(loader);
      reporter.send({{"event", "phase"}, {"phase", "unload"}});
   } // ~Loader: deinit, then dlclose
   reporter.send({{"event", "unloaded"}});
}

} // namespace modkit::cli
