// http_antispam: maunium/synapse-http-antispam, ported. Each enabled spam checker callback is
// a POST of its arguments as JSON to <base_url>/<callback name>, through the host's HTTP
// client; the service's answer is the module's. The config is the original's, unchanged:
//
//   {"base_url": "http://localhost:8080",          // required
//    "authorization": "random string",             // or "authorization_path": a file holding it
//    "do_ping": true,
//    "enabled_callbacks": ["user_may_invite"],     // absent: all of them
//    "async": {"user_may_join_room": true},        // asked in the background, never waited for
//    "fail_open": {"check_event_for_spam": true}}  // allowed when the service cannot answer
//
// Answers: a 2xx with a JSON body allows. Another status with a JSON object refuses with the
// object's errcode (M_FORBIDDEN when it has none) and its fields, as Synapse sends them to the
// client. No answer, or one that is not JSON, refuses with M_UNKNOWN unless the callback fails
// open (check_event_for_spam does by default).
#include <modkit/sdk/categories/spam_checker.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/services/http.hpp>
#include <modkit/sdk/services/timers.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using json = nlohmann::json;

// The original's callbacks. accept_make_join is accepted in the config but has no slot in
// modkit's spam checker (hosts without federated joins do not ask it); it is logged and skipped.
constexpr std::array<const char *, 11> callback_names = {
   "user_may_join_room",         "accept_make_join",        "user_may_invite",
   "user_may_send_3pid_invite",  "user_may_create_room",    "user_may_create_room_alias",
   "user_may_publish_room",      "check_username_for_spam", "check_login_for_spam",
   "check_event_for_spam",       "federated_user_may_invite"};

struct Config {
   std::string base_url;
   std::optional<std::string> authorization;
   std::optional<std::string> authorization_path;
   bool do_ping = false;
   std::optional<std::vector<std::string>> enabled_callbacks;
   std::map<std::string, bool> async;
   std::map<std::string, bool> fail_open;
};

void to_json(json &j, const Config &c) {
   j = {{"base_url", c.base_url}, {"do_ping", c.do_ping}, {"async", c.async}, {"fail_open", c.fail_open}};
   if (c.authorization) j["authorization"] = *c.authorization;
   if (c.authorization_path) j["authorization_path"] = *c.authorization_path;
   if (c.enabled_callbacks) j["enabled_callbacks"] = *c.enabled_callbacks;
}

// Types are checked by the schema first; null is "unset", as the original's None.
void from_json(const json &j, Config &c) {
   j.at("base_url").get_to(c.base_url);
   auto text = [&](const char *key, std::optional<std::string> &into) {
      if (j.contains(key) && j[key].is_string()) into = j[key].get<std::string>();
   };
   text("authorization", c.authorization);
   text("authorization_path", c.authorization_path);
   if (j.contains("do_ping") && j["do_ping"].is_boolean()) c.do_ping = j["do_ping"].get<bool>();
   if (j.contains("enabled_callbacks") && j["enabled_callbacks"].is_array())
      c.enabled_callbacks = j["enabled_callbacks"].get<std::vector<std::string>>();
   if (j.contains("async") && j["async"].is_object()) j["async"].get_to(c.async);
   // Soft-failing every federated event would be a bad idea: check_event_for_spam fails open
   // unless the config says otherwise.
   c.fail_open = {{"check_event_for_spam", true}};
   if (j.contains("fail_open") && j["fail_open"].is_object())
      for (const auto &[name, open] : j["fail_open"].items()) c.fail_open[name] = open.get<bool>();
}

bool is_callback(const std::string &name) {
   return std::find(callback_names.begin(), callback_names.end(), name) != callback_names.end();
}

// A refusal as Synapse's (Codes, dict): the errcode, and the fields sent to the client.
struct Refusal {
   std::string errcode;
   json fields = json::object();
};

// errcode as the spam checker's answer; call_set_error carries the code itself to the client.
modkit::SpamResult result_for(const std::string &errcode) {
   if (errcode == "M_LIMIT_EXCEEDED") return modkit::SpamResult::limit_exceeded;
   if (errcode == "M_RESOURCE_LIMIT_EXCEEDED") return modkit::SpamResult::resource_limit_exceeded;
   if (errcode == "M_TOO_LARGE") return modkit::SpamResult::too_large;
   return modkit::SpamResult::forbidden;
}

// A machine-readable code as call_set_error takes it: [A-Z0-9_]+, at most 64 bytes.
bool is_errcode(const std::string &code) {
   return !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
   });
}

std::string random_id() {
   static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
   thread_local std::mt19937 generator{std::random_device{}()};
   std::uniform_int_distribution<size_t> pick(0, sizeof letters - 2);
   std::string id(8, 'a');
   for (char &c : id) c = letters[pick(generator)];
   return id;
}

std::string read_token(const std::string &path) {
   std::ifstream in(path);
   if (!in)
      throw modkit::Error(MODKIT_E_CONFIG, "authorization_path: cannot read '" + path + "': " + std::strerror(errno));
   std::stringstream text;
   text << in.rdbuf();
   std::string token = text.str();
   const auto first = token.find_first_not_of(" \t\r\n");
   if (first == std::string::npos) return "";
   return token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
}

} // namespace

class HTTPAntispam {
public:
   static json config_schema() {
      const json optional_text = {{"type", {"string", "null"}}};
      const json flags = {{"type", {"object", "null"}}, {"additionalProperties", {{"type", "boolean"}}}};
      return {{"type", "object"},
              {"properties",
               {{"base_url", {{"type", "string"}}},
                {"authorization", optional_text},
                {"authorization_path", optional_text},
                {"do_ping", {{"type", {"boolean", "null"}}}},
                {"enabled_callbacks", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                {"async", flags},
                {"fail_open", flags}}},
              {"additionalProperties", false}};
   }

   // The original reads its config in __init__, where a missing base_url is a KeyError and an
   // unknown callback an AttributeError; both are refused here, before init, with the field.
   static Config parse_config(const json &raw) {
      if (!raw.contains("base_url")) throw modkit::ConfigError("base_url is required: the antispam server's URL");
      if (raw.contains("enabled_callbacks")) {
         const json &names = raw["enabled_callbacks"];
         for (size_t i = 0; i < names.size(); ++i)
            if (!is_callback(names[i].get<std::string>()))
               throw modkit::ConfigError("'HTTPAntispam' object has no attribute '" + names[i].get<std::string>() + "'",
                                         "/enabled_callbacks/" + std::to_string(i));
      }
      return raw.get<Config>();
   }

   HTTPAntispam(const Config &config, modkit::Api &api) : config_(config), api_(api), http_(api) {
      if (config_.authorization && !config_.authorization->empty())
         authorization_ = "Bearer " + *config_.authorization;
      else if (config_.authorization_path)
         authorization_ = "Bearer " + read_token(*config_.authorization_path);
      register_callbacks(api);
      if (config_.do_ping) schedule_ping(std::chrono::milliseconds(0));
   }

   // The host has stopped the timers and HTTP requests by now; the handles are dropped outside
   // the lock, as destroying one may wait for a callback that needs it.
   ~HTTPAntispam() {
      std::map<uint64_t, modkit::Timer> pings;
      std::map<uint64_t, modkit::HttpCall> background;
      std::lock_guard<std::mutex> lock(mutex_);
      pings.swap(pings_);
      background.swap(background_);
   }

private:
   using SpamResult = modkit::SpamResult;

   bool enabled(const char *name) const {
      return !config_.enabled_callbacks || std::find(config_.enabled_callbacks->begin(), config_.enabled_callbacks->end(),
                                                     name) != config_.enabled_callbacks->end();
   }

   // The event as the original sends it: client format, with its event_id.
   static json event_json(const modkit::Event &event) { return json(event); }

   void register_callbacks(modkit::Api &api) {
      modkit::SpamCheckerCallbacks spam;
      if (enabled("user_may_join_room"))
         spam.user_may_join_room = [this](modkit::Call &call, std::string_view user, std::string_view room, bool is_invited) {
            return ask(call, "user_may_join_room", {{"user", user}, {"room", room}, {"is_invited", is_invited}});
         };
      if (enabled("user_may_invite"))
         spam.user_may_invite = [this](modkit::Call &call, std::string_view inviter, std::string_view invitee,
                                       std::string_view room_id) {
            return ask(call, "user_may_invite", {{"inviter", inviter}, {"invitee", invitee}, {"room_id", room_id}});
         };
      if (enabled("user_may_send_3pid_invite"))
         spam.user_may_send_3pid_invite = [this](modkit::Call &call, std::string_view inviter, std::string_view medium,
                                                 std::string_view address, std::string_view room_id) {
            return ask(call, "user_may_send_3pid_invite",
                       {{"inviter", inviter}, {"medium", medium}, {"address", address}, {"room_id", room_id}});
         };
      if (enabled("user_may_create_room"))
         spam.user_may_create_room = [this](modkit::Call &call, std::string_view user_id, const json &) {
            return ask(call, "user_may_create_room", {{"user_id", user_id}});
         };
      if (enabled("user_may_create_room_alias"))
         spam.user_may_create_room_alias = [this](modkit::Call &call, std::string_view user_id, std::string_view alias) {
            return ask(call, "user_may_create_room_alias", {{"user_id", user_id}, {"room_alias", alias}});
         };
      if (enabled("user_may_publish_room"))
         spam.user_may_publish_room = [this](modkit::Call &call, std::string_view user_id, std::string_view room_id) {
            return ask(call, "user_may_publish_room", {{"user_id", user_id}, {"room_id", room_id}});
         };
      if (enabled("check_username_for_spam"))
         spam.check_username_for_spam = [this](modkit::Call &call, const modkit::UserProfile &profile,
                                               std::string_view requester_id) {
            const json user_profile = {{"user_id", profile.user_id()},
                                       {"display_name", profile.display_name() ? json(*profile.display_name()) : json()},
                                       {"avatar_url", profile.avatar_url() ? json(*profile.avatar_url()) : json()}};
            return hides(ask(call, "check_username_for_spam", {{"user_profile", user_profile}, {"requester_id", requester_id}}));
         };
      if (enabled("check_login_for_spam"))
         spam.check_login_for_spam = [this](modkit::Call &call, std::string_view user_id,
                                            std::optional<std::string_view> device_id,
                                            std::optional<std::string_view> initial_display_name,
                                            const json &request_info, std::optional<std::string_view> auth_provider_id) {
            // Synapse's request_info is a list of (user_agent, ip) pairs.
            json pairs = json::array();
            for (const json &r : request_info)
               pairs.push_back(json::array({r.value("user_agent", json()), r.value("ip", json())}));
            auto optional = [](std::optional<std::string_view> v) { return v ? json(*v) : json(); };
            return ask(call, "check_login_for_spam",
                       {{"user_id", user_id},
                        {"device_id", optional(device_id)},
                        {"initial_display_name", optional(initial_display_name)},
                        {"request_info", pairs},
                        {"auth_provider_id", optional(auth_provider_id)}});
         };
      if (enabled("check_event_for_spam"))
         spam.check_event_for_spam = [this](modkit::Call &call, const modkit::Event &event) {
            return ask(call, "check_event_for_spam", {{"event", event_json(event)}});
         };
      if (enabled("federated_user_may_invite"))
         spam.federated_user_may_invite = [this](modkit::Call &call, const modkit::Event &event) {
            return ask(call, "federated_user_may_invite", {{"event", event_json(event)}});
         };
      if (config_.enabled_callbacks && enabled("accept_make_join"))
         api.log().warning("accept_make_join is not a spam checker callback of this host; it is never asked");
      api.register_spam_checker_callbacks(std::move(spam));
   }

   modkit::HttpRequest request_for(const std::string &path, const json &data) const {
      modkit::HttpRequest req;
      req.method = "POST";
      req.url = config_.base_url + "/" + path;
      req.headers = {{"Content-Type", "application/json"}};
      if (authorization_) req.headers.emplace_back("Authorization", *authorization_);
      req.body = data.dump(-1, ' ', false, json::error_handler_t::replace);
      return req;
   }

   // _do_request: the service's answer for callback path, and the refusal sent to the client.
   modkit::task<SpamResult> ask(modkit::Call call, std::string path, json data) {
      modkit::HttpRequest req = request_for(path, data);
      if (config_.async.count(path) != 0 && config_.async.at(path)) {
         send_in_background(std::move(req));
         co_return SpamResult::not_spam;
      }
      std::optional<modkit::HttpResponse> response;
      std::string failure;
      try {
         response = co_await http_.fetch(req);
      } catch (const modkit::Error &e) {
         failure = e.what();
      }
      const std::optional<Refusal> refusal = judge(path, req, response, failure);
      if (!refusal) co_return SpamResult::not_spam;
      const json message = refusal->fields.value("error", json());
      json extra = refusal->fields;
      extra.erase("error");
      call.set_error(refusal->errcode, message.is_string() ? message.get<std::string>() : std::string(), extra);
      co_return result_for(refusal->errcode);
   }

   // The answer, or the reason there is none (failure), as the original reads it.
   std::optional<Refusal> judge(const std::string &path, const modkit::HttpRequest &req,
                                const std::optional<modkit::HttpResponse> &response, const std::string &failure) const {
      const bool fail_open = config_.fail_open.count(path) != 0 && config_.fail_open.at(path);
      if (response && response->status >= 200 && response->status < 300) {
         if (json::accept(response->body)) return std::nullopt; // the content is ignored
      } else if (response) {
         json data = json::parse(response->body, nullptr, false);
         if (data.is_object()) {
            const json code = data.value("errcode", json());
            if (!code.is_string() || !is_errcode(code.get<std::string>())) return Refusal{"M_FORBIDDEN", data};
            data.erase("errcode");
            return Refusal{code.get<std::string>(), data};
         }
         api_.log().warning("Unexpected response from antispam server: {} (POST {} with {})", response->body, req.url,
                            *req.body);
         if (fail_open) return std::nullopt;
         return Refusal{"M_UNKNOWN", {{"error", "Unexpected response from antispam server"}}};
      }
      // No answer, or a 2xx that is not JSON (the original's post_json_get_json raises).
      api_.log().error("Failed to connect to antispam server (POST {} {}): {}", req.url, *req.body,
                       response ? "the response is not JSON" : failure);
      if (fail_open) return std::nullopt;
      return Refusal{"M_UNKNOWN", {{"error", "Failed to connect to antispam server"}}};
   }

   // check_username_for_spam answers a boolean: true hides the user.
   modkit::task<bool> hides(modkit::task<SpamResult> answer) { co_return (co_await std::move(answer)) != SpamResult::not_spam; }

   // An async callback's request: nobody waits for it; what goes wrong is logged.
   void send_in_background(modkit::HttpRequest req) {
      std::lock_guard<std::mutex> lock(mutex_);
      const uint64_t id = ++next_id_;
      const std::string url = req.url;
      try {
         background_.emplace(id, http_.request(req, [this, id, url](modkit_status status, modkit::HttpResponse *response,
                                                                    std::string message) {
            if (status != MODKIT_OK) api_.log().error("Error in async callback (POST {}): {}", url, message);
            else if (response->status < 200 || response->status >= 300)
               api_.log().error("Error in async callback (POST {}): HTTP {}", url, response->status);
            forget(background_, id);
         }));
      } catch (const modkit::Error &e) {
         api_.log().error("Error in async callback (POST {}): {}", url, e.what());
      }
   }

   // The original's _do_ping: until the service answers {"id": <ours>, "status": "ok"}, again
   // every 5 seconds.
   void schedule_ping(std::chrono::milliseconds delay) {
      std::lock_guard<std::mutex> lock(mutex_);
      const uint64_t id = ++next_id_;
      try {
         pings_.emplace(id, modkit::Timer::after(api_, delay, [this, id]() -> modkit::task<void> { return ping(id); }));
      } catch (const modkit::Error &e) { // the module is being unloaded
         api_.log().warning("Could not schedule a ping of the antispam server: {}", e.what());
      }
   }

   modkit::task<void> ping(uint64_t id) {
      forget(pings_, id);
      const std::string req_id = random_id();
      const modkit::HttpRequest req = request_for("ping", {{"id", req_id}});
      bool pinged = false;
      try {
         const modkit::HttpResponse r = co_await http_.fetch(req);
         const json body = json::parse(r.body, nullptr, false);
         if (r.status < 200 || r.status >= 300 || !body.is_object())
            api_.log().error("Failed to ping antispam server (POST {}): HTTP {} {}", req.url, r.status, r.body);
         else if (body.value("id", json()) != req_id || body.value("status", json()) != "ok")
            api_.log().error("Unexpected ping response from antispam server (POST {} with ID {}): {}", req.url, req_id,
                             r.body);
         else
            pinged = true;
      } catch (const modkit::Error &e) {
         api_.log().error("Failed to ping antispam server (POST {}): {}", req.url, e.what());
      }
      if (pinged) api_.log().info("Successfully pinged antispam server with request ID {}", req_id);
      else schedule_ping(std::chrono::seconds(5));
   }

   // Drops a handle whose work has ended; it is destroyed outside the lock.
   template <class Handle>
   void forget(std::map<uint64_t, Handle> &handles, uint64_t id) {
      Handle ended;
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = handles.find(id);
      if (it == handles.end()) return;
      ended = std::move(it->second);
      handles.erase(it);
   }

   Config config_;
   modkit::Api &api_;
   modkit::HttpClient http_;
   std::optional<std::string> authorization_; // the Authorization header's value
   std::mutex mutex_;                         // guards pings_, background_ and next_id_
   std::map<uint64_t, modkit::Timer> pings_;
   std::map<uint64_t, modkit::HttpCall> background_;
   uint64_t next_id_ = 0;
};

MODKIT_MODULE(HTTPAntispam, "http_antispam", "1.0.0",
              "Asks a remote HTTP service about every spam check (synapse-http-antispam)", "modkit.spam_checker")
