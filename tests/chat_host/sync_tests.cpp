// sync_tests.cpp - /sync as Matrix clients use it, through the router: waiting for news,
// filters, full state on join, gaps recovered through /messages, ephemeral events, unread counts,
// redaction, profile changes as member events, and the room reading endpoints.
#include "support.hpp"
#include "sync_filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include <chrono>
#include <thread>

namespace sync_tests {

using namespace test;
const std::string c = "/_matrix/client/v3";

// Two users in one room, alice its creator.
struct Pair {
   Host host{probe("chat_a", "a", {{"answers", {{"check_event_for_spam", {{"if_contains", "casino"}, {"result", 1}}}}}})};
   std::string alice = host.user("alice"), bob = host.user("bob");
   std::string room = host.room(alice, {{"invite", {"@bob:example.org"}}});
   Pair() { REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200); }

   json sync(const std::string &token, const std::string &query = "") {
      const auto r = host.request("GET", c + "/sync" + (query.empty() ? "" : "?" + query), nullptr, token);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      return Host::body(r);
   }
   std::string say(const std::string &token, const std::string &text) {
      const auto r = host.say(token, room, text);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      return Host::body(r)["event_id"];
   }
   const json &joined(const json &sync) const { return sync.at("rooms").at("join").at(room); }
   static std::vector<std::string> bodies(const json &events) {
      std::vector<std::string> out;
      for (const auto &e : events)
         if (e["type"] == "m.room.message") out.push_back(e["content"].value("body", ""));
      return out;
   }
};

std::string encoded(const json &filter) {
   std::string out;
   for (const char ch : filter.dump()) {
      if (std::isalnum(static_cast<unsigned char>(ch))) out += ch;
      else out += fmt::format("%{:02X}", static_cast<unsigned char>(ch));
   }
   return out;
}

TEST_CASE("sync: an incremental sync waits for news until its timeout, and a message wakes it") {
   Pair p;
   const std::string since = p.sync(p.bob)["next_batch"];
   SUBCASE("nothing happens: an empty answer at the timeout, the same position") {
      const auto start = std::chrono::steady_clock::now();
      const json idle = p.sync(p.bob, "since=" + since + "&timeout=300");
      CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(290)); // whole ms on the wall clock
      CHECK(idle["rooms"]["join"].empty());
      CHECK(idle["next_batch"] == since);
   }
   SUBCASE("a message from another thread ends the wait with it") {
      std::thread writer([&] {
         std::this_thread::sleep_for(std::chrono::milliseconds(100));
         p.say(p.alice, "wake up");
      });
      const json woken = p.sync(p.bob, "since=" + since + "&timeout=30000");
      writer.join();
      CHECK(Pair::bodies(p.joined(woken)["timeline"]["events"]) == std::vector<std::string>{"wake up"});
      CHECK(woken["next_batch"] != since);
      CHECK(p.host.app->state().notifier.waiting() == 0);
   }
   SUBCASE("news for someone else does not answer") {
      const std::string carol = p.host.user("carol");
      const std::string other = p.host.room(carol);
      std::thread writer([&] {
         std::this_thread::sleep_for(std::chrono::milliseconds(50));
         CHECK(p.host.say(carol, other, "not for bob").status == 200);
      });
      const json idle = p.sync(p.bob, "since=" + since + "&timeout=400");
      writer.join();
      CHECK(idle["rooms"]["join"].empty());
   }
   SUBCASE("bad tokens and timeouts are refused") {
      CHECK(errcode(p.host.request("GET", c + "/sync?since=12", nullptr, p.bob)) == "M_INVALID_PARAM");
      CHECK(errcode(p.host.request("GET", c + "/sync?timeout=-1", nullptr, p.bob)) == "M_INVALID_PARAM");
   }
}

TEST_CASE("sync: a timeline limit makes a gap that /messages fills from prev_batch") {
   Pair p;
   const std::string since = p.sync(p.bob)["next_batch"];
   std::vector<std::string> sent;
   for (int i = 0; i < 15; ++i) p.say(p.alice, sent.emplace_back("m" + std::to_string(i)));
   const json filter = {{"room", {{"timeline", {{"limit", 5}}}}}};
   const json s = p.sync(p.bob, "since=" + since + "&filter=" + encoded(filter));
   const json timeline = p.joined(s)["timeline"];
   CHECK(Pair::bodies(timeline["events"]) == std::vector<std::string>(sent.end() - 5, sent.end()));
   CHECK(timeline["limited"] == true);
   // Back from prev_batch: the ten before, newest first, none repeated.
   const auto page = Host::body(p.host.request(
      "GET", c + "/rooms/" + p.room + "/messages?dir=b&limit=10&from=" + timeline["prev_batch"].get<std::string>(), nullptr, p.bob));
   auto older = Pair::bodies(page["chunk"]);
   std::reverse(older.begin(), older.end());
   CHECK(older == std::vector<std::string>(sent.begin(), sent.begin() + 10));
   // And forwards again from where that page ended: the same ten, oldest first.
   const auto forward = Host::body(p.host.request(
      "GET", c + "/rooms/" + p.room + "/messages?dir=f&limit=10&from=" + page["end"].get<std::string>(), nullptr, p.bob));
   CHECK(Pair::bodies(forward["chunk"]) == std::vector<std::string>(sent.begin(), sent.begin() + 10));
   SUBCASE("without a gap, limited is false") {
      const json next = p.sync(p.bob, "since=" + s["next_batch"].get<std::string>() + "&filter=" + encoded(filter));
      CHECK(next["rooms"]["join"].empty());
      p.say(p.alice, "one more");
      const json last = p.sync(p.bob, "since=" + s["next_batch"].get<std::string>() + "&filter=" + encoded(filter));
      CHECK(p.joined(last)["timeline"]["limited"] == false);
   }
   SUBCASE("the whole history ends with no end token") {
      const auto all = Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/messages?dir=b&limit=1000", nullptr, p.bob));
      CHECK(all["chunk"].size() > 15);
      const auto past = Host::body(p.host.request(
         "GET", c + "/rooms/" + p.room + "/messages?dir=b&limit=10&from=" + all["end"].get<std::string>(), nullptr, p.bob));
      CHECK(past["chunk"].empty());
      CHECK_FALSE(past.contains("end"));
   }
}

TEST_CASE("sync: filters are stored per user, applied by ID or inline, and refused with the field named") {
   Pair p;
   const json filter = {{"room", {{"timeline", {{"types", {"m.room.message"}}, {"limit", 3}}}}}};
   const auto made = p.host.request("POST", c + "/user/@bob:example.org/filter", filter, p.bob);
   REQUIRE(made.status == 200);
   const std::string id = Host::body(made)["filter_id"];
   CHECK(Host::body(p.host.request("GET", c + "/user/@bob:example.org/filter/" + id, nullptr, p.bob)) == filter);
   p.say(p.alice, "hello");
   const json s = p.sync(p.bob, "filter=" + id);
   for (const auto &e : p.joined(s)["timeline"]["events"]) CHECK(e["type"] == "m.room.message");
   CHECK(p.joined(s)["timeline"]["events"].size() == 1);

   CHECK(p.host.request("GET", c + "/user/@bob:example.org/filter/" + id, nullptr, p.alice).status == 403);
   CHECK(p.host.request("POST", c + "/user/@bob:example.org/filter", filter, p.alice).status == 403);
   CHECK(errcode(p.host.request("GET", c + "/sync?filter=99", nullptr, p.bob)) == "M_NOT_FOUND");
   const auto bad = p.host.request("POST", c + "/user/@bob:example.org/filter",
                                   {{"room", {{"timeline", {{"limit", -1}}}}}}, p.bob);
   CHECK(errcode(bad) == "M_BAD_JSON");
   CHECK(Host::body(bad)["error"].get<std::string>().find("filter.room.timeline.limit") != std::string::npos);
   CHECK(errcode(p.host.request("GET", c + "/sync?filter=%7Bnope", nullptr, p.bob)) == "M_BAD_JSON");
   CHECK(chat::type_matches("m.room.*", "m.room.message"));
   CHECK_FALSE(chat::type_matches("m.room.*", "m.reaction"));
   CHECK(chat::type_matches("*", ""));
}

TEST_CASE("sync: a room joined since the last sync arrives with its full state; lazy loading sends the speakers") {
   Host host{probe("chat_a", "a")};
   const std::string alice = host.user("alice"), bob = host.user("bob"), carol = host.user("carol");
   const std::string room = host.room(alice, {{"preset", "public_chat"}, {"name", "Lobby"}});
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), carol).status == 200);
   for (int i = 0; i < 12; ++i) REQUIRE(host.say(alice, room, "before bob").status == 200);
   const std::string since = Host::body(host.request("GET", c + "/sync", nullptr, bob))["next_batch"];
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200);
   const json s = Host::body(host.request("GET", c + "/sync?since=" + since, nullptr, bob));
   const json joined = s["rooms"]["join"][room];
   std::set<std::string> state;
   for (const auto &e : joined["state"]["events"]) state.insert(e["type"].get<std::string>() + "|" + e.value("state_key", ""));
   for (const char *expected : {"m.room.create|", "m.room.power_levels|", "m.room.join_rules|", "m.room.name|",
                                "m.room.member|@alice:example.org", "m.room.member|@carol:example.org"})
      CHECK_MESSAGE(state.count(expected), expected);
   CHECK(joined["summary"]["m.joined_member_count"] == 3);
   // Bob's own join is in the timeline, so not in the state before it.
   CHECK_FALSE(state.count("m.room.member|@bob:example.org"));

   const json lazy = {{"room", {{"state", {{"lazy_load_members", true}}}}}};
   const json l = Host::body(host.request("GET", c + "/sync?filter=" + encoded(lazy), nullptr, bob));
   std::set<std::string> members;
   for (const auto &e : l["rooms"]["join"][room]["state"]["events"])
      if (e["type"] == "m.room.member") members.insert(e["state_key"]);
   // Carol said nothing in the timeline: lazy loading leaves her out.
   CHECK_FALSE(members.count("@carol:example.org"));
}

TEST_CASE("sync: typing and receipts are ephemeral events; unread counts follow receipts and push rules") {
   Pair p;
   const std::string since = p.sync(p.bob)["next_batch"];
   REQUIRE(p.host.request("PUT", c + "/rooms/" + p.room + "/typing/@alice:example.org", {{"typing", true}, {"timeout", 30000}},
                          p.alice).status == 200);
   const json typing = p.sync(p.bob, "since=" + since);
   CHECK(p.joined(typing)["ephemeral"]["events"][0] ==
         json{{"type", "m.typing"}, {"content", {{"user_ids", {"@alice:example.org"}}}}});
   CHECK(p.host.request("PUT", c + "/rooms/" + p.room + "/typing/@alice:example.org", {{"typing", true}}, p.bob).status == 403);
   CHECK(errcode(p.host.request("PUT", c + "/rooms/" + p.room + "/typing/@alice:example.org", {{"typing", "yes"}}, p.alice)) ==
         "M_BAD_JSON");

   p.say(p.alice, "one");
   p.say(p.alice, "two");
   const std::string last = p.say(p.alice, "hey bob, three");
   const json unread = p.sync(p.bob, "since=" + typing["next_batch"].get<std::string>());
   CHECK(p.joined(unread)["unread_notifications"] == json{{"notification_count", 3}, {"highlight_count", 1}});

   REQUIRE(p.host.request("POST", c + "/rooms/" + p.room + "/receipt/m.read/" + last, json::object(), p.bob).status == 200);
   const json read = p.sync(p.bob, "since=" + unread["next_batch"].get<std::string>());
   CHECK(p.joined(read)["unread_notifications"]["notification_count"] == 0);
   const json seen = p.sync(p.alice, "since=" + unread["next_batch"].get<std::string>());
   json receipt;
   for (const auto &e : p.joined(seen)["ephemeral"]["events"])
      if (e["type"] == "m.receipt") receipt = e;
   CHECK_MESSAGE(receipt["content"][last]["m.read"].contains("@bob:example.org"), seen.dump());

   SUBCASE("private receipts and read markers stay with their reader") {
      REQUIRE(p.host.request("POST", c + "/rooms/" + p.room + "/read_markers",
                             {{"m.fully_read", last}, {"m.read.private", last}}, p.alice).status == 200);
      const json mine = p.sync(p.alice, "since=" + seen["next_batch"].get<std::string>());
      CHECK(p.joined(mine)["account_data"]["events"][0]["type"] == "m.fully_read");
      const json theirs = p.sync(p.bob, "since=" + seen["next_batch"].get<std::string>() + "&timeout=0");
      CHECK(theirs["rooms"]["join"].empty());
   }
   SUBCASE("unknown events and receipt types are refused") {
      CHECK(errcode(p.host.request("POST", c + "/rooms/" + p.room + "/receipt/m.read/$nope", json::object(), p.bob)) == "M_NOT_FOUND");
      CHECK(errcode(p.host.request("POST", c + "/rooms/" + p.room + "/receipt/m.seen/" + last, json::object(), p.bob)) ==
            "M_INVALID_PARAM");
   }
}

TEST_CASE("sync: typing that times out is announced to a waiting sync when it does") {
   Pair p;
   REQUIRE(p.host.request("PUT", c + "/rooms/" + p.room + "/typing/@alice:example.org", {{"typing", true}, {"timeout", 300}},
                          p.alice).status == 200);
   const json started = p.sync(p.bob);
   REQUIRE(p.joined(started)["ephemeral"]["events"].size() == 1);
   const auto start = std::chrono::steady_clock::now();
   const json stopped = p.sync(p.bob, "since=" + started["next_batch"].get<std::string>() + "&timeout=20000");
   const auto waited = std::chrono::steady_clock::now() - start;
   CHECK(p.joined(stopped)["ephemeral"]["events"][0] == json{{"type", "m.typing"}, {"content", {{"user_ids", json::array()}}}});
   CHECK(waited < std::chrono::seconds(10)); // at the timeout, not at the end of the long poll
}

TEST_CASE("sync: invites, and rooms left since the last sync") {
   Host host{probe("chat_a", "a")};
   const std::string alice = host.user("alice"), bob = host.user("bob");
   const std::string since = Host::body(host.request("GET", c + "/sync", nullptr, bob))["next_batch"];
   const std::string room = host.room(alice, {{"invite", {"@bob:example.org"}}, {"name", "Secret"}});
   const json invited = Host::body(host.request("GET", c + "/sync?since=" + since, nullptr, bob));
   std::set<std::string> types;
   for (const auto &e : invited["rooms"]["invite"][room]["invite_state"]["events"]) types.insert(e["type"]);
   CHECK(types == std::set<std::string>{"m.room.create", "m.room.join_rules", "m.room.member", "m.room.name"});
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/join", json::object(), bob).status == 200);
   const std::string before = Host::body(host.request("GET", c + "/sync", nullptr, bob))["next_batch"];
   REQUIRE(host.request("POST", c + "/rooms/" + room + "/leave", json::object(), bob).status == 200);
   const json left = Host::body(host.request("GET", c + "/sync?since=" + before, nullptr, bob));
   REQUIRE(left["rooms"]["leave"].contains(room));
   CHECK(left["rooms"]["leave"][room]["timeline"]["events"].back()["content"]["membership"] == "leave");
   CHECK_FALSE(left["rooms"]["join"].contains(room));
}

TEST_CASE("redaction: prunes the event, is checked like any event, and needs power for another's event") {
   Pair p;
   const std::string message = p.say(p.alice, "secret words");
   CHECK(errcode(p.host.request("PUT", c + "/rooms/" + p.room + "/redact/" + message + "/r1", json::object(), p.bob)) ==
         "M_FORBIDDEN");
   // A redaction a spam checker refuses is not made.
   CHECK(p.host.request("PUT", c + "/rooms/" + p.room + "/redact/" + message + "/r2", {{"reason", "casino"}}, p.alice).status ==
         403);
   const auto made = p.host.request("PUT", c + "/rooms/" + p.room + "/redact/" + message + "/r3", {{"reason", "oops"}}, p.alice);
   REQUIRE_MESSAGE(made.status == 200, made.body);
   const std::string redaction = Host::body(made)["event_id"];
   // The same transaction again: the same redaction.
   CHECK(Host::body(p.host.request("PUT", c + "/rooms/" + p.room + "/redact/" + message + "/r3", {{"reason", "oops"}}, p.alice))
            ["event_id"] == redaction);
   const json event = Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/event/" + message, nullptr, p.bob));
   CHECK(event["content"] == json::object());
   CHECK(event["unsigned"]["redacted_because"]["event_id"] == redaction);
   const json r = Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/event/" + redaction, nullptr, p.bob));
   CHECK(r["redacts"] == message);
   CHECK(r["content"]["reason"] == "oops");
   CHECK(errcode(p.host.request("PUT", c + "/rooms/" + p.room + "/redact/$unknown/r4", json::object(), p.alice)) == "M_NOT_FOUND");
}

TEST_CASE("profile: a new display name or avatar reaches each joined room as a member event") {
   Pair p;
   const std::string since = p.sync(p.bob)["next_batch"];
   REQUIRE(p.host.request("PUT", c + "/profile/@alice:example.org/displayname", {{"displayname", "Alice L."}}, p.alice).status ==
           200);
   REQUIRE(p.host.request("PUT", c + "/profile/@alice:example.org/avatar_url", {{"avatar_url", "mxc://example.org/abc"}}, p.alice)
              .status == 200);
   const json s = p.sync(p.bob, "since=" + since);
   const json events = p.joined(s)["timeline"]["events"];
   REQUIRE(events.size() == 2);
   CHECK(events[0]["content"] == json{{"membership", "join"}, {"displayname", "Alice L."}});
   CHECK(events[1]["content"] ==
         json{{"membership", "join"}, {"displayname", "Alice L."}, {"avatar_url", "mxc://example.org/abc"}});
   CHECK(Host::body(p.host.request("GET", c + "/profile/@alice:example.org/avatar_url", nullptr, p.bob))["avatar_url"] ==
         "mxc://example.org/abc");
   CHECK(errcode(p.host.request("PUT", c + "/profile/@alice:example.org/avatar_url", {{"avatar_url", "http://x"}}, p.alice)) ==
         "M_INVALID_PARAM");
   CHECK(p.host.request("PUT", c + "/profile/@alice:example.org/avatar_url", {{"avatar_url", "mxc://example.org/b"}}, p.bob)
            .status == 403);
}

TEST_CASE("rooms: members, joined members, one event and its context, for members only") {
   Pair p;
   const std::string carol = p.host.user("carol");
   std::vector<std::string> ids;
   for (int i = 0; i < 5; ++i) ids.push_back(p.say(p.alice, "c" + std::to_string(i)));
   const json members = Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/members", nullptr, p.bob));
   CHECK(members["chunk"].size() == 2);
   const json joined = Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/joined_members", nullptr, p.bob));
   CHECK(joined["joined"].contains("@alice:example.org"));
   CHECK(joined["joined"]["@bob:example.org"]["display_name"] == "bob");
   CHECK(Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/members?membership=invite", nullptr, p.bob))["chunk"].empty());

   const json ctx = Host::body(p.host.request("GET", c + "/rooms/" + p.room + "/context/" + ids[2] + "?limit=2", nullptr, p.bob));
   CHECK(ctx["event"]["content"]["body"] == "c2");
   CHECK(ctx["events_before"][0]["content"]["body"] == "c1");
   CHECK(ctx["events_after"][0]["content"]["body"] == "c3");
   const auto after = Host::body(p.host.request(
      "GET", c + "/rooms/" + p.room + "/messages?dir=f&limit=10&from=" + ctx["end"].get<std::string>(), nullptr, p.bob));
   CHECK(Pair::bodies(after["chunk"]) == std::vector<std::string>{"c4"});

   CHECK(p.host.request("GET", c + "/rooms/" + p.room + "/members", nullptr, carol).status == 403);
   CHECK(p.host.request("GET", c + "/rooms/" + p.room + "/event/" + ids[0], nullptr, carol).status == 403);
   CHECK(errcode(p.host.request("GET", c + "/rooms/" + p.room + "/event/$nope", nullptr, p.bob)) == "M_NOT_FOUND");
   CHECK(errcode(p.host.request("GET", c + "/rooms/!nope:example.org/joined_members", nullptr, p.bob)) == "M_NOT_FOUND");
}

TEST_CASE("sync: a profile change is news, not a new join: nothing is sent twice") {
   Pair p;
   p.say(p.alice, "already seen");
   const std::string since = p.sync(p.alice)["next_batch"];
   REQUIRE(p.host.request("PUT", c + "/profile/@alice:example.org/displayname", {{"displayname", "Alice"}}, p.alice).status == 200);
   const json s = p.sync(p.alice, "since=" + since);
   const json &joined = p.joined(s);
   REQUIRE(joined["timeline"]["events"].size() == 1);
   CHECK(joined["timeline"]["events"][0]["type"] == "m.room.member");
   CHECK(joined["timeline"]["limited"] == false);
   CHECK(joined["state"]["events"].empty());
}

TEST_CASE("sync: an initial sync carries the push rules; GET /notifications lists what notified") {
   Pair p;
   const json initial = p.sync(p.bob);
   json rules;
   for (const auto &e : initial["account_data"]["events"])
      if (e["type"] == "m.push_rules") rules = e["content"];
   REQUIRE(rules.contains("global"));
   CHECK(rules["global"].contains("override"));

   p.say(p.alice, "plain");
   const std::string mention = p.say(p.alice, "hello bob");
   const json all = Host::body(p.host.request("GET", c + "/notifications", nullptr, p.bob));
   // The two messages, and the invite (.m.rule.invite_for_me), read since bob joined after it.
   REQUIRE(all["notifications"].size() == 3);
   CHECK(all["notifications"][0]["event"]["event_id"] == mention); // newest first
   CHECK(all["notifications"][0]["read"] == false);
   CHECK(all["notifications"][2]["event"]["content"]["membership"] == "invite");
   CHECK(all["notifications"][2]["read"] == true);
   const json highlights = Host::body(p.host.request("GET", c + "/notifications?only=highlight", nullptr, p.bob));
   REQUIRE(highlights["notifications"].size() == 1);
   CHECK(highlights["notifications"][0]["actions"].dump().find("highlight") != std::string::npos);
   const json page = Host::body(p.host.request("GET", c + "/notifications?limit=1", nullptr, p.bob));
   REQUIRE(page["notifications"].size() == 1);
   const json next = Host::body(p.host.request(
      "GET", c + "/notifications?limit=1&from=" + page["next_token"].get<std::string>(), nullptr, p.bob));
   CHECK(next["notifications"][0]["event"]["content"]["body"] == "plain");
   CHECK(errcode(p.host.request("GET", c + "/notifications?from=x", nullptr, p.bob)) == "M_INVALID_PARAM");
   // Alice's own messages never notify her.
   CHECK(Host::body(p.host.request("GET", c + "/notifications", nullptr, p.alice))["notifications"].empty());
}

} // namespace sync_tests
