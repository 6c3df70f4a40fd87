// host_config.cpp - reading and checking the chat host's config.
#include "host_config.hpp"

#include "state.hpp"

#include <fstream>
#include <functional>
#include <sstream>

namespace chat {

namespace {

std::string join_lines(const std::vector<std::string> &lines) {
   std::string out;
   for (const auto &l : lines) out += (out.empty() ? "" : "\n") + l;
   return out;
}

const std::set<std::string> known_keys = {"server_name",
                                          "listen",
                                          "admins",
                                          "modkit",
                                          "enable_registration",
                                          "user_directory_search_all_users",
                                          "max_upload_size",
                                          "media_upload_limits",
                                          "rc_invites",
                                          "admin_registration_token",
                                          "admin_listen",
                                          "limits",
                                          "module_call_timeout_ms",
                                          "email",
                                          "public_baseurl"};

// An integer >= 0 (JSON text gives unsigned numbers; JSON built in code may give signed ones).
bool natural(const nlohmann::json &v) { return v.is_number_integer() && v.get<int64_t>() >= 0; }

bool loopback(const std::string &host) { return host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost"; }

// "email": {"smtp_url": "smtp://HOST:PORT" or "smtps://...", "from": "...", "timeout_ms": n}.
void parse_email(const nlohmann::json &config, MailConfig &out,
                 const std::function<void(const std::string &, const std::string &)> &fail) {
   if (!config.is_object())
      return fail("/email", "expected {\"smtp_url\": \"smtp://127.0.0.1:25\", \"from\": \"noreply@example.org\"}");
   for (const auto &[key, value] : config.items())
      if (key != "smtp_url" && key != "from" && key != "timeout_ms" && key != "app_name")
         fail("/email/" + key, "unknown setting");
   const auto url = config.value("smtp_url", nlohmann::json());
   if (!url.is_string() || (url.get<std::string>().rfind("smtp://", 0) != 0 && url.get<std::string>().rfind("smtps://", 0) != 0))
      fail("/email/smtp_url", "expected an smtp:// or smtps:// URL, got " + url.dump());
   else out.smtp_url = url.get<std::string>();
   const auto from = config.value("from", nlohmann::json());
   if (!from.is_string() || from.get<std::string>().find('@') == std::string::npos ||
       from.get<std::string>().find_first_of("\r\n") != std::string::npos)
      fail("/email/from", "expected a mail address on one line, such as \"Chat <noreply@example.org>\", got " + from.dump());
   else out.from = from.get<std::string>();
   if (config.contains("app_name")) {
      const auto &name = config["app_name"];
      if (!name.is_string() || name.get<std::string>().empty() || name.get<std::string>().find_first_of("\r\n") != std::string::npos)
         fail("/email/app_name", "expected a name on one line, such as \"Matrix\", got " + name.dump());
      else out.app_name = name.get<std::string>();
   }
   if (config.contains("timeout_ms")) {
      const auto &t = config["timeout_ms"];
      if (natural(t) && t.get<uint64_t>() > 0 && t.get<uint64_t>() <= 600000) out.timeout_ms = t.get<uint64_t>();
      else fail("/email/timeout_ms", "expected a positive integer of milliseconds, at most 600000, got " + t.dump());
   }
}

// "limits": {name: positive integer}; every name is a field of Limits.
void parse_limits(const nlohmann::json &config, Limits &out, const std::function<void(const std::string &, const std::string &)> &fail) {
   const std::pair<const char *, uint64_t *> wide[] = {
      {"max_body_size", &out.max_body_size}, {"max_json_size", &out.max_json_size},
      {"request_timeout_ms", &out.request_timeout_ms}, {"idle_timeout_ms", &out.idle_timeout_ms},
      {"write_timeout_ms", &out.write_timeout_ms}};
   const std::pair<const char *, size_t *> sizes[] = {
      {"max_request_line", &out.max_request_line}, {"max_header_bytes", &out.max_header_bytes},
      {"max_header_count", &out.max_header_count}, {"max_connections", &out.max_connections},
      {"worker_threads", &out.worker_threads}, {"max_json_depth", &out.max_json_depth},
      {"max_event_size", &out.max_event_size}, {"max_identifier_length", &out.max_identifier_length}};
   if (!config.is_object()) return fail("/limits", "expected an object of limits, e.g. {\"max_body_size\": 1048576}");
   for (const auto &[key, value] : config.items()) {
      uint64_t *into = nullptr;
      size_t *into_size = nullptr;
      for (const auto &[name, field] : wide)
         if (key == name) into = field;
      for (const auto &[name, field] : sizes)
         if (key == name) into_size = field;
      if (!into && !into_size) {
         fail("/limits/" + key, "unknown limit");
         continue;
      }
      // Bounded above so no arithmetic on a limit can overflow; 2^40 is far above any sane value.
      if (!natural(value) || value.get<uint64_t>() == 0 || value.get<uint64_t>() > (1ull << 40)) {
         fail("/limits/" + key, "expected a positive integer, got " + value.dump());
         continue;
      }
      if (into) *into = value.get<uint64_t>();
      else *into_size = static_cast<size_t>(value.get<uint64_t>());
   }
   // The JSON writer recurses once per level: past a few hundred the stack is at risk.
   if (out.max_json_depth > 512) fail("/limits/max_json_depth", "at most 512");
   if (out.worker_threads > 256) fail("/limits/worker_threads", "at most 256");
   if (out.max_identifier_length > 255) fail("/limits/max_identifier_length", "at most 255 (the Matrix spec's limit)");
}


} // namespace

ConfigError::ConfigError(std::vector<std::string> errors)
   : std::runtime_error(join_lines(errors)), errors_(std::move(errors)) {}

bool split_listen(const std::string &listen, std::string &host, int &port) {
   const auto colon = listen.rfind(':');
   if (colon == std::string::npos || colon == 0) return false;
   host = listen.substr(0, colon);
   const std::string digits = listen.substr(colon + 1);
   if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
   port = std::stoi(digits);
   return port <= 65535;
}

HostConfig parse_host_config(const nlohmann::json &config, const std::string &base_dir) {
   using nlohmann::json;
   HostConfig out;
   out.base_dir = base_dir;
   std::vector<std::string> errors;
   auto fail = [&](const std::string &pointer, const std::string &what) { errors.push_back(pointer + ": " + what); };
   if (!config.is_object()) throw ConfigError({"/: expected a JSON object, got " + std::string(config.type_name())});
   for (const auto &[key, value] : config.items())
      if (!known_keys.count(key)) fail("/" + key, "unknown setting");

   auto text = [&](const char *key, std::string &into) {
      if (!config.contains(key)) return;
      if (config[key].is_string() && !config[key].get<std::string>().empty()) into = config[key].get<std::string>();
      else fail(std::string("/") + key, "expected a non-empty string, got " + config[key].dump());
   };
   auto flag = [&](const char *key, bool &into) {
      if (!config.contains(key)) return;
      if (config[key].is_boolean()) into = config[key].get<bool>();
      else fail(std::string("/") + key, "expected true or false, got " + config[key].dump());
   };
   text("server_name", out.server_name);
   if (out.server_name.find_first_of(":/ @") != std::string::npos)
      fail("/server_name", "expected a host name such as example.org, got \"" + out.server_name + "\"");
   text("listen", out.listen);
   std::string host;
   int port = 0;
   if (!split_listen(out.listen, host, port)) fail("/listen", "expected ADDRESS:PORT, got \"" + out.listen + "\"");
   flag("enable_registration", out.enable_registration);
   flag("user_directory_search_all_users", out.user_directory_search_all_users);
   if (config.contains("admins")) {
      const json &admins = config["admins"];
      if (!admins.is_array()) fail("/admins", "expected an array of user IDs");
      for (size_t i = 0; admins.is_array() && i < admins.size(); ++i) {
         const std::string id = admins[i].is_string() ? admins[i].get<std::string>() : "";
         if (!valid_user_id(id) || server_of(id) != out.server_name)
            fail("/admins/" + std::to_string(i), "expected a user ID of " + out.server_name + ", got " + admins[i].dump());
         else out.admins.insert(id);
      }
   }
   text("admin_registration_token", out.admin_registration_token);
   if (config.contains("admin_listen")) {
      text("admin_listen", out.admin_listen);
      std::string admin_host;
      int admin_port = 0;
      if (!split_listen(out.admin_listen, admin_host, admin_port) || !loopback(admin_host))
         fail("/admin_listen", "expected a loopback ADDRESS:PORT such as 127.0.0.1:9008, got " + config["admin_listen"].dump());
   }
   if (config.contains("limits")) parse_limits(config["limits"], out.limits, fail);
   if (config.contains("module_call_timeout_ms")) {
      // An hour at most: a request waits this long for a module, holding its connection.
      const json &t = config["module_call_timeout_ms"];
      if (natural(t) && t.get<uint64_t>() > 0 && t.get<uint64_t>() <= 3600000) out.module_call_timeout_ms = t.get<uint64_t>();
      else fail("/module_call_timeout_ms", "expected a positive integer of milliseconds, at most 3600000, got " + t.dump());
   }
   if (config.contains("max_upload_size")) {
      if (natural(config["max_upload_size"]) && config["max_upload_size"].get<uint64_t>() > 0)
         out.max_upload_size = config["max_upload_size"].get<uint64_t>();
      else fail("/max_upload_size", "expected a positive integer (bytes), got " + config["max_upload_size"].dump());
   }
   if (config.contains("media_upload_limits")) {
      const json &limits = config["media_upload_limits"];
      if (!limits.is_array()) fail("/media_upload_limits", "expected an array of {max_bytes, time_period_ms}");
      for (size_t i = 0; limits.is_array() && i < limits.size(); ++i) {
         const json &l = limits[i];
         if (!l.is_object() || !natural(l.value("max_bytes", json())) || !natural(l.value("time_period_ms", json())) ||
             l["time_period_ms"].get<int64_t>() <= 0)
            fail("/media_upload_limits/" + std::to_string(i), "expected {\"max_bytes\": n, \"time_period_ms\": n > 0}");
         else out.media_upload_limits.emplace_back(l["max_bytes"].get<uint64_t>(), l["time_period_ms"].get<int64_t>());
      }
   }
   if (config.contains("rc_invites")) {
      const json &rc = config["rc_invites"];
      const std::pair<const char *, RateLimitConfig *> limiters[] = {
         {"per_room", &out.rc_invites_per_room}, {"per_user", &out.rc_invites_per_user}, {"per_issuer", &out.rc_invites_per_issuer}};
      if (!rc.is_object()) fail("/rc_invites", "expected an object with per_room, per_user and per_issuer");
      for (const auto &[name, into] : limiters) {
         if (!rc.is_object() || !rc.contains(name)) continue;
         const json &l = rc[name];
         if (!l.is_object() || !l.value("per_second", json()).is_number() || l["per_second"].get<double>() < 0 ||
             !natural(l.value("burst_count", json())))
            fail(std::string("/rc_invites/") + name, "expected {\"per_second\": x >= 0, \"burst_count\": n}");
         else *into = {l["per_second"].get<double>(), l["burst_count"].get<int64_t>()};
      }
   }
   if (config.contains("email")) parse_email(config["email"], out.email, fail);
   if (config.contains("public_baseurl")) {
      const json &url = config["public_baseurl"];
      const std::string text = url.is_string() ? url.get<std::string>() : "";
      if ((text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0) || text.back() != '/' ||
          text.find_first_of(" \r\n") != std::string::npos)
         fail("/public_baseurl", "expected an http:// or https:// URL ending in '/', such as \"https://chat.example.org/\", got " +
                                    url.dump());
      else out.public_baseurl = text;
   }
   if (!config.contains("modkit")) fail("/modkit", "missing: the loader's config (module_path and modules)");
   else if (!config["modkit"].is_object()) fail("/modkit", "expected an object with module_path and modules");
   else out.modkit = config["modkit"];
   if (!errors.empty()) throw ConfigError(errors);
   return out;
}

HostConfig load_host_config(const std::string &path) {
   std::ifstream in(path);
   if (!in) throw ConfigError({path + ": cannot read the config file"});
   std::stringstream text;
   text << in.rdbuf();
   const nlohmann::json config = nlohmann::json::parse(text.str(), nullptr, false);
   if (config.is_discarded()) throw ConfigError({path + ": not valid JSON"});
   const auto slash = path.rfind('/');
   const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
   return parse_host_config(config, dir);
}

} // namespace chat
