// port.hpp - a ported module created as its original's tests create it (parse_config, then the
// module with a mocked ModuleApi): the module's descriptor driven with the SDK suite's FakeHost.
// A refused config is the original's ConfigError.
#pragma once

#include "fake_host.hpp"
#include "module_library.hpp"

#include <modkit/categories/spam_checker.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace port {

// The original's synapse.module_api.errors.ConfigError, with the module's message.
struct ConfigError : std::runtime_error {
   using std::runtime_error::runtime_error;
};

// The config as the module's parse_config leaves it (what its init receives).
inline nlohmann::json parse(const char *module_path, const nlohmann::json &config) {
   ModuleLibrary library(module_path);
   FakeHost host;
   const ParseResult parsed = ::parse_config(library.descriptor(), host, config.dump());
   if (parsed.status != MODKIT_OK) throw ConfigError(parsed.errors.empty() ? "" : parsed.errors[0].message);
   return nlohmann::json::parse(parsed.output);
}

// The module, initialised; its registrations are the FakeHost's.
class Port {
public:
   // prepare sets up the host (categories, extensions, the module's name) before the module
   // sees it.
   Port(const char *module_path, const nlohmann::json &config, const std::function<void(FakeHost &)> &prepare = {})
      : library_(module_path) {
      if (prepare) prepare(host_);
      const modkit_module *module = library_.descriptor();
      const ParseResult parsed = ::parse_config(module, host_, config.dump());
      if (parsed.status != MODKIT_OK) throw ConfigError(parsed.errors.empty() ? "" : parsed.errors[0].message);
      instance_ = std::make_unique<ModuleInstance>(module, host_, parsed.output);
      REQUIRE(instance_->status() == MODKIT_OK);
   }

   FakeHost &host() { return host_; }
   // What the module registered for category, or null.
   const Registration *registration(const std::string &category) const { return host_.find_registration(category); }

private:
   ModuleLibrary library_;
   FakeHost host_;
   std::unique_ptr<ModuleInstance> instance_;
};

// A spam checker's port, with its callbacks.
class SpamPort : public Port {
public:
   SpamPort(const char *module_path, const nlohmann::json &config, const std::function<void(FakeHost &)> &prepare = {})
      : Port(module_path, config, prepare) {
      const Registration *r = registration(MODKIT_SPAM_CHECKER_ID);
      REQUIRE(r != nullptr);
      callbacks_ = r->as<modkit_spam_checker_callbacks>();
      user_data_ = r->user_data;
   }

   const modkit_spam_checker_callbacks &callbacks() const { return callbacks_; }
   void *user_data() const { return user_data_; }

   // The original's callbacks answer True (allowed) or False (M_FORBIDDEN).
   static bool allowed(modkit_spam_result result) {
      REQUIRE((result == MODKIT_NOT_SPAM || result == MODKIT_SPAM_FORBIDDEN));
      return result == MODKIT_NOT_SPAM;
   }

private:
   modkit_spam_checker_callbacks callbacks_{};
   void *user_data_ = nullptr;
};

} // namespace port
