// auth_probe.cpp - a password auth provider fixture: every answer comes from its config, so the
// host tests can compare the typed and dynamic paths on the standard category. Written straight
// against the C ABI, with its own exception barrier.
//
// Config: {"tag": "a", "server": "example.org", "login_type": "m.login.password",
//          "passwords": {"alice": "wonderland"}, "emails": {"alice@example.org": "alice"},
//          "blocked_domain": "blocked.example", "username_prefix": "x_",
//          "errors": {"<slot>": <status>}}
// Every call is logged at debug level as "<tag>:<slot>".
#include <modkit/categories/password_auth_provider.h>
#include <modkit/modkit.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

// Built once for both copies; each copy's probe_entry.cpp gives the name (probe_entry.hpp).
#include "probe_entry.hpp"
#define AUTH_PROBE_NAME probe_module_name

namespace {

using json = nlohmann::json;

struct Probe {
   const modkit_host_api *api = nullptr;
   modkit_host *host = nullptr;
   json config;

   // Logs the call and returns the status the config says this slot fails with, or MODKIT_OK.
   modkit_status enter(const char *slot) const {
      const std::string line = config.value("tag", std::string("?")) + ":" + slot;
      api->log(host, MODKIT_LOG_DEBUG, {line.data(), line.size()});
      const json &errors = config.value("errors", json::object());
      return errors.contains(slot) ? errors[slot].get<modkit_status>() : MODKIT_OK;
   }
   modkit_status append(modkit_buffer *out, const std::string &text) const {
      return api->buffer_append(out, text.data(), text.size());
   }
   // The password of localpart, or "" when it has none.
   std::string password_of(const std::string &localpart) const {
      const json &passwords = config.value("passwords", json::object());
      return passwords.value(localpart, std::string());
   }
   std::string user_id(const std::string &localpart) const {
      return "@" + localpart + ":" + config.value("server", std::string("example.org"));
   }
};

const Probe &self(void *user_data) { return *static_cast<const Probe *>(user_data); }
std::string text(modkit_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }

// Runs body, turning any exception into MODKIT_E_INTERNAL: nothing may unwind into the host.
template <class F>
modkit_status guarded(F &&body) noexcept {
   try {
      return body();
   } catch (...) {
      return MODKIT_E_INTERNAL;
   }
}

modkit_status login_types(void *ud, modkit_call *, modkit_buffer *out) {
   return guarded([&]() -> modkit_status {
      const Probe &p = self(ud);
      if (modkit_status e = p.enter("get_supported_login_types")) return e;
      return p.append(out, json{{p.config.value("login_type", std::string("m.login.password")), {"password"}}}.dump());
   });
}

modkit_status auth_checkers(void *ud, modkit_call *, modkit_str username, modkit_str login_type, modkit_str login_dict,
                            modkit_auth_result *result, modkit_buffer *user_id) {
   return guarded([&]() -> modkit_status {
      const Probe &p = self(ud);
      if (modkit_status e = p.enter("auth_checkers")) return e;
      if (text(login_type) != p.config.value("login_type", std::string("m.login.password"))) return MODKIT_OK;
      const json dict = json::parse(text(login_dict));
      const std::string expected = p.password_of(text(username));
      if (expected.empty() || dict.value("password", std::string()) != expected) return MODKIT_OK;
      *result = MODKIT_AUTH_AUTHENTICATED;
      return p.append(user_id, p.user_id(text(username)));
   });
}

modkit_status check_3pid_auth(void *ud, modkit_call *, modkit_str medium, modkit_str address, modkit_str password,
                              modkit_auth_result *result, modkit_buffer *user_id) {
   return guarded([&]() -> modkit_status {
      const Probe &p = self(ud);
      if (modkit_status e = p.enter("check_3pid_auth")) return e;
      const json &emails = p.config.value("emails", json::object());
      if (text(medium) != "email" || !emails.contains(text(address))) return MODKIT_OK;
      const std::string localpart = emails[text(address)].get<std::string>();
      if (p.password_of(localpart).empty() || p.password_of(localpart) != text(password)) return MODKIT_OK;
      *result = MODKIT_AUTH_AUTHENTICATED;
      return p.append(user_id, p.user_id(localpart));
   });
}

modkit_status on_login_response(void *ud, modkit_call *, modkit_str) {
   return guarded([&]() -> modkit_status { return self(ud).enter("on_login_response"); });
}

modkit_status on_logged_out(void *ud, modkit_call *, modkit_str, modkit_str, modkit_str) {
   return guarded([&]() -> modkit_status { return self(ud).enter("on_logged_out"); });
}

// Answers prefix + the requested user name when the config has a prefix for this slot.
modkit_status registration_name(void *ud, const char *slot, const char *prefix_key, modkit_str params, bool *found,
                                modkit_buffer *out) {
   return guarded([&]() -> modkit_status {
      const Probe &p = self(ud);
      if (modkit_status e = p.enter(slot)) return e;
      const json request = json::parse(text(params));
      if (!p.config.contains(prefix_key) || !request.contains("username")) return MODKIT_OK;
      *found = true;
      return p.append(out, p.config[prefix_key].get<std::string>() + request["username"].get<std::string>());
   });
}

modkit_status username_for_registration(void *ud, modkit_call *, modkit_str, modkit_str params, bool *found,
                                        modkit_buffer *username) {
   return registration_name(ud, "get_username_for_registration", "username_prefix", params, found, username);
}

modkit_status displayname_for_registration(void *ud, modkit_call *, modkit_str, modkit_str params, bool *found,
                                           modkit_buffer *display_name) {
   return registration_name(ud, "get_displayname_for_registration", "display_name_prefix", params, found,
                            display_name);
}

// Writes its answer only when it has a blocked domain: otherwise silence, which allows.
modkit_status is_3pid_allowed(void *ud, modkit_call *, modkit_str, modkit_str address, bool, bool *allowed) {
   return guarded([&]() -> modkit_status {
      const Probe &p = self(ud);
      if (modkit_status e = p.enter("is_3pid_allowed")) return e;
      if (!p.config.contains("blocked_domain")) return MODKIT_OK;
      const std::string suffix = "@" + p.config["blocked_domain"].get<std::string>();
      const std::string a = text(address);
      *allowed = !(a.size() >= suffix.size() && a.compare(a.size() - suffix.size(), suffix.size(), suffix) == 0);
      return MODKIT_OK;
   });
}

modkit_status parse_config(const modkit_host_api *api, modkit_str raw, modkit_buffer *out, modkit_error_sink *err) {
   const json config = json::parse(raw.data, raw.data + raw.size, nullptr, false);
   if (!config.is_object()) {
      api->report_error(err, MODKIT_E_CONFIG, "", "expected an object");
      return MODKIT_E_CONFIG;
   }
   const std::string text = config.dump();
   return api->buffer_append(out, text.data(), text.size());
}

modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config, void **instance,
                   modkit_error_sink *err) {
   try {
      auto probe = std::make_unique<Probe>();
      probe->api = api;
      probe->host = host;
      probe->config = json::parse(config.data, config.data + config.size);
      modkit_password_auth_provider_callbacks cb{};
      cb.struct_size = sizeof cb;
      cb.get_supported_login_types = login_types;
      cb.auth_checkers = auth_checkers;
      cb.check_3pid_auth = check_3pid_auth;
      cb.on_login_response = on_login_response;
      cb.on_logged_out = on_logged_out;
      cb.get_username_for_registration = username_for_registration;
      cb.get_displayname_for_registration = displayname_for_registration;
      cb.is_3pid_allowed = is_3pid_allowed;
      if (modkit_status s = modkit_register_password_auth_provider_callbacks(api, host, &cb, probe.get())) return s;
      *instance = probe.release();
      return MODKIT_OK;
   } catch (const std::exception &e) {
      api->report_error(err, MODKIT_E_INTERNAL, "", e.what());
      return MODKIT_E_INTERNAL;
   }
}

void deinit(void *instance) { delete static_cast<Probe *>(instance); }

const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR, AUTH_PROBE_NAME, "1.0.0",
   "configurable password auth provider", nullptr, parse_config, init, deinit,
};

} // namespace

const modkit_module &probe_descriptor = descriptor;
