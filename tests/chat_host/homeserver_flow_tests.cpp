// homeserver_flow_tests.cpp - chat.homeserver/1 from inside callbacks and from timers: a module
// that auto-joins invited users, a call that would re-enter its own callback, a module acting
// from a timer while the host reloads and unloads it; and send_mail against a real SMTP server
// (tests/chat_host/smtp_sink.py, aiosmtpd) on 127.0.0.1.
#include "homeserver_support.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using test::hs_call;
using test::json;

namespace {

// The SMTP sink, started for one test and killed after it. port is 0 when it did not start.
class SmtpSink {
public:
   explicit SmtpSink(bool refuse = false) : out_(std::string(CHAT_WORK_DIR) + "/smtp-" + std::to_string(::getpid()) + ".jsonl") {
      std::remove(out_.c_str());
      int pipefd[2];
      REQUIRE(::pipe(pipefd) == 0);
      pid_ = ::fork();
      REQUIRE(pid_ >= 0);
      if (pid_ == 0) {
         ::dup2(pipefd[1], STDOUT_FILENO);
         ::close(pipefd[0]);
         ::close(pipefd[1]);
         const char *script = CHAT_SMTP_SINK;
         if (refuse) ::execl("/usr/bin/python3", "python3", script, out_.c_str(), "--refuse", static_cast<char *>(nullptr));
         else ::execl("/usr/bin/python3", "python3", script, out_.c_str(), static_cast<char *>(nullptr));
         ::_exit(127);
      }
      ::close(pipefd[1]);
      char line[32] = {};
      size_t got = 0;
      while (got < sizeof line - 1) {
         const ssize_t n = ::read(pipefd[0], line + got, 1);
         if (n <= 0 || line[got] == '\n') break;
         ++got;
      }
      ::close(pipefd[0]);
      port = std::atoi(line);
      REQUIRE_MESSAGE(port > 0, "the SMTP sink did not start (is Debian's python3-aiosmtpd installed?)");
   }
   ~SmtpSink() {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      std::remove(out_.c_str());
   }
   std::vector<json> mails() const {
      std::ifstream in(out_);
      std::vector<json> all;
      for (std::string line; std::getline(in, line);) all.push_back(json::parse(line));
      return all;
   }
   int port = 0;

private:
   std::string out_;
   pid_t pid_ = -1;
};

json mail_config(int port) {
   return {{"email", {{"smtp_url", "smtp://127.0.0.1:" + std::to_string(port)}, {"from", "Chat <noreply@example.org>"}}}};
}

bool logged_after(test::Host &h, const std::string &needle) {
   return test::eventually([&] { return h.logged(needle); });
}

} // namespace

TEST_CASE("homeserver: a module joins invited users from its on_new_event") {
   test::Host h({test::hs_probe({{"auto_join_prefix", "bot"}})});
   const std::string alice = h.user("alice");
   h.user("botty");
   h.user("carol");
   const std::string room = h.room(alice);
   REQUIRE(h.request("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {{"user_id", "@botty:example.org"}}, alice)
              .status == 200);
   CHECK(test::eventually([&] { return test::membership(h, room, "@botty:example.org") == "join"; }));
   CHECK(logged_after(h, "hs_probe:auto_join ok"));
   // Only invited bots: carol stays invited.
   REQUIRE(h.request("POST", "/_matrix/client/v3/rooms/" + room + "/invite", {{"user_id", "@carol:example.org"}}, alice)
              .status == 200);
   std::this_thread::sleep_for(std::chrono::milliseconds(50));
   CHECK(test::membership(h, room, "@carol:example.org") == "invite");
   CHECK(h.app->homeserver().outstanding("hs_probe") == 0);
}

TEST_CASE("homeserver: a call that would re-enter the callback asking for it is refused") {
   // user_may_join_room asks for @bot to join the same room; that join runs the same callback of
   // the same module, whose request (the same action again) is refused, not looped on.
   test::Host h({test::hs_probe({{"join_along", "@bot:example.org"}})});
   const std::string alice = h.user("alice"), carol = h.user("carol");
   h.user("bot");
   const std::string room = h.room(alice, {{"preset", "public_chat"}});
   REQUIRE(h.request("POST", "/_matrix/client/v3/rooms/" + room + "/join", json::object(), carol).status == 200);
   CHECK(test::eventually([&] { return test::membership(h, room, "@bot:example.org") == "join"; }));
   CHECK(logged_after(h, "hs_probe:join_along refused state"));
   CHECK(logged_after(h, "hs_probe:join_along ok"));
   CHECK(h.logged("module 'hs_probe' asked for update_room_membership from its spam_checker.user_may_join_room, which an "
                  "action it asked for from that same callback is running"));
   CHECK(test::eventually([&] { return h.app->homeserver().outstanding("hs_probe") == 0; }));
}

TEST_CASE("homeserver: a module acting from a timer is reloaded and unloaded safely") {
   auto h = std::make_unique<test::Host>(std::initializer_list<json>{
      test::hs_probe({{"tick_ms", 1}, {"tick_user", "@ticker:example.org"}})});
   h->user("ticker");
   REQUIRE(logged_after(*h, "hs_probe:tick ok"));
   // Reloads stop each instance while its timer may be asking for an action: queued ones are
   // cancelled (done before deinit), running ones waited for; nothing reaches a freed module.
   for (int i = 0; i < 20; ++i) REQUIRE(h->modules().reload("hs_probe").empty());
   CHECK(test::eventually([&] { return h->count_logged("hs_probe:tick ok") > 5; }));
   {
      std::lock_guard<std::mutex> lock(h->app->state().mutex);
      CHECK(h->app->state().users.at("@ticker:example.org").display_name.rfind("tick ", 0) == 0);
   }
   h.reset(); // and the host shuts down while it ticks
}

TEST_CASE("homeserver: send_mail over SMTP") {
   SmtpSink sink;
   test::Host h({test::hs_probe()}, mail_config(sink.port));
   const json sent = hs_call(h, "send_mail",
                             {{"recipient", "ada@example.org"}, {"subject", "Your account expires soon"},
                              {"html", "<p>Renew <b>now</b></p>"}, {"text", "Renew now"}});
   REQUIRE_MESSAGE(sent["status"] == "ok", sent.dump());
   REQUIRE(test::eventually([&] { return sink.mails().size() == 1; }));
   const json mail = sink.mails()[0];
   CHECK(mail["from"] == "noreply@example.org");
   CHECK(mail["to"] == json{"ada@example.org"});
   const std::string data = mail["data"];
   CHECK(data.find("Subject: Your account expires soon") != std::string::npos);
   CHECK(data.find("multipart/alternative") != std::string::npos);
   CHECK(data.find("text/html") != std::string::npos);

   SUBCASE("text only, a subject beyond ASCII") {
      REQUIRE(hs_call(h, "send_mail", {{"recipient", "bo@example.org"}, {"subject", "Überfällig"}, {"text", "x"}})["status"] ==
              "ok");
      REQUIRE(test::eventually([&] { return sink.mails().size() == 2; }));
      CHECK(sink.mails()[1]["data"].get<std::string>().find("Subject: =?UTF-8?B?") != std::string::npos);
   }
   SUBCASE("header injection and missing bodies are refused before anything is sent") {
      CHECK(hs_call(h, "send_mail", {{"recipient", "a@example.org\r\nBcc: x@evil.org"}, {"subject", "s"}, {"text", "t"}})
               ["status"] == "invalid_argument");
      CHECK(hs_call(h, "send_mail", {{"recipient", "a@example.org"}, {"subject", "s\nX: y"}, {"text", "t"}})["status"] ==
            "invalid_argument");
      CHECK(hs_call(h, "send_mail", {{"recipient", "a@example.org"}, {"subject", "s"}})["status"] == "invalid_argument");
      CHECK(sink.mails().size() == 1);
   }
}

TEST_CASE("homeserver: send_mail failures are reported, not hidden") {
   SUBCASE("the server refuses the recipient") {
      SmtpSink refusing(true);
      test::Host h({test::hs_probe()}, mail_config(refusing.port));
      const json r = hs_call(h, "send_mail", {{"recipient", "ada@example.org"}, {"subject", "s"}, {"text", "t"}});
      CHECK(r["status"] == "internal");
      CHECK(r["message"].get<std::string>().find("550") != std::string::npos);
   }
   SUBCASE("nothing listens") {
      int port;
      {
         SmtpSink gone;
         port = gone.port;
      }
      test::Host h({test::hs_probe()}, mail_config(port));
      const json r = hs_call(h, "send_mail", {{"recipient", "ada@example.org"}, {"subject", "s"}, {"text", "t"}});
      CHECK(r["status"] == "internal");
      CHECK(r["message"].get<std::string>().find("mail to ada@example.org") == 0);
   }
   SUBCASE("no mail server configured") {
      test::Host h({test::hs_probe()});
      CHECK(hs_call(h, "send_mail", {{"recipient", "ada@example.org"}, {"subject", "s"}, {"text", "t"}})["status"] ==
            "unsupported");
   }
   SUBCASE("a bad email section is a config error naming the field") {
      CHECK_THROWS_WITH_AS(test::Host({test::hs_probe()}, {{"email", {{"smtp_url", "http://x"}, {"from", "a@b"}}}}),
                           doctest::Contains("/email/smtp_url: expected an smtp:// or smtps:// URL"), chat::ConfigError);
   }
}
