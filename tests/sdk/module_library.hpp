// Opens a module built with the SDK and drives its descriptor against a FakeHost, as a loader
// would, but without the loader.
#pragma once

#include "fake_host.hpp"

#include <modkit/modkit.h>

#include <dlfcn.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

class ModuleLibrary {
public:
   explicit ModuleLibrary(const std::string &path) : handle_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      if (!handle_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
      entry_ = reinterpret_cast<modkit_module_entry_fn>(dlsym(handle_, MODKIT_ENTRY_SYMBOL));
      if (!entry_) throw std::runtime_error(path + ": no " MODKIT_ENTRY_SYMBOL);
   }
   ~ModuleLibrary() { dlclose(handle_); }
   ModuleLibrary(const ModuleLibrary &) = delete;
   ModuleLibrary &operator=(const ModuleLibrary &) = delete;

   const modkit_module *descriptor(uint16_t major = MODKIT_ABI_VERSION_MAJOR,
                                   uint16_t minor = MODKIT_ABI_VERSION_MINOR) const {
      return entry_(major, minor);
   }

private:
   void *handle_;
   modkit_module_entry_fn entry_ = nullptr;
};

struct ParseResult {
   modkit_status status;
   std::string output;
   std::vector<ReportedError> errors;
};

inline ParseResult parse_config(const modkit_module *module, FakeHost &host, const std::string &config) {
   modkit_buffer out;
   modkit_error_sink sink;
   const modkit_status status =
      module->parse_config(host.api(), {config.data(), config.size()}, &out, &sink);
   return {status, out.data, sink.errors};
}

// A module instance created by init and destroyed by deinit, as the loader pairs them.
class ModuleInstance {
public:
   ModuleInstance(const modkit_module *module, FakeHost &host, const std::string &config)
      : module_(module) {
      modkit_error_sink sink;
      host.begin_init();
      status_ = module->init(host.api(), host.host(), {config.data(), config.size()}, &instance_, &sink);
      host.end_init(status_ == MODKIT_OK);
      errors_ = std::move(sink.errors);
   }
   ~ModuleInstance() { deinit(); }
   ModuleInstance(const ModuleInstance &) = delete;
   ModuleInstance &operator=(const ModuleInstance &) = delete;

   void deinit() {
      if (status_ == MODKIT_OK && module_->deinit && instance_) module_->deinit(instance_);
      instance_ = nullptr;
   }

   modkit_status status() const { return status_; }
   void *instance() const { return instance_; }
   const std::vector<ReportedError> &errors() const { return errors_; }

private:
   const modkit_module *module_;
   modkit_status status_;
   void *instance_ = nullptr;
   std::vector<ReportedError> errors_;
};
