// ldap_config.hpp - matrix-synapse-ldap3's config: its keys, defaults and errors.
#pragma once

#include "ldap_client.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ldap_port {

struct Attributes {
   std::string uid, name, mail;
};

struct Config {
   bool enabled = false;
   bool search_mode = false; // mode: "search", or bind_dn given; else simple
   std::vector<std::string> uris;
   bool start_tls = false;
   TlsOptions tls;
   std::string base;
   Attributes attributes;
   std::optional<std::string> bind_dn, bind_password; // search mode's service account
   std::optional<std::string> filter;                  // search mode's extra filter
   bool active_directory = false;
   std::optional<std::string> default_domain;
};

// The JSON schema of the types; parse() checks what the original checks, with its messages.
nlohmann::json config_schema();
// The original's parse_config: throws modkit::ConfigError. Reads bind_password_file.
Config parse(const nlohmann::json &raw);

// The parsed config as init receives it, and back.
void to_json(nlohmann::json &j, const Config &c);
void from_json(const nlohmann::json &j, Config &c);

} // namespace ldap_port
