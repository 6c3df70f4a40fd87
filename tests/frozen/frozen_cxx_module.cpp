// frozen_cxx_module.cpp - a C++17 SDK module as a 1.0 module author wrote it, compiled against
// the 1.0 headers only (abi/baseline/1.0/include). Hides from the user directory every user
// whose display name contains its config's "word".
#include <modkit/sdk.hpp>

#include <string>

struct FrozenConfig {
   std::string word;
};

class FrozenCxx {
public:
   static FrozenConfig parse_config(const nlohmann::json &raw) {
      FrozenConfig config{raw.value("word", "")};
      if (config.word.empty()) throw modkit::ConfigError("expected a word", "/word");
      return config;
   }

   FrozenCxx(FrozenConfig config, modkit::Api &api) : config_(std::move(config)) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_username_for_spam = [this](const modkit::UserProfile &profile, std::string_view) {
         return profile.display_name().value_or("").find(config_.word) != std::string::npos;
      };
      api.register_spam_checker_callbacks(std::move(callbacks));
   }

private:
   FrozenConfig config_;
};

MODKIT_MODULE(FrozenCxx, "frozen_cxx", "1.0.0", "A 1.0 user directory filter in C++", "modkit.spam_checker")
