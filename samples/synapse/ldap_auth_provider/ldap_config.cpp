// ldap_config.cpp - see ldap_config.hpp.
#include "ldap_config.hpp"

#include <modkit/sdk/error.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ldap_port {

using json = nlohmann::json;

namespace {

// _require_keys: every missing key in one message, as the original lists them.
void require_keys(const json &config, std::initializer_list<const char *> keys) {
   std::string missing;
   for (const char *key : keys)
      if (!config.contains(key)) missing += (missing.empty() ? "" : ", ") + std::string(key);
   if (!missing.empty()) throw modkit::ConfigError("LDAP enabled but missing required config values: " + missing);
}

std::string read_password_file(const std::string &path) {
   std::ifstream in(path);
   if (!in)
      throw modkit::ConfigError(std::string("[Errno ") + std::to_string(errno) + "] " + std::strerror(errno) + ": '" +
                                   path + "'",
                                "/bind_password_file");
   std::stringstream text;
   text << in.rdbuf();
   std::string password = text.str();
   while (!password.empty() && password.back() == '\n') password.pop_back(); // every trailing \n
   return password;
}

// ldap3.Tls's keyword arguments that libldap can honour.
TlsOptions tls_options(const json &options) {
   TlsOptions tls;
   for (const auto &[key, value] : options.items()) {
      const std::string where = "/tls_options/" + key;
      if (key == "validate") {
         // ssl.CERT_NONE is 0; CERT_OPTIONAL and CERT_REQUIRED both check a certificate sent.
         if (!value.is_boolean() && !value.is_number_integer())
            throw modkit::ConfigError("validate: expected a boolean or an ssl.CERT_* number", where);
         tls.validate = value.is_boolean() ? value.get<bool>() : value.get<int>() != 0;
      } else if (key == "ca_certs_file" || key == "local_certificate_file" || key == "local_private_key_file") {
         if (!value.is_string()) throw modkit::ConfigError(key + ": expected a file name", where);
         (key == "ca_certs_file"            ? tls.ca_certs_file
          : key == "local_certificate_file" ? tls.local_certificate_file
                                            : tls.local_private_key_file) = value.get<std::string>();
      } else {
         // Ignoring a TLS setting would weaken what the operator asked for.
         throw modkit::ConfigError("tls_options." + key +
                                      " is not supported (supported: validate, ca_certs_file, local_certificate_file, "
                                      "local_private_key_file; an encrypted key must be decrypted first)",
                                   where);
      }
   }
   return tls;
}

std::optional<std::string> optional_text(const json &j, const char *key) {
   return j.contains(key) && j[key].is_string() ? std::optional<std::string>(j[key].get<std::string>()) : std::nullopt;
}

} // namespace

json config_schema() {
   const json text = {{"type", "string"}};
   const json optional_text = {{"type", {"string", "null"}}};
   const json flag = {{"type", "boolean"}};
   return {{"type", "object"},
           {"additionalProperties", false},
           {"properties",
            {{"enabled", flag},
             {"mode", text},
             {"uri", {{"type", {"string", "array"}}, {"items", text}, {"minItems", 1}}},
             {"start_tls", flag},
             {"validate_cert", flag},
             {"tls_options", {{"type", {"object", "null"}}}},
             {"base", text},
             {"attributes", {{"type", "object"}, {"additionalProperties", text}}},
             {"bind_dn", text},
             {"bind_password", text},
             {"bind_password_file", text},
             {"filter", optional_text},
             {"active_directory", flag},
             {"default_domain", optional_text}}}};
}

Config parse(const json &config) {
   require_keys(config, {"uri", "base", "attributes"});
   Config c;
   c.enabled = config.value("enabled", false);
   c.search_mode = config.value("mode", std::string("simple")) == "search";
   if (config["uri"].is_string()) c.uris = {config["uri"].get<std::string>()};
   else c.uris = config["uri"].get<std::vector<std::string>>();
   c.start_tls = config.value("start_tls", false);
   if (config.contains("tls_options") && config["tls_options"].is_object()) c.tls = tls_options(config["tls_options"]);
   else c.tls.validate = config.value("validate_cert", true);
   c.base = config["base"].get<std::string>();
   if (config.contains("bind_dn")) {
      c.search_mode = true;
      c.bind_dn = config["bind_dn"].get<std::string>();
      if (config.contains("bind_password")) c.bind_password = config["bind_password"].get<std::string>();
      else if (config.contains("bind_password_file"))
         c.bind_password = read_password_file(config["bind_password_file"].get<std::string>());
      else throw modkit::ConfigError("Either bind_password or bind_password_file must be set!");
   }
   if (c.search_mode) c.filter = optional_text(config, "filter");
   require_keys(config["attributes"], {"uid", "name", "mail"});
   c.attributes = {config["attributes"]["uid"], config["attributes"]["name"], config["attributes"]["mail"]};
   c.active_directory = config.value("active_directory", false);
   if (c.active_directory) c.default_domain = optional_text(config, "default_domain");
   if (config.contains("validate_cert") && config.contains("tls_options"))
      throw modkit::ConfigError("You cannot include both validate_cert and tls_options in the config");
   return c;
}

void to_json(json &j, const Config &c) {
   auto optional = [](const std::optional<std::string> &s) { return s ? json(*s) : json(); };
   j = {{"enabled", c.enabled},
        {"search_mode", c.search_mode},
        {"uris", c.uris},
        {"start_tls", c.start_tls},
        {"tls",
         {{"validate", c.tls.validate},
          {"ca_certs_file", optional(c.tls.ca_certs_file)},
          {"local_certificate_file", optional(c.tls.local_certificate_file)},
          {"local_private_key_file", optional(c.tls.local_private_key_file)}}},
        {"base", c.base},
        {"attributes", {{"uid", c.attributes.uid}, {"name", c.attributes.name}, {"mail", c.attributes.mail}}},
        {"bind_dn", optional(c.bind_dn)},
        {"bind_password", optional(c.bind_password)},
        {"filter", optional(c.filter)},
        {"active_directory", c.active_directory},
        {"default_domain", optional(c.default_domain)}};
}

void from_json(const json &j, Config &c) {
   c.enabled = j.at("enabled");
   c.search_mode = j.at("search_mode");
   c.uris = j.at("uris").get<std::vector<std::string>>();
   c.start_tls = j.at("start_tls");
   const json &tls = j.at("tls");
   c.tls.validate = tls.at("validate");
   c.tls.ca_certs_file = optional_text(tls, "ca_certs_file");
   c.tls.local_certificate_file = optional_text(tls, "local_certificate_file");
   c.tls.local_private_key_file = optional_text(tls, "local_private_key_file");
   c.base = j.at("base");
   c.attributes = {j["attributes"]["uid"], j["attributes"]["name"], j["attributes"]["mail"]};
   c.bind_dn = optional_text(j, "bind_dn");
   c.bind_password = optional_text(j, "bind_password");
   c.filter = optional_text(j, "filter");
   c.active_directory = j.at("active_directory");
   c.default_domain = optional_text(j, "default_domain");
}

} // namespace ldap_port
