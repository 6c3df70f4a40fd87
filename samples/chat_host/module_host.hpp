// module_host.hpp - the modules: a modkit::Loader with the eleven standard categories, the
// category-level rules the loader cannot check (enforced after load), and one typed dispatch
// function per callback. Each applies its callback's combination rule through the asynchronous
// policies (async.hpp), so modules may suspend: the read section ends once the dispatch has
// started and the calling thread waits, bounded by module_call_timeout_ms, for its end. Each
// records metrics and the request's trace, and returns the answer with the module that decided it.
#pragma once

#include "metrics.hpp"
#include "trace.hpp"

#include <chat_host/cache_stats.h>
#include <modkit/all.h>
#include <modkit/loader.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat {

using json = nlohmann::json;

// Startup refused: every reason, one per line.
class StartupError : public std::runtime_error {
public:
   explicit StartupError(std::vector<std::string> errors);
   const std::vector<std::string> &errors() const { return errors_; }

private:
   std::vector<std::string> errors_;
};

// A dispatch's result: the combined answer and who decided it.
// What a module passed to call_set_error during its call: a Matrix errcode, a message (empty:
// the host's own) and extra fields for the error body (a JSON object, or empty).
struct ModuleError {
   std::string errcode, message, extra_json;
};

struct Done {
   modkit::Outcome outcome;
   std::string module; // the module that decided (or failed); empty when none did
   std::optional<ModuleError> module_error; // what that module said about its refusal, if anything
   bool error() const { return outcome.kind == modkit::Outcome::Kind::error; }
   bool decided() const { return outcome.decided_by_module(); }
};
template <class T>
struct Decision : Done {
   T answer{};
};

// A host-side view of an event for callbacks (modkit_event plus the strings it points into).
struct EventArg {
   std::string event_id, room_id, sender, type, content, unsigned_;
   std::optional<std::string> state_key;
   int64_t origin_server_ts = 0;
   modkit_event view() const;
};

struct RequesterArg {
   std::string user_id, device_id;
   bool is_guest = false, shadow_banned = false;
};

struct LoginTypes {
   std::map<std::string, std::vector<std::string>> fields;  // login type -> fields
   std::map<std::string, std::set<uint32_t>> modules;       // login type -> declaring modules
};

struct AuthAnswer {
   std::string user_id;
   uint32_t module_index = UINT32_MAX;
};

struct RenewAnswer {
   bool token_valid = false, token_stale = false;
   int64_t expiration_ts = 0;
};

struct RatelimitOverride {
   double per_second = 0;
   int64_t burst_count = 0;
};

struct UploadLimit {
   uint64_t max_bytes = 0;
   int64_t time_period_ms = 0;
};

struct WebResponse {
   int status = 200;
   std::vector<std::pair<std::string, std::string>> headers;
   std::string body;
};

class ModuleHost {
public:
   struct Options {
      json modkit_config;        // {"module_path": [...], "modules": [...]}: the loader's part only
      std::string base_dir;      // relative module_path entries resolve against it
      std::string pointer_prefix; // where modkit_config sits in the host's config file ("/modkit")
      std::vector<std::string> reserved_web_prefixes{"/_matrix/", "/_synapse/admin/"};
      std::function<bool(const std::string &path)> is_builtin_path; // refuses shadowing web paths
      std::function<void(modkit_log_level, const std::string &module, const std::string &line)> log;
      // How long one dispatch of a callback may wait for modules that suspended (the host
      // config's module_call_timeout_ms); then the slot's exception policy applies.
      uint64_t call_timeout_ms = 10000;
      // The host's own extensions besides cache stats (chat.homeserver/1), and what stops a
      // module instance's work in them before its deinit (the loader's module_stopping).
      std::function<const void *(const std::string &id)> extension;
      std::function<void(modkit_host *)> module_stopping;
   };

   // Loads every module and enforces the category rules; throws StartupError listing every
   // problem (loader errors and rule violations together).
   ModuleHost(Options options, Metrics &metrics);
   ~ModuleHost();
   ModuleHost(const ModuleHost &) = delete;
   ModuleHost &operator=(const ModuleHost &) = delete;

   const std::string &module_name(uint32_t index) const;
   size_t module_count() const { return names_.size(); }
   std::vector<std::string> warnings() const;
   std::shared_ptr<const LoginTypes> login_types() const;
   json describe() const; // modules, registrations, web resources, caches with counts

   // Reloads one module (SIGHUP: all of them, one by one). Returns the errors; empty on success.
   std::vector<std::string> reload(const std::string &module);
   // Invalidates a module's cached function: one key (a JSON array) or every entry.
   modkit_status invalidate_cache(const std::string &module, const std::string &cache, const json *key);

   // A module web resource at path, if any: serves it and returns true.
   bool serve_web(CallContext &ctx, const std::string &method, const std::string &path, const std::string &query,
                  const json &headers, const std::string &body, const std::optional<std::string> &user_id,
                  WebResponse &response);

   // ---- spam checker ----
   Decision<modkit_spam_result> check_event_for_spam(CallContext &, const EventArg &);
   Decision<bool> should_drop_federated_event(CallContext &, const EventArg &);
   Decision<modkit_spam_result> user_may_join_room(CallContext &, const std::string &user, const std::string &room,
                                                   bool is_invited);
   Decision<modkit_spam_result> user_may_invite(CallContext &, const std::string &inviter, const std::string &invitee,
                                                const std::string &room);
   // Chained: if every federated_user_may_invite answers not_spam, user_may_invite runs.
   Decision<modkit_spam_result> federated_user_may_invite(CallContext &, const EventArg &invite);
   Decision<modkit_spam_result> user_may_send_3pid_invite(CallContext &, const std::string &inviter,
                                                          const std::string &medium, const std::string &address,
                                                          const std::string &room);
   Decision<modkit_spam_result> user_may_create_room(CallContext &, const std::string &user, const json &config);
   Decision<modkit_spam_result> user_may_create_room_alias(CallContext &, const std::string &user,
                                                           const std::string &alias);
   Decision<modkit_spam_result> user_may_publish_room(CallContext &, const std::string &user, const std::string &room);
   Decision<modkit_spam_result> user_may_send_state_event(CallContext &, const std::string &user,
                                                          const std::string &room, const std::string &type,
                                                          const std::string &state_key, const json &content);
   Decision<bool> check_username_for_spam(CallContext &, const std::string &user_id, const std::string &display_name,
                                          const std::optional<std::string> &avatar_url, const std::string &requester);
   Decision<modkit_registration_behaviour> check_registration_for_spam(CallContext &, const json *email_threepid,
                                                                       const std::optional<std::string> &username,
                                                                       const json &request_info,
                                                                       const std::optional<std::string> &auth_provider);
   Decision<modkit_spam_result> check_media_file_for_spam(CallContext &, const std::string &content,
                                                          const std::string &media_id, const std::string &upload_name,
                                                          const std::string &media_type);
   Decision<modkit_spam_result> check_login_for_spam(CallContext &, const std::string &user_id,
                                                     const std::optional<std::string> &device_id,
                                                     const std::optional<std::string> &initial_display_name,
                                                     const json &request_info,
                                                     const std::optional<std::string> &auth_provider);

   // ---- third-party rules ----
   // answer: ALLOW, DENY or REPLACE (then replacement holds the module's event object).
   Decision<modkit_event_verdict> check_event_allowed(CallContext &, const EventArg &, const json &state,
                                                      json &replacement);
   // content is edited in place by each module in turn; answer DENY refuses.
   Decision<modkit_create_room_result> on_create_room(CallContext &, const RequesterArg &, json &content,
                                                      bool is_admin);
   Decision<bool> check_threepid_can_be_invited(CallContext &, const std::string &medium, const std::string &address,
                                                const json &state);
   Decision<bool> check_visibility_can_be_modified(CallContext &, const std::string &room, const json &state,
                                                   const std::string &new_visibility);
   Done on_new_event(CallContext &, const EventArg &, const json &state);
   Decision<bool> check_can_shutdown_room(CallContext &, const std::optional<std::string> &user,
                                          const std::string &room);
   Decision<bool> check_can_deactivate_user(CallContext &, const std::string &user, bool by_admin);
   Done on_profile_update(CallContext &, const std::string &user, const std::string &display_name,
                          const std::optional<std::string> &avatar_url, bool by_admin, bool deactivation);
   Done on_user_deactivation_status_changed(CallContext &, const std::string &user, bool deactivated, bool by_admin);
   Done on_threepid_bind(CallContext &, const std::string &user, const std::string &medium, const std::string &address);
   Done on_add_user_third_party_identifier(CallContext &, const std::string &user, const std::string &medium,
                                           const std::string &address);
   Done on_remove_user_third_party_identifier(CallContext &, const std::string &user, const std::string &medium,
                                              const std::string &address);

   // ---- presence router ----
   // user ID -> indices into states, unioned over modules.
   Decision<std::map<std::string, std::set<size_t>>> get_users_for_states(CallContext &, const json &states);
   struct Interested {
      bool all = false;
      std::set<std::string> users;
   };
   Decision<Interested> get_interested_users(CallContext &, const std::string &user);

   // ---- account validity ----
   Decision<modkit_expiry_result> is_user_expired(CallContext &, const std::string &user);
   Done on_user_registration(CallContext &, const std::string &user);
   Done on_user_login(CallContext &, const std::string &user, const std::optional<std::string> &type,
                      const std::optional<std::string> &provider);
   Done on_legacy_send_mail(CallContext &, const std::string &user);
   Decision<RenewAnswer> on_legacy_renew(CallContext &, const std::string &token);
   Decision<int64_t> on_legacy_admin_request(CallContext &, const std::string &method, const std::string &path,
                                             const std::string &body, const std::string &user_id);
   bool has_legacy_hook(uint32_t slot) const;

   // ---- password auth provider ----
   Decision<AuthAnswer> auth_checkers(CallContext &, const std::string &username, const std::string &login_type,
                                      const json &login_dict);
   Decision<AuthAnswer> check_3pid_auth(CallContext &, const std::string &medium, const std::string &address,
                                        const std::string &password);
   Done on_login_response(CallContext &, uint32_t module_index, const json &response);
   Done on_logged_out(CallContext &, const std::string &user, const std::optional<std::string> &device,
                      const std::string &token);
   Decision<std::optional<std::string>> get_username_for_registration(CallContext &, const json &uia, const json &params);
   Decision<std::optional<std::string>> get_displayname_for_registration(CallContext &, const json &uia,
                                                                         const json &params);
   Decision<bool> is_3pid_allowed(CallContext &, const std::string &medium, const std::string &address,
                                  bool registration);

   // ---- background update controller (one owner for the whole category) ----
   Decision<int32_t> on_update(CallContext &, const std::string &update, const std::string &database, bool one_shot);
   Decision<int32_t> default_batch_size(CallContext &, const std::string &update, const std::string &database);
   Decision<int32_t> min_batch_size(CallContext &, const std::string &update, const std::string &database);

   // ---- account data, extra unsigned fields ----
   Done on_account_data_updated(CallContext &, const std::string &user, const std::optional<std::string> &room,
                                const std::string &type, const json &content);
   // Merged, last module wins per key; host_keys are dropped from module answers.
   Decision<json> add_field_to_unsigned(CallContext &, const EventArg &, const std::set<std::string> &host_keys);

   // ---- media repository ----
   Decision<std::optional<json>> get_media_config_for_user(CallContext &, const std::string &user);
   Decision<bool> is_user_allowed_to_upload_media_of_size(CallContext &, const std::string &user, uint64_t size);
   Decision<std::optional<std::vector<UploadLimit>>> get_media_upload_limits_for_user(CallContext &,
                                                                                      const std::string &user);
   Done on_media_upload_limit_exceeded(CallContext &, const std::string &user, const UploadLimit &limit,
                                       uint64_t sent, uint64_t attempted);

   // ---- rate limit, federation ----
   Decision<std::optional<RatelimitOverride>> get_ratelimit_override_for_user(CallContext &, const std::string &user,
                                                                              const std::string &limiter);
   Done on_event_delivered_over_federation(CallContext &, const std::string &server, const json &events,
                                           modkit_federation_delivery_method method);
   bool wants_federation_deliveries() const;
   // Whether any loaded module registered this slot of this category now: lets the host skip
   // building arguments (a room's state as JSON) that no module would read. A reload may change
   // the answer a moment later; callers pass something valid either way.
   bool has_callbacks(const char *category_id, uint32_t slot) const;

   // Internals shared with the dispatch helpers.
   modkit::Loader &loader() { return *loader_; }
   const modkit::Loader &loader() const { return *loader_; }
   Metrics &metrics() { return metrics_; }
   modkit_loader_reader *reader() const;
   // The deadline of a dispatch starting now (CLOCK_MONOTONIC nanoseconds).
   int64_t call_deadline_ns() const;
   void log(modkit_log_level level, const std::string &module, const std::string &line) const;
   template <auto Member>
   modkit::SlotRef ref() const;

private:
   std::string prefixed(const modkit::LoadErrorItem &item) const;
   std::vector<std::string> check_category_rules(std::vector<std::string> &warnings);
   std::vector<std::string> build_login_types(std::shared_ptr<const LoginTypes> &out);
   void record_cache(const char *module, const char *cache, bool hit);
   static void record_cache_thunk(void *context, const char *module, const char *cache, bool hit);
   uint32_t background_owner(const modkit_loader_snapshot &snapshot) const;

   Options options_;
   Metrics &metrics_;
   std::unique_ptr<modkit::Loader> loader_;
   std::vector<std::string> names_;       // module names by index; reloads keep them
   std::vector<std::string> warnings_;
   mutable std::mutex mutex_;             // guards login_types_, warnings_; serialises reloads
   std::mutex reload_mutex_;
   std::shared_ptr<const LoginTypes> login_types_;
   chat_host_cache_stats cache_stats_{};
   uint64_t id_;                          // tells this host's thread-local readers apart
};

// Names of the answers, for traces.
std::string spam_result_name(int64_t value);
std::string registration_name(int64_t value);
std::string verdict_name(int64_t value);
std::string create_room_name(int64_t value);
std::string expiry_name(int64_t value);
std::string auth_name(int64_t value);
std::string allowed_name(int64_t value);

} // namespace chat
