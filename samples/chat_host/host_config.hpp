// host_config.hpp - the chat host's config file. The loader's part lives under "modkit" and is
// handed to the loader as it is, so the loader's JSON pointers (/modules/1/config/...) are
// relative to that object; the host prefixes them with /modkit when it reports them.
//
//   {"server_name": "example.org", "listen": "127.0.0.1:8008", "admins": ["@admin:example.org"],
//    "admin_registration_token": "...", "admin_listen": "127.0.0.1:9008", "limits": {...},
//    "modkit": {"module_path": ["modules"], "modules": [{"module": "spam_filter", "config": {}}]}}
#pragma once

#include "limits.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat {

struct RateLimitConfig {
   double per_second = 0;
   int64_t burst_count = 0;
};

// Where send_mail goes (homeserver.h): "email": {"smtp_url": "smtp://127.0.0.1:2525",
// "from": "Chat <noreply@example.org>", "timeout_ms": 10000, "app_name": "Matrix"}. smtp_url
// empty: no mail.
struct MailConfig {
   std::string smtp_url;   // smtp:// or smtps://, host and port
   std::string from;       // the From header; its address (inside <> if any) is the envelope sender
   uint64_t timeout_ms = 10000;
   std::string app_name = "Matrix"; // Synapse's email.app_name: how mails name the service
};

struct HostConfig {
   std::string server_name = "example.org";
   std::string listen = "127.0.0.1:8008";
   // User IDs reserved for the operator: registering one needs admin_registration_token (the
   // m.login.registration_token stage), and only that registration makes an admin.
   std::set<std::string> admins;
   std::string admin_registration_token; // empty: reserved names cannot be registered
   // When set, /metrics and the admin API are served only here (a loopback address), /metrics
   // without a token; when empty, both need a server admin's token on the client listener.
   std::string admin_listen;
   Limits limits;
   // How long one dispatch of a callback waits for modules that suspended (MODKIT_PENDING)
   // before the slot's exception policy is applied to the one it waits for (MODKIT_E_TIMEOUT).
   uint64_t module_call_timeout_ms = 10000;
   nlohmann::json modkit = {{"modules", nlohmann::json::array()}};
   std::string base_dir;                 // the config file's directory (relative module_path)
   bool enable_registration = true;
   bool user_directory_search_all_users = false;
   uint64_t max_upload_size = 50ull * 1024 * 1024;
   std::vector<std::pair<uint64_t, int64_t>> media_upload_limits; // (max_bytes, time_period_ms)
   RateLimitConfig rc_invites_per_room{0.3, 10};
   RateLimitConfig rc_invites_per_user{0.003, 5};
   RateLimitConfig rc_invites_per_issuer{0.3, 10};
   MailConfig email;
   // The URL clients reach this server at, ending in '/' (Synapse's public_baseurl): links in
   // mails are made from it. Empty: unknown.
   std::string public_baseurl;
};

// Every problem found in a config, each with its JSON pointer.
class ConfigError : public std::runtime_error {
public:
   explicit ConfigError(std::vector<std::string> errors);
   const std::vector<std::string> &errors() const { return errors_; }

private:
   std::vector<std::string> errors_;
};

HostConfig parse_host_config(const nlohmann::json &config, const std::string &base_dir);
HostConfig load_host_config(const std::string &path);

// "127.0.0.1:8008" -> host and port; false when malformed.
bool split_listen(const std::string &listen, std::string &host, int &port);

} // namespace chat
