// accounts_tests.cpp - the requests that reach each remaining callback, end to end through the
// router: registration and login, third-party identifiers, deactivation, legacy account
// validity, invites and rate limits, media, presence, background updates and federation.
#include "support.hpp"

using json = nlohmann::json;
using test::Host;
using test::probe;

TEST_CASE("registration asks the password auth provider for names and the 3pid check") {
   Host host({probe("chat_a", "a", {{"answers", {{"get_username_for_registration", "chosen"}, {"get_displayname_for_registration", "Chosen One"},
                                                 {"is_3pid_allowed", true}, {"on_user_registration", nullptr}, {"on_user_login", nullptr},
                                                 {"on_add_user_third_party_identifier", nullptr}}}})});
   const json email_auth = {{"type", "m.login.email.identity"}, {"threepid", {{"medium", "email"}, {"address", "c@example.org"}}}};
   const auto r = host.request("POST", "/_matrix/client/v3/register", {{"username", "ignored"}, {"password", "pw"}, {"auth", email_auth}});
   REQUIRE(r.status == 200);
   CHECK(Host::body(r)["user_id"] == "@chosen:example.org");
   CHECK(host.calls() == std::vector<std::string>{"a:is_3pid_allowed", "a:get_username_for_registration",
                                                  "a:get_displayname_for_registration", "a:on_user_registration",
                                                  "a:on_add_user_third_party_identifier", "a:on_user_login"});
   const std::string token = Host::body(r)["access_token"];
   const auto profile = host.request("GET", "/_matrix/client/v3/profile/@chosen:example.org/displayname", nullptr, token);
   CHECK(Host::body(profile)["displayname"] == "Chosen One");

   SUBCASE("a refused third-party identifier stops registration") {
      Host refusing({probe("chat_a", "a", {{"answers", {{"is_3pid_allowed", false}}}})});
      const auto denied = refusing.request("POST", "/_matrix/client/v3/register", {{"username", "x"}, {"password", "pw"}, {"auth", email_auth}});
      CHECK(denied.status == 403);
      CHECK(test::errcode(denied) == "M_THREEPID_DENIED");
   }
   SUBCASE("check_registration_for_spam can deny") {
      Host denying({probe("chat_a", "a", {{"answers", {{"check_registration_for_spam", MODKIT_REGISTRATION_DENY}}}})});
      CHECK(denying.request("POST", "/_matrix/client/v3/register", {{"username", "x"}, {"password", "pw"}, {"auth", {{"type", "m.login.dummy"}}}}).status == 403);
   }
}

TEST_CASE("login: module types, 3pid logins, the login spam check and on_login_response for the authenticating module") {
   Host host({probe("chat_a", "a", {{"answers", {{"get_supported_login_types", {{"org.example.ticket", {"ticket"}}}},
                                                 {"auth_checkers", {{"user_id", "@newcomer:example.org"}, {"when", {{"ticket", "t-1"}}}}},
                                                 {"on_login_response", nullptr}, {"check_3pid_auth", {{"address", "bob@example.org"}, {"password", "mail-pw"}, {"user_id", "@bob:example.org"}}},
                                                 {"on_logged_out", nullptr}}}}),
              probe("chat_b", "b", {{"answers", {{"check_login_for_spam", 0}, {"on_login_response", nullptr}}}})});
   CHECK(host.request("POST", "/_matrix/client/v3/login", {{"type", "org.example.ticket"}}).status == 400);
   CHECK(test::errcode(host.request("POST", "/_matrix/client/v3/login", {{"type", "org.example.ticket"}})) == "M_MISSING_PARAM");
   CHECK(host.request("POST", "/_matrix/client/v3/login", {{"type", "org.example.ticket"}, {"ticket", "wrong"}}).status == 403);
   host.clear();
   const auto r = host.request("POST", "/_matrix/client/v3/login", {{"type", "org.example.ticket"}, {"ticket", "t-1"}});
   REQUIRE(r.status == 200);
   CHECK(Host::body(r)["user_id"] == "@newcomer:example.org"); // created on its first login
   // Only the module that authenticated hears the response.
   CHECK(host.calls("on_login_response") == std::vector<std::string>{"a:on_login_response"});
   CHECK(host.calls("check_login_for_spam") == std::vector<std::string>{"b:check_login_for_spam"});

   host.user("bob");
   const auto by_mail = host.request("POST", "/_matrix/client/v3/login",
                                     {{"type", "m.login.password"}, {"identifier", {{"type", "m.id.thirdparty"}, {"medium", "email"}, {"address", "bob@example.org"}}}, {"password", "mail-pw"}});
   CHECK(by_mail.status == 200);
   CHECK(Host::body(by_mail)["user_id"] == "@bob:example.org");
   CHECK(host.request("POST", "/_matrix/client/v3/login", {{"type", "m.login.nonsense"}}).status == 400);

   const std::string token = Host::body(by_mail)["access_token"];
   host.clear();
   CHECK(host.request("POST", "/_matrix/client/v3/logout", json::object(), token).status == 200);
   CHECK(host.calls("on_logged_out") == std::vector<std::string>{"a:on_logged_out"});
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, token).status == 401);

   SUBCASE("check_login_for_spam refuses with its code") {
      Host refusing({probe("chat_a", "a", {{"answers", {{"check_login_for_spam", MODKIT_SPAM_LIMIT_EXCEEDED}}}})});
      refusing.user("carol");
      const auto refused = refusing.request("POST", "/_matrix/client/v3/login",
                                            {{"type", "m.login.password"}, {"user", "carol"}, {"password", "pw-carol"}});
      CHECK(refused.status == 403);
      CHECK(test::errcode(refused) == "M_LIMIT_EXCEEDED");
   }
}

TEST_CASE("deactivation, third-party identifiers and profile updates reach the third-party rules") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_can_deactivate_user", true}, {"on_user_deactivation_status_changed", nullptr},
                                                 {"on_add_user_third_party_identifier", nullptr}, {"on_remove_user_third_party_identifier", nullptr},
                                                 {"on_threepid_bind", nullptr}, {"on_profile_update", nullptr}}}}),
              probe("chat_b", "b", {{"answers", {{"check_can_deactivate_user", {{"@keep:example.org", false}}}}}})});
   const std::string admin = host.admin();
   const std::string alice = host.user("alice");
   host.clear();
   CHECK(host.request("PUT", "/_synapse/admin/v2/users/@alice:example.org",
                      {{"threepids", {{{"medium", "email"}, {"address", "alice@example.org"}}}}, {"displayname", "Alice"}}, admin).status == 200);
   CHECK(host.request("POST", "/_matrix/client/v3/account/3pid/bind", {{"medium", "msisdn"}, {"address", "123"}, {"id_server", "id.example.org"}}, alice).status == 200);
   CHECK(host.request("PUT", "/_synapse/admin/v2/users/@alice:example.org", {{"threepids", json::array()}}, admin).status == 200);
   CHECK(host.calls() == std::vector<std::string>{"a:on_profile_update", "a:on_add_user_third_party_identifier", "a:on_threepid_bind",
                                                  "a:on_remove_user_third_party_identifier"});
   host.clear();
   const auto d = host.request("POST", "/_synapse/admin/v1/deactivate/@alice:example.org", {{"erase", true}}, admin);
   CHECK(d.status == 200);
   CHECK(host.calls() == std::vector<std::string>{"a:check_can_deactivate_user", "b:check_can_deactivate_user", "a:on_profile_update",
                                                  "a:on_user_deactivation_status_changed"});
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, alice).status == 401);

   SUBCASE("a module refuses a deactivation with 403") {
      host.user("keep");
      const auto keep = host.request("POST", "/_synapse/admin/v1/deactivate/@keep:example.org", json::object(), admin);
      CHECK(keep.status == 403);
   }
   SUBCASE("admins only") {
      const std::string bob = host.user("bob");
      CHECK(host.request("POST", "/_synapse/admin/v1/deactivate/@admin:example.org", json::object(), bob).status == 403);
   }
}

TEST_CASE("legacy account validity hooks serve the renewal and admin endpoints") {
   Host host({probe("chat_a", "a", {{"answers", {{"on_legacy_send_mail", nullptr}, {"on_legacy_renew", {{"token", "r1"}, {"expiration_ts", 42}}},
                                                 {"on_legacy_admin_request", 7}}}})});
   const std::string admin = host.admin();
   CHECK(host.request("POST", "/_matrix/client/unstable/account_validity/send_mail", json::object(), admin).status == 200);
   const auto renew = host.request("GET", "/_matrix/client/unstable/account_validity/renew?token=r1");
   CHECK(Host::body(renew)["expiration_ts"] == 42);
   CHECK(host.request("GET", "/_matrix/client/unstable/account_validity/renew?token=zz").status == 404);
   const auto validity = host.request("POST", "/_synapse/admin/v1/account_validity/validity",
                                      {{"user_id", "@admin:example.org"}, {"expiration_ts", 1}}, admin);
   CHECK(Host::body(validity)["expiration_ts"] == 1);
   // The host's own record now says the account expired long ago: with no module opinion, 403.
   CHECK(test::errcode(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, admin)) == "ORG_MATRIX_EXPIRED_ACCOUNT");
   SUBCASE("without an owner the endpoints do not exist") {
      Host none({probe("chat_a", "a")});
      const std::string t = none.user("x");
      CHECK(none.request("POST", "/_matrix/client/unstable/account_validity/send_mail", json::object(), t).status == 404);
   }
}

TEST_CASE("invites: rate limit overrides, user_may_invite, 3pid invites") {
   Host host({probe("chat_a", "a", {{"answers", {{"get_ratelimit_override_for_user", {{"rc_invites.per_issuer", {{"per_second", 0.001}, {"burst_count", 2}}}}},
                                                 {"user_may_invite", {{"@mallory:example.org", MODKIT_SPAM_FORBIDDEN}}},
                                                 {"check_threepid_can_be_invited", true}, {"user_may_send_3pid_invite", 0}}}})});
   const std::string alice = host.user("alice");
   for (const char *u : {"bob", "carol", "dave", "mallory"}) host.user(u);
   const std::string room = host.room(alice);
   const std::string path = "/_matrix/client/v3/rooms/" + room + "/invite";
   CHECK(host.request("POST", path, {{"user_id", "@mallory:example.org"}}, alice).status == 403);
   CHECK(host.request("POST", path, {{"user_id", "@bob:example.org"}}, alice).status == 200);
   const auto limited = host.request("POST", path, {{"user_id", "@carol:example.org"}}, alice);
   CHECK(limited.status == 429);
   CHECK(test::errcode(limited) == "M_LIMIT_EXCEEDED");
   CHECK(Host::body(limited)["retry_after_ms"].get<int64_t>() > 0);
   const auto third = host.request("POST", path, {{"medium", "email"}, {"address", "x@y.org"}, {"id_server", "id.example.org"}}, alice);
   CHECK(third.status == 200);
   CHECK(host.calls("check_threepid_can_be_invited").size() == 1);
   CHECK(host.calls("user_may_send_3pid_invite").size() == 1);
}

TEST_CASE("joining, state events and visibility reach their checks") {
   Host host({probe("chat_a", "a", {{"answers", {{"user_may_join_room", 0}, {"user_may_send_state_event", {{"m.room.avatar", 1}}},
                                                 {"check_visibility_can_be_modified", false}, {"user_may_publish_room", 0},
                                                 {"user_may_create_room_alias", MODKIT_SPAM_FORBIDDEN}}}})});
   const std::string alice = host.user("alice");
   const std::string bob = host.user("bob");
   const std::string room = host.room(alice, {{"preset", "public_chat"}});
   CHECK(host.request("POST", "/_matrix/client/v3/join/" + room, json::object(), bob).status == 200);
   CHECK(host.calls("user_may_join_room").size() == 1);
   CHECK(host.request("PUT", "/_matrix/client/v3/rooms/" + room + "/state/m.room.join_rules", {{"join_rule", "invite"}}, alice).status == 403);
   CHECK(host.request("PUT", "/_matrix/client/v3/directory/list/room/" + room, {{"visibility", "public"}}, alice).status == 403);
   CHECK(host.request("PUT", "/_matrix/client/v3/rooms/" + room + "/state/m.room.topic", {{"topic", "t"}}, alice).status == 200);
   CHECK(host.request("PUT", "/_matrix/client/v3/rooms/" + room + "/state/m.room.avatar", {{"url", "mxc://x/y"}}, alice).status == 403);
   CHECK(host.request("PUT", "/_matrix/client/v3/directory/room/%23lobby:example.org", {{"room_id", room}}, alice).status == 403);
   CHECK(host.request("PUT", "/_matrix/client/v3/rooms/" + room + "/state/m.room.topic", {{"topic", "t"}}, bob).status == 403); // power
}

TEST_CASE("media: size checks, per-user limits, the spam check and the config") {
   Host host({probe("chat_a", "a", {{"answers", {{"is_user_allowed_to_upload_media_of_size", 100}, {"get_media_upload_limits_for_user", {{{"max_bytes", 30}, {"time_period_ms", 60000}}}},
                                                 {"on_media_upload_limit_exceeded", nullptr}, {"check_media_file_for_spam", 0},
                                                 {"get_media_config_for_user", {{"m.upload.size", 100}}}}}})});
   const std::string alice = host.user("alice");
   auto upload = [&](const std::string &bytes) {
      chat::Request r;
      r.method = "POST";
      r.path = "/_matrix/media/v3/upload";
      r.headers = {{"authorization", "Bearer " + alice}, {"content-type", "text/plain"}};
      r.body = bytes;
      return host.app->router().handle(r);
   };
   const auto first = upload(std::string(20, 'x'));
   REQUIRE(first.status == 200);
   const std::string uri = Host::body(first)["content_uri"];
   CHECK(upload(std::string(200, 'x')).status == 413);
   const auto over = upload(std::string(20, 'y'));
   CHECK(over.status == 400);
   CHECK(test::errcode(over) == "M_RESOURCE_LIMIT_EXCEEDED");
   CHECK(host.calls("on_media_upload_limit_exceeded").size() == 1);
   CHECK(Host::body(host.request("GET", "/_matrix/client/v1/media/config", nullptr, alice))["m.upload.size"] == 100);
   const auto download = host.request("GET", "/_matrix/client/v1/media/download/" + uri.substr(6), nullptr, alice);
   CHECK(download.body == std::string(20, 'x'));
}

TEST_CASE("presence: routed to room members and to whom the modules add") {
   Host host({probe("chat_a", "a", {{"answers", {{"get_users_for_states", {{"@carol:example.org", {0}}}}, {"get_interested_users", {"@nobody:example.org"}}}}})});
   const std::string alice = host.user("alice");
   const std::string bob = host.user("bob");
   const std::string carol = host.user("carol");
   const std::string dave = host.user("dave");
   const std::string room = host.room(alice, {{"preset", "public_chat"}});
   host.request("POST", "/_matrix/client/v3/join/" + room, json::object(), bob);
   const auto r = host.request("PUT", "/_matrix/client/v3/presence/@alice:example.org/status", {{"presence", "online"}}, alice);
   CHECK(r.status == 200);
   CHECK(test::any_contains(r.trace.notes, "delivered to @alice:example.org, @bob:example.org, @carol:example.org"));
   CHECK_FALSE(test::any_contains(r.trace.notes, "@dave"));
   CHECK(host.request("GET", "/_matrix/client/v3/presence/@alice:example.org/status", nullptr, dave).status == 403);
   CHECK(Host::body(host.request("GET", "/_matrix/client/v3/presence/@alice:example.org/status", nullptr, bob))["presence"] == "online");
   const auto sync = Host::body(host.request("GET", "/_matrix/client/v3/sync", nullptr, carol));
   CHECK(sync["presence"]["events"][0]["sender"] == "@alice:example.org");
}

TEST_CASE("background updates run in batches the controller paces") {
   Host host({probe("chat_a", "a", {{"answers", {{"on_update", 5}, {"default_batch_size", 1}, {"min_batch_size", 1}}}})});
   const std::string admin = host.admin();
   for (const char *u : {"b", "c", "d"}) host.user(u);
   const auto r = host.request("POST", "/_synapse/admin/v1/background_updates/start_job", {{"job_name", "regenerate_directory"}}, admin);
   REQUIRE(r.status == 200);
   const json body = Host::body(r);
   CHECK(body["items"] == 4);
   CHECK(body["iterations"][0]["batch_size"] == 1);
   CHECK(body["iterations"][0]["target_duration_ms"] == 5);
   CHECK(host.calls("on_update").size() == body["iterations"].size());
   const auto once = Host::body(host.request("POST", "/_synapse/admin/v1/background_updates/start_job",
                                             {{"job_name", "populate_stats_process_rooms"}, {"one_shot", true}}, admin));
   CHECK(once["iterations"].size() <= 1);
   CHECK(host.request("POST", "/_synapse/admin/v1/background_updates/start_job", {{"job_name", "nope"}}, admin).status == 400);
}

TEST_CASE("inbound federation: dropped, soft-failed, rejected or accepted; invites chained") {
   Host host({probe("chat_a", "a", {{"answers", {{"should_drop_federated_event", false}, {"check_event_for_spam", {{"if_contains", "spam"}, {"result", 1}}},
                                                 {"check_event_allowed", 0}, {"federated_user_may_invite", 0}, {"user_may_invite", 0},
                                                 {"check_can_shutdown_room", true}}}})});
   const std::string admin = host.admin();
   const std::string bob = host.user("bob");
   const json invite = {{"event", {{"room_id", "!far:other.org"}, {"sender", "@zoe:other.org"}, {"type", "m.room.member"},
                                   {"state_key", "@bob:example.org"}, {"content", {{"membership", "invite"}}}}}};
   CHECK(host.request("POST", "/_synapse/admin/v1/federation/invite", invite, admin).status == 200);
   CHECK(host.calls() == std::vector<std::string>{"a:should_drop_federated_event", "a:federated_user_may_invite", "a:user_may_invite"});
   CHECK(host.request("POST", "/_matrix/client/v3/rooms/!far:other.org/join", json::object(), bob).status == 200);
   const json pdus = {{"origin", "other.org"},
                      {"pdus", {{{"room_id", "!far:other.org"}, {"sender", "@zoe:other.org"}, {"type", "m.room.message"}, {"content", {{"body", "spam!"}}}},
                                {{"room_id", "!far:other.org"}, {"sender", "@zoe:other.org"}, {"type", "m.room.message"}, {"content", {{"body", "hi"}}}}}}};
   const auto sent = host.request("POST", "/_synapse/admin/v1/federation/send", pdus, admin);
   REQUIRE(sent.status == 200);
   CHECK(test::any_contains(sent.trace.notes, "soft-failed by chat_a"));
   CHECK(test::any_contains(sent.trace.notes, "accepted"));
   const auto messages = Host::body(host.request("GET", "/_matrix/client/v3/rooms/!far:other.org/messages?limit=10", nullptr, bob));
   CHECK(messages["chunk"][0]["content"]["body"] == "hi"); // the soft-failed event is never served
   CHECK(host.request("POST", "/_synapse/admin/v1/federation/send", {{"origin", "other.org"}, {"pdus", {{{"room_id", "!far:other.org"}, {"sender", "@eve:evil.org"}, {"type", "m.room.message"}, {"content", json::object()}}}}}, admin).status == 400);
   CHECK(host.request("DELETE", "/_synapse/admin/v1/rooms/!far:other.org", json::object(), admin).status == 200);
   CHECK(host.calls("check_can_shutdown_room").size() == 1);
}
