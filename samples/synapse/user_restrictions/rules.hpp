// rules.hpp - the rules of synapse-user-restrictions: their config, as the original parses and
// checks it (same keys, same messages), and their application. No SDK here: plain C++ and JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace user_restrictions {

inline const char invite[] = "invite";
inline const char create_room[] = "create_room";

// A config the original would refuse: its message, and where in the config (a JSON pointer).
class ConfigProblem : public std::runtime_error {
public:
   ConfigProblem(const std::string &message, std::string pointer)
      : std::runtime_error(message), pointer_(std::move(pointer)) {}
   const std::string &pointer() const { return pointer_; }

private:
   std::string pointer_;
};

enum class RuleResult { no_decision, allow, deny };

// One rule: a regular expression that must match the whole user ID, and what it allows and
// denies. Python's re and ECMAScript (std::regex) agree on the patterns such rules use
// (classes, repetition, alternation, anchors); Python-only syntax such as (?P<name>...) is
// refused as an invalid regex.
struct RegexMatchRule {
   std::string pattern;
   std::regex match;
   std::set<std::string> allow, deny;

   RuleResult apply(const std::string &user_id, const std::string &permission) const;
};

struct Config {
   std::vector<RegexMatchRule> rules;    // earlier rules win
   std::set<std::string> default_deny;   // when no rule decides; everything else is allowed
};

// The module's config, checked as the original checks it. Throws ConfigProblem with the
// original's message ("'rules' should be a list.") and the pointer of the offending value.
Config parse(const nlohmann::json &config);
// The config back as JSON, in the shape parse reads.
nlohmann::json to_json(const Config &config);

// True when user_id may use permission: the first rule deciding wins, then default_deny.
bool allowed(const Config &config, const std::string &user_id, const std::string &permission);

} // namespace user_restrictions
