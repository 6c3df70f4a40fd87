// coverage_tests.cpp - every callback of every category is reached by at least one request: one
// module registers all of them, a session of requests runs, and the host's metrics must show a
// call for each slot of each category descriptor.
#include "support.hpp"

using json = nlohmann::json;
using test::Host;
using test::probe;

TEST_CASE("every callback of every category is reached by some request") {
   const json answers = {
      // spam checker
      {"check_event_for_spam", 0}, {"should_drop_federated_event", false}, {"user_may_join_room", 0},
      {"user_may_invite", 0}, {"federated_user_may_invite", 0}, {"user_may_send_3pid_invite", 0},
      {"user_may_create_room", 0}, {"user_may_create_room_alias", 0}, {"user_may_publish_room", 0},
      {"user_may_send_state_event", 0}, {"check_username_for_spam", false}, {"check_registration_for_spam", 0},
      {"check_media_file_for_spam", 0}, {"check_login_for_spam", 0},
      // third-party rules
      {"check_event_allowed", 0}, {"on_create_room", 0}, {"check_threepid_can_be_invited", true},
      {"check_visibility_can_be_modified", true}, {"on_new_event", nullptr}, {"check_can_shutdown_room", true},
      {"check_can_deactivate_user", true}, {"on_profile_update", nullptr}, {"on_user_deactivation_status_changed", nullptr},
      {"on_threepid_bind", nullptr}, {"on_add_user_third_party_identifier", nullptr},
      {"on_remove_user_third_party_identifier", nullptr},
      // presence router
      {"get_users_for_states", json::object()}, {"get_interested_users", json::array()},
      // account validity
      {"is_user_expired", 0}, {"on_user_registration", nullptr}, {"on_user_login", nullptr},
      {"on_legacy_send_mail", nullptr}, {"on_legacy_renew", {{"token", "t"}, {"expiration_ts", 9}}},
      {"on_legacy_admin_request", 5},
      // password auth provider
      {"get_supported_login_types", {{"org.example.key", {"key"}}}},
      {"auth_checkers", {{"user_id", "@admin:example.org"}, {"when", {{"key", "k"}}}}},
      {"check_3pid_auth", nullptr}, {"on_login_response", nullptr}, {"on_logged_out", nullptr},
      {"get_username_for_registration", nullptr}, {"get_displayname_for_registration", nullptr},
      {"is_3pid_allowed", true},
      // background update controller, account data, extra unsigned fields
      {"on_update", 1}, {"default_batch_size", 1}, {"min_batch_size", 1}, {"on_account_data_updated", nullptr},
      {"add_field_to_unsigned", json::object()},
      // media repository, rate limit, federation
      {"get_media_config_for_user", nullptr}, {"is_user_allowed_to_upload_media_of_size", true},
      {"get_media_upload_limits_for_user", nullptr}, {"on_media_upload_limit_exceeded", nullptr},
      {"get_ratelimit_override_for_user", nullptr}, {"on_event_delivered_over_federation", nullptr}};
   Host host({probe("chat_a", "a", {{"answers", answers}})},
             {{"media_upload_limits", {{{"max_bytes", 10}, {"time_period_ms", 60000}}}}, {"user_directory_search_all_users", true},
              {"admins", {"@root:example.org"}}});
   const std::string c = "/_matrix/client/v3";
   auto ok = [&](const chat::Response &r) {
      CHECK_MESSAGE(r.status < 300, r.body);
      return Host::body(r);
   };
   const json email = {{"type", "m.login.email.identity"}, {"threepid", {{"medium", "email"}, {"address", "admin@example.org"}}}};
   const std::string admin = ok(host.request("POST", c + "/register", {{"username", "admin"}, {"password", "pw"}, {"auth", email}}))["access_token"];
   // "admin" registers as anyone does; the operator's account (reserved in the config) promotes it.
   ok(host.request("PUT", "/_synapse/admin/v2/users/@admin:example.org", {{"admin", true}}, host.admin("root")));
   ok(host.request("POST", c + "/login", {{"type", "org.example.key"}, {"key", "k"}}));
   ok(host.request("POST", c + "/login", {{"type", "m.login.password"}, {"identifier", {{"type", "m.id.thirdparty"}, {"medium", "email"}, {"address", "admin@example.org"}}}, {"password", "pw"}}));
   const std::string room = ok(host.request("POST", c + "/createRoom", {{"room_alias_name", "r"}, {"visibility", "public"}}, admin))["room_id"];
   ok(host.request("POST", c + "/rooms/" + room + "/invite", {{"user_id", "@far:other.org"}}, admin));
   ok(host.request("POST", c + "/rooms/" + room + "/invite", {{"medium", "email"}, {"address", "x@y.org"}, {"id_server", "id.org"}}, admin));
   const std::string bob = host.user("bob");
   ok(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob));
   ok(host.say(admin, room, "hello"));
   ok(host.request("PUT", c + "/rooms/" + room + "/state/m.room.join_rules", {{"join_rule", "invite"}}, admin));
   ok(host.request("GET", c + "/rooms/" + room + "/messages", nullptr, admin));
   ok(host.request("PUT", c + "/profile/@admin:example.org/displayname", {{"displayname", "Admin"}}, admin));
   ok(host.request("POST", c + "/user_directory/search", {{"search_term", "bob"}}, admin));
   ok(host.request("PUT", c + "/user/@admin:example.org/account_data/x.y", {{"a", 1}}, admin));
   host.user("carol"); // shares no room with admin: get_interested_users decides whether she hears
   ok(host.request("PUT", c + "/presence/@admin:example.org/status", {{"presence", "online"}}, admin));
   ok(host.request("GET", "/_matrix/media/v3/config", nullptr, admin));
   CHECK(host.request("POST", "/_matrix/media/v3/upload", std::string(20, 'x'), admin).status == 400); // over the limit
   ok(host.request("POST", "/_matrix/media/v3/upload", std::string(5, 'x'), admin));
   ok(host.request("POST", c + "/account/3pid/bind", {{"medium", "msisdn"}, {"address", "1"}, {"id_server", "id.org"}}, admin));
   ok(host.request("POST", c + "/account/3pid/delete", {{"medium", "email"}, {"address", "admin@example.org"}}, admin));
   ok(host.request("POST", "/_matrix/client/unstable/account_validity/send_mail", json::object(), admin));
   ok(host.request("GET", "/_matrix/client/unstable/account_validity/renew?token=t"));
   ok(host.request("POST", "/_synapse/admin/v1/account_validity/validity", {{"user_id", "@bob:example.org"}, {"expiration_ts", 4102444800000}}, admin));
   ok(host.request("POST", "/_synapse/admin/v1/background_updates/start_job", {{"job_name", "regenerate_directory"}}, admin));
   ok(host.request("POST", "/_synapse/admin/v1/federation/invite",
                   {{"event", {{"room_id", "!f:other.org"}, {"sender", "@z:other.org"}, {"type", "m.room.member"},
                               {"state_key", "@bob:example.org"}, {"content", {{"membership", "invite"}}}}}}, admin));
   ok(host.request("DELETE", "/_synapse/admin/v1/rooms/" + room, json::object(), admin));
   ok(host.request("POST", "/_synapse/admin/v1/deactivate/@bob:example.org", json::object(), admin));
   ok(host.request("POST", c + "/logout", json::object(), admin));

   const modkit_category *categories[] = {
      modkit_spam_checker_category(),           modkit_third_party_rules_category(),
      modkit_presence_router_category(),        modkit_account_validity_category(),
      modkit_password_auth_provider_category(), modkit_background_update_controller_category(),
      modkit_account_data_category(),           modkit_extra_unsigned_fields_category(),
      modkit_media_repository_category(),       modkit_ratelimit_category(),
      modkit_federation_category()};
   size_t slots = 0;
   for (const modkit_category *cat : categories) {
      const std::string prefix = std::string(cat->id).substr(std::string("modkit.").size()) + ".";
      for (uint32_t i = 0; i < cat->slot_count; ++i, ++slots) {
         const std::string callback = prefix + cat->slots[i].name;
         CAPTURE(callback);
         CHECK(host.app->metrics().calls("chat_a", callback) > 0);
      }
   }
   CHECK(slots == 53); // Synapse's 51 plus get_supported_login_types and on_login_response
}
