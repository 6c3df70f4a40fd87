// A test module that throws a chosen exception in a chosen place, so every exception type can
// be sent through every trampoline and a callback thunk. Config, each key optional:
//   {"parse": KIND, "init": KIND, "deinit": KIND, "callback": KIND}
// KIND: "none", "config_error", "error", "error_ok", "bad_alloc", "std", "unknown", "json".
#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/module.hpp>

#include <new>
#include <stdexcept>
#include <string>

namespace {

struct Config {
   std::string parse, init, deinit, callback;
};

void throw_kind(const std::string &kind, const std::string &where) {
   if (kind == "config_error") throw modkit::ConfigError(where + " refused", "/limits/0");
   if (kind == "error") throw modkit::Error(MODKIT_E_DENIED, where + " denied");
   if (kind == "error_ok") throw modkit::Error(MODKIT_OK, where + " threw with MODKIT_OK");
   if (kind == "bad_alloc") throw std::bad_alloc();
   if (kind == "std") throw std::runtime_error(where + " broke");
   if (kind == "unknown") throw 42;
   if (kind == "json") (void)nlohmann::json("text").get<int>();
}

} // namespace

class Thrower {
public:
   // Config has no to_json, so the raw config reaches init, which parses it again.
   static Config parse_config(const nlohmann::json &raw) {
      Config config{raw.value("parse", "none"), raw.value("init", "none"), raw.value("deinit", "none"),
                    raw.value("callback", "none")};
      throw_kind(config.parse, "parse_config");
      return config;
   }

   Thrower(Config config, modkit::Api &api) : config_(std::move(config)) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_event_for_spam = [this](const modkit::Event &) {
         throw_kind(config_.callback, "check_event_for_spam");
         return modkit::SpamResult::limit_exceeded;
      };
      api.register_spam_checker_callbacks(std::move(callbacks));
      // After registering, so a failed init has something to discard.
      throw_kind(config_.init, "init");
   }

   ~Thrower() noexcept(false) { throw_kind(config_.deinit, "deinit"); }

private:
   Config config_;
};

MODKIT_MODULE(Thrower, "thrower", "0.1.0", "Throws where its config says", "modkit.spam_checker")
