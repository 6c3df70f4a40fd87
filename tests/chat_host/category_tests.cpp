// category_tests.cpp - each category's combination rule with two or three fixture modules, through
// the chat host's typed dispatch and through the requests that reach it.
#include "support.hpp"

using json = nlohmann::json;
using test::Host;
using test::probe;

TEST_CASE("spam checker: the first answer other than not_spam wins and later modules are skipped") {
   SUBCASE("the second module refuses; the third is not asked") {
      Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 0}}}}),
                 probe("chat_b", "b", {{"answers", {{"check_event_for_spam", MODKIT_SPAM_LIMIT_EXCEEDED}}}}),
                 probe("chat_c", "c", {{"answers", {{"check_event_for_spam", MODKIT_SPAM_FORBIDDEN}}}})});
      chat::Trace trace;
      auto ctx = test::context(&trace);
      const auto d = host.modules().check_event_for_spam(ctx, test::message_event("hi"));
      CHECK(d.answer == MODKIT_SPAM_LIMIT_EXCEEDED);
      CHECK(d.module == "chat_b");
      CHECK(host.calls("check_event_for_spam") == std::vector<std::string>{"a:check_event_for_spam", "b:check_event_for_spam"});
      REQUIRE(trace.runs.size() == 1);
      CHECK(trace.runs[0].callback == "spam_checker.check_event_for_spam");
      CHECK(trace.runs[0].decided_by == "chat_b");
      CHECK(trace.runs[0].answers[1].answer == "M_LIMIT_EXCEEDED");
   }
   SUBCASE("everyone answers not_spam: no opinion") {
      Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 0}}}}),
                 probe("chat_b", "b", {{"answers", {{"check_event_for_spam", 0}}}})});
      auto ctx = test::context();
      const auto d = host.modules().check_event_for_spam(ctx, test::message_event("hi"));
      CHECK(d.answer == MODKIT_NOT_SPAM);
      CHECK(d.outcome.kind == modkit::Outcome::Kind::no_opinion);
      CHECK(d.module.empty());
   }
   SUBCASE("an error propagates and fails the request with 500") {
      Host host({probe("chat_a", "a", {{"errors", {{"check_event_for_spam", MODKIT_E_INTERNAL}}}}),
                 probe("chat_b", "b", {{"answers", {{"check_event_for_spam", 1}}}})});
      auto ctx = test::context();
      const auto d = host.modules().check_event_for_spam(ctx, test::message_event("hi"));
      CHECK(d.error());
      CHECK(d.module == "chat_a");
      CHECK(host.calls("check_event_for_spam").size() == 1);
      const std::string token = host.user("alice");
      const std::string room = host.room(token);
      const auto r = host.say(token, room, "hi");
      CHECK(r.status == 500);
      CHECK(host.app->metrics().errors("chat_a", "spam_checker.check_event_for_spam") >= 1);
   }
   SUBCASE("an answer outside the enum is an error, not a refusal code") {
      Host host({probe("chat_a", "a", {{"answers", {{"check_event_for_spam", 99}}}})});
      auto ctx = test::context();
      CHECK(host.modules().check_event_for_spam(ctx, test::message_event("hi")).error());
   }
}

TEST_CASE("spam checker: check_username_for_spam and should_drop_federated_event take the first true") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_username_for_spam", false}, {"should_drop_federated_event", false}}}}),
              probe("chat_b", "b", {{"answers", {{"check_username_for_spam", true}, {"should_drop_federated_event", true}}}}),
              probe("chat_c", "c", {{"answers", {{"check_username_for_spam", false}, {"should_drop_federated_event", false}}}})});
   auto ctx = test::context();
   const auto hidden = host.modules().check_username_for_spam(ctx, "@m:example.org", "M", std::nullopt, "@q:example.org");
   CHECK(hidden.answer);
   CHECK(hidden.module == "chat_b");
   const auto drop = host.modules().should_drop_federated_event(ctx, test::message_event("x"));
   CHECK(drop.answer);
   CHECK(drop.module == "chat_b");
   CHECK(host.calls("should_drop_federated_event").size() == 2);
}

TEST_CASE("spam checker: registration takes the first answer other than allow") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_registration_for_spam", MODKIT_REGISTRATION_ALLOW}}}}),
              probe("chat_b", "b", {{"answers", {{"check_registration_for_spam", MODKIT_REGISTRATION_SHADOW_BAN}}}}),
              probe("chat_c", "c", {{"answers", {{"check_registration_for_spam", MODKIT_REGISTRATION_DENY}}}})});
   const auto r = host.request("POST", "/_matrix/client/v3/register",
                               {{"username", "sam"}, {"password", "pw"}, {"auth", {{"type", "m.login.dummy"}}}});
   REQUIRE(r.status == 200);
   const std::string token = Host::body(r)["access_token"];
   std::lock_guard<std::mutex> lock(host.app->state().mutex);
   CHECK(host.app->state().users["@sam:example.org"].shadow_banned);
   CHECK(host.calls("check_registration_for_spam").size() == 2);
}

TEST_CASE("federated_user_may_invite chains into user_may_invite when nobody objects") {
   chat::EventArg invite = test::message_event("");
   invite.type = "m.room.member";
   invite.sender = "@remote:other.org";
   invite.state_key = "@bob:example.org";
   SUBCASE("every federated answer is not_spam: user_may_invite decides") {
      Host host({probe("chat_a", "a", {{"answers", {{"federated_user_may_invite", 0}, {"user_may_invite", 0}}}}),
                 probe("chat_b", "b", {{"answers", {{"federated_user_may_invite", 0}, {"user_may_invite", MODKIT_SPAM_FORBIDDEN}}}})});
      chat::Trace trace;
      auto ctx = test::context(&trace);
      const auto d = host.modules().federated_user_may_invite(ctx, invite);
      CHECK(d.answer == MODKIT_SPAM_FORBIDDEN);
      CHECK(d.module == "chat_b");
      CHECK(host.calls() == std::vector<std::string>{"a:federated_user_may_invite", "b:federated_user_may_invite",
                                                     "a:user_may_invite", "b:user_may_invite"});
      REQUIRE(trace.runs.size() == 2);
      CHECK(trace.runs[1].callback == "spam_checker.user_may_invite");
      CHECK(trace.runs[1].decided_by == "chat_b");
   }
   SUBCASE("a federated refusal stops the chain") {
      Host host({probe("chat_a", "a", {{"answers", {{"federated_user_may_invite", MODKIT_SPAM_FORBIDDEN}, {"user_may_invite", 0}}}})});
      auto ctx = test::context();
      const auto d = host.modules().federated_user_may_invite(ctx, invite);
      CHECK(d.answer == MODKIT_SPAM_FORBIDDEN);
      CHECK(host.calls("user_may_invite").empty());
   }
}

TEST_CASE("third-party rules: check_event_allowed stops at the first deny or replacement") {
   SUBCASE("a replacement from the first module wins; the second is not asked") {
      Host host({probe("chat_a", "a", {{"answers", {{"check_event_allowed", {{"verdict", 2}, {"content", {{"body", "[redacted]"}}}}}}}}),
                 probe("chat_b", "b", {{"answers", {{"check_event_allowed", 1}}}})});
      const std::string token = host.user("alice");
      // Room creation's events are replaced too; they keep their content key set by the module.
      host.clear();
      auto ctx = test::context();
      json replacement;
      const auto d = host.modules().check_event_allowed(ctx, test::message_event("hi"), json::object(), replacement);
      CHECK(d.answer == MODKIT_EVENT_REPLACE);
      CHECK(replacement["content"]["body"] == "[redacted]");
      CHECK(host.calls("check_event_allowed") == std::vector<std::string>{"a:check_event_allowed"});
   }
   SUBCASE("a deny refuses the message with 403") {
      Host host({probe("chat_a", "a", {{"answers", {{"check_event_allowed", 0}}}}),
                 probe("chat_b", "b", {{"answers", {{"check_event_allowed", {{"verdict", 0}}}}}})});
      const std::string token = host.user("alice");
      const std::string room = host.room(token);
      CHECK(host.say(token, room, "fine").status == 200);
   }
   SUBCASE("a replacement that is not an object is the module's error") {
      Host host({probe("chat_a", "a", {{"answers", {{"check_event_allowed", {{"verdict", 2}, {"raw", "[1,2]"}}}}}})});
      auto ctx = test::context();
      json replacement;
      CHECK(host.modules().check_event_allowed(ctx, test::message_event("hi"), json::object(), replacement).error());
   }
}

TEST_CASE("third-party rules: on_create_room hands each module the body the previous one left") {
   Host host({probe("chat_a", "a", {{"answers", {{"on_create_room", {{"append_topic", "+a"}}}}}}),
              probe("chat_b", "b", {{"answers", {{"on_create_room", {{"append_topic", "+b"}}}}}})});
   const std::string token = host.user("alice");
   const std::string room = host.room(token, {{"topic", "t"}});
   const auto r = host.request("GET", "/_matrix/client/v3/rooms/" + room + "/state/m.room.topic", nullptr, token);
   CHECK(Host::body(r)["topic"] == "t+a+b");

   SUBCASE("a deny refuses the room, and the next module is not asked") {
      Host deny({probe("chat_a", "a", {{"answers", {{"on_create_room", 1}}}}),
                 probe("chat_b", "b", {{"answers", {{"on_create_room", 0}}}})});
      const std::string t = deny.user("alice");
      const auto refused = deny.request("POST", "/_matrix/client/v3/createRoom", json::object(), t);
      CHECK(refused.status == 403);
      CHECK(deny.calls("on_create_room") == std::vector<std::string>{"a:on_create_room"});
   }
   SUBCASE("an error fails closed") {
      Host failing({probe("chat_a", "a", {{"errors", {{"on_create_room", MODKIT_E_INTERNAL}}}})});
      const std::string t = failing.user("alice");
      CHECK(failing.request("POST", "/_matrix/client/v3/createRoom", json::object(), t).status == 403);
   }
}

TEST_CASE("all-true callbacks: the first false denies; an error fails open where Synapse's does") {
   Host host({probe("chat_a", "a", {{"answers", {{"check_can_shutdown_room", true}, {"is_3pid_allowed", true}}}}),
              probe("chat_b", "b", {{"answers", {{"check_can_shutdown_room", false}}}, {"errors", {{"is_3pid_allowed", 4}}}}),
              probe("chat_c", "c", {{"answers", {{"check_can_shutdown_room", false}, {"is_3pid_allowed", true}}}})});
   auto ctx = test::context();
   const auto shut = host.modules().check_can_shutdown_room(ctx, std::string("@admin:example.org"), "!r:example.org");
   CHECK_FALSE(shut.answer);
   CHECK(shut.module == "chat_b");
   CHECK(host.calls("check_can_shutdown_room").size() == 2);
   // is_3pid_allowed fails closed: the error denies.
   const auto threepid = host.modules().is_3pid_allowed(ctx, "email", "a@b.c", true);
   CHECK_FALSE(threepid.answer);
   CHECK(threepid.outcome.kind == modkit::Outcome::Kind::failed_closed);
   SUBCASE("check_visibility_can_be_modified fails open: an erroring module is skipped") {
      Host open({probe("chat_a", "a", {{"errors", {{"check_visibility_can_be_modified", 4}}}}),
                 probe("chat_b", "b", {{"answers", {{"check_visibility_can_be_modified", true}}}})});
      const auto d = open.modules().check_visibility_can_be_modified(ctx, "!r:example.org", json::object(), "public");
      CHECK(d.answer);
      CHECK(open.calls("check_visibility_can_be_modified").size() == 2);
   }
}

TEST_CASE("notifications run every module, even after one fails") {
   Host host({probe("chat_a", "a", {{"errors", {{"on_account_data_updated", 4}, {"on_new_event", 4}}}}),
              probe("chat_b", "b", {{"answers", {{"on_account_data_updated", nullptr}, {"on_new_event", nullptr}}}})});
   const std::string token = host.user("alice");
   host.clear();
   const auto r = host.request("PUT", "/_matrix/client/v3/user/@alice:example.org/account_data/org.example.settings",
                               {{"theme", "dark"}}, token);
   CHECK(r.status == 200);
   CHECK(host.calls("on_account_data_updated") == std::vector<std::string>{"a:on_account_data_updated", "b:on_account_data_updated"});
   CHECK(host.app->metrics().errors("chat_a", "account_data.on_account_data_updated") == 1);
}

TEST_CASE("presence router: sets are unioned, and ALL short-circuits") {
   Host host({probe("chat_a", "a", {{"answers", {{"get_users_for_states", {{"@bob:example.org", {0}}}}, {"get_interested_users", {"@x:example.org"}}}}}),
              probe("chat_b", "b", {{"answers", {{"get_users_for_states", {{"@carol:example.org", {0}}}}, {"get_interested_users", "ALL"}}}}),
              probe("chat_c", "c", {{"answers", {{"get_users_for_states", json::object()}, {"get_interested_users", {"@y:example.org"}}}}})});
   auto ctx = test::context();
   const auto routes = host.modules().get_users_for_states(ctx, json::array({{{"user_id", "@alice:example.org"}}}));
   CHECK(routes.answer.size() == 2);
   CHECK(routes.answer.at("@bob:example.org") == std::set<size_t>{0});
   const auto interested = host.modules().get_interested_users(ctx, "@alice:example.org");
   CHECK(interested.answer.all);
   CHECK(interested.module == "chat_b");
   CHECK(host.calls("get_interested_users") == std::vector<std::string>{"a:get_interested_users", "b:get_interested_users"});
   SUBCASE("an index out of range makes that module's answer an error, skipped") {
      Host bad({probe("chat_a", "a", {{"answers", {{"get_users_for_states", {{"@bob:example.org", {5}}}}, {"get_interested_users", json::array()}}}}),
                probe("chat_b", "b", {{"answers", {{"get_users_for_states", {{"@carol:example.org", {0}}}}, {"get_interested_users", json::array()}}}})});
      const auto r = bad.modules().get_users_for_states(ctx, json::array({{{"user_id", "@alice:example.org"}}}));
      CHECK(r.answer.size() == 1);
      CHECK(r.answer.count("@carol:example.org") == 1);
      CHECK(bad.logged("index 5 for @bob:example.org is out of range"));
   }
}

TEST_CASE("account validity: the first module with an opinion decides is_user_expired") {
   Host host({probe("chat_a", "a", {{"answers", {{"is_user_expired", {{"@old:example.org", MODKIT_EXPIRY_NO_OPINION}}}}}}),
              probe("chat_b", "b", {{"answers", {{"is_user_expired", {{"@old:example.org", MODKIT_EXPIRY_EXPIRED}, {"@kept:example.org", MODKIT_EXPIRY_NOT_EXPIRED}}}}}}),
              probe("chat_c", "c", {{"answers", {{"is_user_expired", {{"@kept:example.org", MODKIT_EXPIRY_EXPIRED}}}}}})});
   const std::string old = host.user("old");
   const std::string kept = host.user("kept");
   const auto r = host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, old);
   CHECK(r.status == 403);
   CHECK(test::errcode(r) == "ORG_MATRIX_EXPIRED_ACCOUNT");
   CHECK(host.request("GET", "/_matrix/client/v3/account/whoami", nullptr, kept).status == 200);
   // Logout is the one authenticated request that skips the check.
   host.clear();
   CHECK(host.request("POST", "/_matrix/client/v3/logout", json::object(), old).status == 200);
   CHECK(host.calls("is_user_expired").empty());
}

TEST_CASE("extra unsigned fields: merged key by key, the last module wins, host keys kept") {
   Host host({probe("chat_a", "a", {{"answers", {{"add_field_to_unsigned", {{"org.x", 1}, {"shared", "a"}}}}}}),
              probe("chat_b", "b", {{"answers", {{"add_field_to_unsigned", {{"shared", "b"}, {"age", -1}}}}}})});
   auto ctx = test::context();
   const auto d = host.modules().add_field_to_unsigned(ctx, test::message_event("x"), {"age"});
   CHECK(d.answer == json{{"org.x", 1}, {"shared", "b"}});
   const std::string token = host.user("alice");
   const std::string room = host.room(token);
   host.say(token, room, "hello");
   const auto r = host.request("GET", "/_matrix/client/v3/rooms/" + room + "/messages?dir=b&limit=1", nullptr, token);
   const json event = Host::body(r)["chunk"][0];
   CHECK(event["unsigned"]["shared"] == "b");
   CHECK(event["unsigned"]["age"].get<int64_t>() >= 0);
}

TEST_CASE("background update controller: one owner for the whole category") {
   Host host({probe("chat_a", "a", {{"answers", {{"on_update", 50}}}}),
              probe("chat_b", "b", {{"answers", {{"on_update", 7}, {"default_batch_size", 3}, {"min_batch_size", 2}}}})});
   CHECK(test::any_contains(host.modules().warnings(), "module 'chat_b' registered modkit.background_update_controller callbacks, but module 'chat_a'"));
   auto ctx = test::context();
   CHECK(host.modules().on_update(ctx, "u", "main", false).answer == 50);
   // chat_a left default_batch_size null: the host's default applies, never chat_b's answer.
   const auto batch = host.modules().default_batch_size(ctx, "u", "main");
   CHECK(batch.outcome.kind == modkit::Outcome::Kind::no_opinion);
   CHECK(host.calls("default_batch_size").empty());
}

TEST_CASE("media repository and rate limit: first found wins") {
   Host host({probe("chat_a", "a", {{"answers", {{"get_media_config_for_user", json::object()}, {"get_ratelimit_override_for_user", nullptr}}}}),
              probe("chat_b", "b", {{"answers", {{"get_media_config_for_user", {{"m.upload.size", 10}}}, {"get_ratelimit_override_for_user", {{"per_second", 0.5}, {"burst_count", 2}}}}}}),
              probe("chat_c", "c", {{"answers", {{"get_media_config_for_user", {{"m.upload.size", 99}}}, {"get_ratelimit_override_for_user", {{"per_second", 9}, {"burst_count", 9}}}}}})});
   auto ctx = test::context();
   // chat_a's {} is passed over, as in Synapse.
   const auto config = host.modules().get_media_config_for_user(ctx, "@alice:example.org");
   REQUIRE(config.answer);
   CHECK((*config.answer)["m.upload.size"] == 10);
   CHECK(config.module == "chat_b");
   const auto over = host.modules().get_ratelimit_override_for_user(ctx, "@alice:example.org", "rc_invites.per_room");
   REQUIRE(over.answer);
   CHECK(over.answer->burst_count == 2);
   CHECK(over.module == "chat_b");
}

TEST_CASE("federation: every module hears of a delivery to a server with members in the room") {
   Host host({probe("chat_a", "a", {{"answers", {{"on_event_delivered_over_federation", nullptr}}}}),
              probe("chat_b", "b", {{"answers", {{"on_event_delivered_over_federation", nullptr}}}})});
   const std::string token = host.user("alice");
   const std::string room = host.room(token);
   CHECK(host.request("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {{"user_id", "@zed:other.org"}}, token).status == 200);
   host.clear();
   const auto r = host.say(token, room, "hello other.org");
   CHECK(r.status == 200);
   CHECK(host.calls("on_event_delivered_over_federation") ==
         std::vector<std::string>{"a:on_event_delivered_over_federation", "b:on_event_delivered_over_federation"});
   CHECK(test::any_contains(r.trace.notes, "to other.org over /send"));
}
