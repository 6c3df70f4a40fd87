// lifecycle.cpp - unloading and reloading modules while others dispatch: publish a snapshot
// without them, wait for a grace period, then deinit and dlclose.
#include "loader.hpp"

#include "link.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace modkit::loader {

void Loader::publish() {
   std::vector<Registry::ModuleInfo> infos;
   infos.reserve(modules_.size());
   for (size_t i = 0; i < modules_.size(); ++i)
      infos.push_back({module_names_[i], modules_[i]->view});
   registry_.publish(infos);
}

void Loader::publish_and_wait() {
   publish();
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

long Loader::find_module(const char *name) const {
   for (size_t i = 0; name && i < modules_.size(); ++i) {
      if (modules_[i]->initialised && std::strcmp(modules_[i]->desc->name, name) == 0) return static_cast<long>(i);
   }
   return -1;
}

long Loader::find_for_change(const char *name, const char *function) {
   errors_.clear();
   const long found = find_module(name);
   if (found < 0) {
      fail(nullptr, Stage::unload, MODKIT_E_NOT_FOUND, "", fmt::format("no module '{}' is loaded", name ? name : ""));
      return -1;
   }
   if (epoch_.in_read_section()) {
      fail(nullptr, Stage::unload, MODKIT_E_STATE, "",
           fmt::format("{} called inside a read section would wait for itself", function));
      return -1;
   }
   return found;
}

modkit_status Loader::unload_module(const char *name) {
   const long found = find_for_change(name, "unload_module");
   if (found < 0) {
      publish_errors();
      return errors_.front().code;
   }
   ChangeScope changing(*this);
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
   const long found = find_for_change(name, "reload_module");
   if (found < 0) {
      publish_errors();
      return errors_.front().code;
   }
   ChangeScope changing(*this);
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
   publish();
   registry_.free_retired();
}

} // namespace modkit::loader
