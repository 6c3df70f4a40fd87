// rules.cpp - parsing and applying the rules of synapse-user-restrictions.
#include "rules.hpp"

namespace user_restrictions {

namespace {

const std::set<std::string> understood = {create_room, invite}; // sorted, as the original lists them

// What Python calls the type of a JSON value (the original names it in one message).
std::string python_type(const nlohmann::json &v) {
   switch (v.type()) {
   case nlohmann::json::value_t::null: return "NoneType";
   case nlohmann::json::value_t::boolean: return "bool";
   case nlohmann::json::value_t::number_integer:
   case nlohmann::json::value_t::number_unsigned: return "int";
   case nlohmann::json::value_t::number_float: return "float";
   case nlohmann::json::value_t::string: return "str";
   case nlohmann::json::value_t::array: return "list";
   default: return "dict";
   }
}

// Python's own words for the regex errors std::regex reports by code.
std::string regex_problem(const std::regex_error &e) {
   switch (e.code()) {
   case std::regex_constants::error_brack: return "unterminated character set";
   case std::regex_constants::error_paren: return "missing ), unterminated subpattern";
   case std::regex_constants::error_badrepeat: return "nothing to repeat";
   case std::regex_constants::error_escape: return "bad escape";
   case std::regex_constants::error_range: return "bad character range";
   case std::regex_constants::error_brace:
   case std::regex_constants::error_badbrace: return "bad repeat interval";
   case std::regex_constants::error_ctype:
   case std::regex_constants::error_collate: return "bad character class";
   default: return e.what();
   }
}

[[noreturn]] void refuse(const std::string &message, const std::string &pointer) {
   throw ConfigProblem("Failed to parse user restrictions module config: " + message, pointer);
}

// Python's repr of a string: single quotes unless the text holds one.
std::string repr(const std::string &s) {
   return s.find('\'') == std::string::npos ? "'" + s + "'" : "\"" + s + "\"";
}

std::set<std::string> permissions(const nlohmann::json &list, const std::string &pointer, const std::string &not_list,
                                  const std::string &not_strings) {
   if (!list.is_array()) refuse(not_list, pointer);
   std::set<std::string> out;
   for (size_t i = 0; i < list.size(); ++i)
      if (!list[i].is_string()) refuse(not_strings, pointer + "/" + std::to_string(i));
   for (size_t i = 0; i < list.size(); ++i) {
      const std::string p = list[i];
      if (!understood.count(p))
         refuse(repr(p) + " is not a permission recognised by the User Restrictions module; try one of: create_room, invite",
                pointer + "/" + std::to_string(i));
      out.insert(p);
   }
   return out;
}

RegexMatchRule rule_from(const nlohmann::json &rule, const std::string &at) {
   if (!rule.contains("match")) refuse("Rules must have a 'match' field", at);
   RegexMatchRule r;
   const nlohmann::json &match = rule["match"];
   if (!match.is_string()) refuse("Regex patterns should be specified as strings.", at + "/match");
   r.pattern = match;
   try {
      r.match = std::regex(r.pattern, std::regex::ECMAScript);
   } catch (const std::regex_error &e) {
      refuse("Invalid regex '" + r.pattern + "': " + regex_problem(e), at + "/match");
   }
   if (rule.contains("allow"))
      r.allow = permissions(rule["allow"], at + "/allow", "Rule's 'allow' field must be a list.",
                            "Rule's 'allow' field must be a list of strings.");
   if (rule.contains("deny"))
      r.deny = permissions(rule["deny"], at + "/deny", "Rule's 'deny' field must be a list.",
                           "Rule's 'deny' field must be a list of strings.");
   return r;
}

} // namespace

RuleResult RegexMatchRule::apply(const std::string &user_id, const std::string &permission) const {
   if (!std::regex_match(user_id, match)) return RuleResult::no_decision; // the whole ID, as fullmatch
   if (allow.count(permission)) return RuleResult::allow;
   if (deny.count(permission)) return RuleResult::deny;
   return RuleResult::no_decision;
}

Config parse(const nlohmann::json &config) {
   Config out;
   if (!config.is_object() || !config.contains("rules"))
      refuse("'rules' list not specified in module configuration.", "");
   const nlohmann::json &rules = config["rules"];
   if (!rules.is_array()) refuse("'rules' should be a list.", "/rules");
   for (size_t i = 0; i < rules.size(); ++i) {
      const std::string at = "/rules/" + std::to_string(i);
      if (!rules[i].is_object())
         refuse("Rules should be dicts. Rule number " + std::to_string(i + 1) + " is not (found: " +
                   python_type(rules[i]) + ").",
                at);
      out.rules.push_back(rule_from(rules[i], at));
   }
   if (config.contains("default_deny") && !config["default_deny"].is_null())
      out.default_deny = permissions(config["default_deny"], "/default_deny",
                                     "'default_deny' should be a list (or unspecified).",
                                     "'default_deny' should be a list of strings.");
   return out;
}

nlohmann::json to_json(const Config &config) {
   nlohmann::json rules = nlohmann::json::array();
   for (const RegexMatchRule &r : config.rules)
      rules.push_back({{"match", r.pattern}, {"allow", r.allow}, {"deny", r.deny}});
   return {{"rules", rules}, {"default_deny", config.default_deny}};
}

bool allowed(const Config &config, const std::string &user_id, const std::string &permission) {
   for (const RegexMatchRule &rule : config.rules) {
      const RuleResult r = rule.apply(user_id, permission);
      if (r == RuleResult::allow) return true;
      if (r == RuleResult::deny) return false;
   }
   return !config.default_deny.count(permission);
}

} // namespace user_restrictions
