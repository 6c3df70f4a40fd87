#include "schema.hpp"

#include "config.hpp"
#include "errors.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <set>

namespace modkit::loader {

namespace {

// valijson names a path as {"<root>", "[key]", "[0]", ...}; turn it into a JSON pointer.
std::vector<std::string> context_tokens(const std::vector<std::string> &context) {
   std::vector<std::string> tokens;
   for (const auto &c : context) {
      if (c == "<root>") continue;
      if (c.size() >= 2 && c.front() == '[' && c.back() == ']') tokens.push_back(c.substr(1, c.size() - 2));
      else tokens.push_back(c);
   }
   return tokens;
}

std::string to_pointer(const std::vector<std::string> &tokens) {
   std::string p;
   for (const auto &t : tokens) p += "/" + pointer_token(t);
   return p;
}

// The subschema that governs the value at tokens, following properties/items; null if unknown.
const nlohmann::json *subschema(const nlohmann::json &schema, const std::vector<std::string> &tokens) {
   const nlohmann::json *node = &schema;
   for (const auto &t : tokens) {
      if (!node->is_object()) return nullptr;
      if (auto p = node->find("properties"); p != node->end() && p->is_object() && p->contains(t)) {
         node = &(*p)[t];
      } else if (auto i = node->find("items"); i != node->end() && i->is_object()) {
         node = &*i;
      } else if (auto a = node->find("additionalProperties"); a != node->end() && a->is_object()) {
         node = &*a;
      } else {
         return nullptr;
      }
   }
   return node;
}

const nlohmann::json *value_at(const nlohmann::json &config, const std::vector<std::string> &tokens) {
   const nlohmann::json *node = &config;
   for (const auto &t : tokens) {
      if (node->is_object() && node->contains(t)) node = &(*node)[t];
      else if (node->is_array() && !t.empty() && t.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(t) < node->size())
         node = &(*node)[std::stoul(t)];
      else return nullptr;
   }
   return node;
}

// "integer >= 1", "one of [\"a\",\"b\"]", "string of at least 3 characters"...
std::string describe(const nlohmann::json &s) {
   std::string out;
   if (auto t = s.find("type"); t != s.end()) out = t->is_string() ? t->get<std::string>() : t->dump();
   if (auto e = s.find("enum"); e != s.end()) out += (out.empty() ? "" : " ") + std::string("one of ") + e->dump();
   if (auto c = s.find("const"); c != s.end()) out += (out.empty() ? "" : " ") + std::string("equal to ") + c->dump();
   if (auto m = s.find("minimum"); m != s.end()) out += " >= " + m->dump();
   if (auto m = s.find("exclusiveMinimum"); m != s.end()) out += " > " + m->dump();
   if (auto m = s.find("maximum"); m != s.end()) out += " <= " + m->dump();
   if (auto m = s.find("exclusiveMaximum"); m != s.end()) out += " < " + m->dump();
   if (auto m = s.find("minLength"); m != s.end()) out += " of at least " + m->dump() + " characters";
   if (auto m = s.find("maxLength"); m != s.end()) out += " of at most " + m->dump() + " characters";
   if (auto m = s.find("pattern"); m != s.end()) out += " matching " + m->dump();
   if (auto m = s.find("minItems"); m != s.end()) out += " with at least " + m->dump() + " items";
   if (auto m = s.find("maxItems"); m != s.end()) out += " with at most " + m->dump() + " items";
   return out;
}

} // namespace

bool validate_against_schema(const char *schema_text, const nlohmann::json &config,
                             std::vector<SchemaViolation> &violations, std::string &schema_error) {
   nlohmann::json schema_json;
   valijson::Schema schema;
   try {
      schema_json = nlohmann::json::parse(schema_text);
      valijson::SchemaParser parser;
      valijson::adapters::NlohmannJsonAdapter adapter(schema_json);
      parser.populateSchema(adapter, schema);
   } catch (const std::exception &e) {
      schema_error = std::string("the module's config_schema is not a usable JSON Schema: ") + e.what();
      return false;
   }

   valijson::Validator validator;
   valijson::ValidationResults results;
   valijson::adapters::NlohmannJsonAdapter target(config);
   if (validator.validate(schema, target, &results)) return true;

   // valijson reports a failure at every level from the root down; keep the deepest ones, so
   // each message points at the value that is actually wrong.
   std::vector<std::pair<std::vector<std::string>, std::string>> raw;
   for (const auto &e : results) raw.emplace_back(context_tokens(e.context), e.description);
   std::set<std::string> seen;
   for (const auto &[tokens, description] : raw) {
      const std::string pointer = to_pointer(tokens);
      bool has_deeper = false;
      for (const auto &other : raw) {
         const std::string op = to_pointer(other.first);
         if (op.size() > pointer.size() && op.compare(0, pointer.size() + 1, pointer + "/") == 0) has_deeper = true;
      }
      if (has_deeper || !seen.insert(pointer).second) continue;

      const nlohmann::json *sub = subschema(schema_json, tokens);
      const nlohmann::json *value = value_at(config, tokens);
      // A missing required property is reported at its parent; point at the property itself.
      if (sub && value && value->is_object()) {
         if (auto req = sub->find("required"); req != sub->end() && req->is_array()) {
            bool reported = false;
            for (const auto &name : *req) {
               if (!name.is_string() || value->contains(name.get<std::string>())) continue;
               auto prop_tokens = tokens;
               prop_tokens.push_back(name.get<std::string>());
               const nlohmann::json *prop = subschema(schema_json, prop_tokens);
               const std::string want = prop ? describe(*prop) : "";
               violations.push_back({to_pointer(prop_tokens),
                                     "missing; expected " + (want.empty() ? std::string("a value") : want)});
               reported = true;
            }
            if (reported) continue;
         }
      }
      std::string message;
      const std::string want = sub ? describe(*sub) : "";
      if (!want.empty()) message = "expected " + want;
      else message = description;
      if (value) message += ", got " + json_type_name(*value) + " " + json_excerpt(*value);
      if (!want.empty() && description.find("additional") != std::string::npos) message = description;
      violations.push_back({pointer, message});
   }
   if (violations.empty()) violations.push_back({"", "config does not match the module's schema"});
   return true;
}

} // namespace modkit::loader
