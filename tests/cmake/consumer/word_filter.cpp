// A module written out of tree against the installed SDK.
#include <modkit/sdk.hpp>

#include <string>
#include <vector>

class WordFilter {
public:
   static std::vector<std::string> parse_config(const nlohmann::json &raw) {
      auto words = raw.at("words").get<std::vector<std::string>>();
      for (std::size_t i = 0; i < words.size(); ++i)
         if (words[i].empty()) throw modkit::ConfigError("empty word", "/words/" + std::to_string(i));
      return words;
   }

   WordFilter(std::vector<std::string> words, modkit::Api &api) : words_(std::move(words)) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_event_for_spam = {this, &WordFilter::check};
      api.register_spam_checker_callbacks(std::move(callbacks));
   }

private:
   modkit::SpamResult check(const modkit::Event &event) const {
      const std::string body = event.content().value("body", "");
      for (const auto &word : words_)
         if (body.find(word) != std::string::npos) return modkit::SpamResult::forbidden;
      return modkit::SpamResult::not_spam;
   }

   std::vector<std::string> words_;
};

MODKIT_MODULE(WordFilter, "word_filter", "0.1.0", "Built out of tree", "modkit.spam_checker")
