// init.cpp - the init stage: the module's init stages its registrations, which go live only
// when it succeeds.
#include "loader.hpp"

#include "link.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>

namespace modkit::loader {

bool Loader::initialise(Module &module) {
   modkit_host &host = *module.host;
   modkit_error_sink sink;
   host.state = modkit_host::State::initialising;
   services_.open(host);
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
      // What init started through the services stops now, not when the file is closed: the
      // module may free what its timers and tasks use as soon as its init fails.
      const bool drained = stop_services(module);
      if (status == MODKIT_OK && module.desc->deinit && drained) module.desc->deinit(module.instance);
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

void Loader::go_live(Module &module) {
   module.host->caches = module.host->staged.caches;
   registry_.commit(*module.host);
   module_names_[module.host->module_index] = module.desc->name;
   module.view = {sizeof(modkit_loader_module), module.desc->name, module.desc->version, module.description.c_str(),
                  module.path.c_str(), module.config_json.c_str(), module.spec.position};
}

} // namespace modkit::loader
