// lifecycle.cpp - unloading and reloading modules while others dispatch: publish a snapshot
// without them, wait for a grace period, then deinit and dlclose.
#include "loader.hpp"

#include "link.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <iterator>

namespace modkit::loader {

void Loader::publish() {
   std::vector<Registry::ModuleInfo> infos;
   infos.reserve(modules_.size());
   for (size_t i = 0; i < modules_.size(); ++i)
      infos.push_back({module_names_[i], modules_[i]->view, &modules_[i]->pending, modules_[i].get()});
   registry_.publish(infos);
}

namespace {

bool holds_any(const Snapshot &snapshot, const std::vector<const Module *> &modules) {
   for (const void *instance : snapshot.instances) {
      if (std::find(modules.begin(), modules.end(), instance) != modules.end()) return true;
   }
   return false;
}

} // namespace

bool Loader::publish_and_wait(const std::vector<const Module *> &leaving) {
   publish();
   epoch_.synchronize();
   for (auto &snapshot : registry_.take_retired()) lingering_.push_back(std::move(snapshot));
   const bool drained = wait_for_pins(leaving);
   release_unpinned();
   return drained;
}

bool Loader::wait_for_pins(const std::vector<const Module *> &leaving) {
   // Suspended calls take milliseconds to seconds: poll, backing off to 2 ms, rather than make
   // every completion signal a writer that is rarely there.
   const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(pending_wait_ms_);
   auto pause = std::chrono::microseconds(20);
   for (;;) {
      bool pinned = false;
      for (const auto &snapshot : lingering_)
         pinned = pinned || (snapshot->pins.load(std::memory_order_acquire) != 0 && holds_any(*snapshot, leaving));
      if (!pinned) return true;
      if (std::chrono::steady_clock::now() >= give_up) break;
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(2));
   }
   std::string culprits;
   for (const auto &snapshot : lingering_) {
      if (snapshot->pins.load(std::memory_order_acquire) == 0 || !holds_any(*snapshot, leaving)) continue;
      for (size_t i = 0; i < snapshot->pending.size(); ++i) {
         const uint32_t n = snapshot->pending[i]->load(std::memory_order_relaxed);
         const std::string item = fmt::format("'{}' ({} call(s))", snapshot->module_names[i], n);
         if (n != 0 && culprits.find(item) == std::string::npos) culprits += (culprits.empty() ? "" : ", ") + item;
      }
   }
   logf(MODKIT_LOG_ERROR, nullptr,
        fmt::format("suspended calls did not complete within {} ms: module {} never completed them",
                    pending_wait_ms_, culprits.empty() ? "(unknown)" : culprits));
   return false;
}

bool Loader::lingering_hold(const Module &module) const {
   const std::vector<const Module *> one{&module};
   return std::any_of(lingering_.begin(), lingering_.end(),
                      [&](const std::unique_ptr<Snapshot> &s) { return holds_any(*s, one); });
}

void Loader::release_abandoned() {
   for (auto it = abandoned_.begin(); it != abandoned_.end();) {
      Module &module = **it;
      if (!services_.drain(*module.host, 0)) {
         ++it;
         continue;
      }
      logf(MODKIT_LOG_INFO, nullptr,
           fmt::format("module '{}': the work it started has ended; it is unloaded now", module.host->name));
      close(module);
      it = abandoned_.erase(it);
   }
}

void Loader::release_unpinned() {
   release_abandoned();
   lingering_.erase(std::remove_if(lingering_.begin(), lingering_.end(),
                                   [](const std::unique_ptr<Snapshot> &s) {
                                      return s->pins.load(std::memory_order_acquire) == 0;
                                   }),
                    lingering_.end());
   for (auto it = parked_.begin(); it != parked_.end();) {
      if (lingering_hold(*it->get())) {
         ++it;
         continue;
      }
      std::unique_ptr<Module> module = std::move(*it);
      it = parked_.erase(it);
      logf(MODKIT_LOG_INFO, nullptr,
           fmt::format("module '{}' completed its last suspended call; it is unloaded now", module->view.name));
      retire(std::move(module));
   }
}

void Loader::park(std::unique_ptr<Module> module) {
   logf(MODKIT_LOG_WARNING, nullptr,
        fmt::format("module '{}' stays loaded (not deinitialised, not closed) until its suspended calls complete",
                    module->view.name));
   parked_.push_back(std::move(module));
}

bool Loader::stop_services(Module &module) {
   if (!module.host) return true;
   const bool drained = services_.drain(*module.host, pending_wait_ms_);
   // options_ is zero past a shorter struct_size (copied so at creation): no hook then.
   if (options_.module_stopping)
      options_.module_stopping(options_.extension_user_data, module.host.get());
   return drained;
}

void Loader::retire(std::unique_ptr<Module> module) {
   if (!stop_services(*module)) {
      // A task or a timer still runs in it: neither deinit nor dlclose, and its host state
      // (which that run uses) is kept too.
      logf(MODKIT_LOG_ERROR, nullptr,
           fmt::format("module '{}' stays mapped: work it started through the services is still running",
                       module->host->name));
      abandoned_.push_back(std::move(module));
      return;
   }
   close(*module);
}

void Loader::close(Module &module) {
   if (module.initialised) {
      module.host->state = modkit_host::State::unloading;
      if (module.desc->deinit) module.desc->deinit(module.instance);
      module.initialised = false;
      module.instance = nullptr;
   }
   if (module.host) services_.detach(*module.host);
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
   const std::string unloaded = module->desc->name;
   if (!publish_and_wait({module.get()})) {
      fail(module.get(), Stage::unload, MODKIT_E_TIMEOUT, "",
           fmt::format("module '{}' no longer receives calls, but calls it suspended have not completed within {} "
                       "ms; it is deinitialised and closed once they do", unloaded, pending_wait_ms_));
      park(std::move(module));
      publish_errors();
      return MODKIT_E_TIMEOUT;
   }
   retire(std::move(module));
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
      unload(std::move(fresh));
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
   // The old instance's suspended calls complete in it; should they not, it stays loaded.
   if (publish_and_wait({fresh.get()})) retire(std::move(fresh));
   else park(std::move(fresh));
   logf(MODKIT_LOG_INFO, nullptr, fmt::format("reloaded module '{}'", modules_[index]->desc->name));
   publish_errors();
   return MODKIT_OK;
}

void Loader::unload(std::unique_ptr<Module> module) {
   // Only a module whose init failed comes here: it was never published, so nothing pins it.
   if (module->initialised) {
      registry_.revoke(static_cast<uint32_t>(module->host->module_index));
      publish_and_wait();
   }
   retire(std::move(module));
}

void Loader::unload_all() {
   std::vector<const Module *> leaving;
   for (auto &m : modules_) {
      if (m->initialised) registry_.revoke(static_cast<uint32_t>(m->host->module_index));
      leaving.push_back(m.get());
   }
   for (auto &m : parked_) leaving.push_back(m.get());
   if (!modules_.empty() || !parked_.empty()) publish_and_wait(leaving);
   // A module some snapshot still pins has calls that never completed: it is left loaded, and
   // that snapshot with it, rather than unmapped under them.
   for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) {
      if (lingering_hold(**it)) {
         logf(MODKIT_LOG_ERROR, nullptr,
              fmt::format("module '{}' is left loaded: calls it suspended never completed", (*it)->view.name));
         (void)it->release();
         continue;
      }
      retire(std::move(*it));
   }
   modules_.clear();
   module_names_.clear();
   for (auto &m : parked_) (void)m.release();
   parked_.clear();
   for (auto &s : lingering_) (void)s.release();
   lingering_.clear();
   publish();
   registry_.free_retired();
}

} // namespace modkit::loader
