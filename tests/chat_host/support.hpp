// support.hpp - a chat host over fixture modules, with its log captured, and helpers to send it
// requests through the router.
#pragma once

#include "app.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

namespace test {

using chat::json;

inline std::string fixture_dir() { return CHAT_FIXTURE_DIR; }

struct Host {
   std::mutex mutex;
   std::vector<std::string> lines; // "module|line"
   std::unique_ptr<chat::App> app;

   // modules: the "modules" array of the loader's config; extra: more host settings.
   explicit Host(std::initializer_list<json> modules, const json &extra = json::object()) {
      json config = {{"server_name", "example.org"},
                     {"admins", {"@admin:example.org"}},
                     {"admin_registration_token", "operator-token"},
                     {"modkit", {{"module_path", {fixture_dir()}}, {"modules", json(std::vector<json>(modules))}}}};
      config.update(extra);
      app = std::make_unique<chat::App>(chat::parse_host_config(config, "."),
                                        [this](modkit_log_level, const std::string &module, const std::string &line) {
                                           std::lock_guard<std::mutex> lock(mutex);
                                           lines.push_back(module + "|" + line);
                                        });
   }

   chat::ModuleHost &modules() { return app->modules(); }

   // The probes' "tag:slot" trace lines, in order, for the given slot ("" for all).
   std::vector<std::string> calls(const std::string &slot = "") {
      std::lock_guard<std::mutex> lock(mutex);
      std::vector<std::string> out;
      for (const auto &l : lines) {
         const auto bar = l.find('|');
         const std::string text = l.substr(bar + 1);
         const auto colon = text.find(':');
         if (colon == std::string::npos || l.compare(0, 5, "chat_") != 0) continue;
         if (slot.empty() || text.substr(colon + 1) == slot) out.push_back(text);
      }
      return out;
   }
   void clear() {
      std::lock_guard<std::mutex> lock(mutex);
      lines.clear();
   }
   bool logged(const std::string &needle) { return count_logged(needle) > 0; }
   size_t count_logged(const std::string &needle) {
      std::lock_guard<std::mutex> lock(mutex);
      size_t n = 0;
      for (const auto &l : lines)
         if (l.find(needle) != std::string::npos) ++n;
      return n;
   }

   chat::Response request(const std::string &method, const std::string &path, const json &body = nullptr,
                          const std::string &token = "") {
      chat::Request r;
      r.method = method;
      const auto q = path.find('?');
      r.path = path.substr(0, q);
      if (q != std::string::npos) {
         r.raw_query = path.substr(q + 1);
         r.query = chat::parse_query(r.raw_query);
      }
      if (!body.is_null()) r.body = body.is_string() ? body.get<std::string>() : body.dump();
      if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
      return app->router().handle(r);
   }
   static json body(const chat::Response &r) { return json::parse(r.body, nullptr, false); }

   // Registers a user with a password and returns its access token.
   std::string user(const std::string &localpart) {
      const auto r = request("POST", "/_matrix/client/v3/register",
                             {{"username", localpart}, {"password", "pw-" + localpart}, {"auth", {{"type", "m.login.dummy"}}}});
      REQUIRE_MESSAGE(r.status == 200, r.body);
      return body(r)["access_token"];
   }
   // Registers a name the config reserves for an admin, with the operator's token.
   std::string admin(const std::string &localpart = "admin") {
      const auto r = request("POST", "/_matrix/client/v3/register",
                             {{"username", localpart}, {"password", "pw-" + localpart},
                              {"auth", {{"type", "m.login.registration_token"}, {"token", "operator-token"}}}});
      REQUIRE_MESSAGE(r.status == 200, r.body);
      return body(r)["access_token"];
   }
   std::string room(const std::string &token, const json &config = json::object()) {
      const auto r = request("POST", "/_matrix/client/v3/createRoom", config, token);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      return body(r)["room_id"];
   }
   chat::Response say(const std::string &token, const std::string &room_id, const std::string &text) {
      static int txn = 0;
      return request("PUT", "/_matrix/client/v3/rooms/" + room_id + "/send/m.room.message/t" + std::to_string(++txn),
                     {{"msgtype", "m.text"}, {"body", text}}, token);
   }
};

inline json probe(const std::string &name, const std::string &tag, const json &config = json::object()) {
   json c = config;
   c["tag"] = tag;
   return {{"module", name}, {"config", c}};
}

inline std::string errcode(const chat::Response &r) {
   const json b = json::parse(r.body, nullptr, false);
   return b.is_object() ? b.value("errcode", "") : "";
}

inline chat::CallContext context(chat::Trace *trace = nullptr) { return {"test", trace}; }

// An m.text message event from @alice in !r, as the host hands events to modules.
inline chat::EventArg message_event(const std::string &body) {
   chat::EventArg e;
   e.event_id = "$e";
   e.room_id = "!r:example.org";
   e.sender = "@alice:example.org";
   e.type = "m.room.message";
   e.content = json{{"msgtype", "m.text"}, {"body", body}}.dump();
   return e;
}

// Runs f, expecting startup to fail; returns every error.
template <class F>
std::vector<std::string> startup_errors(F &&f) {
   try {
      f();
   } catch (const chat::StartupError &e) {
      return e.errors();
   }
   FAIL("expected startup to fail");
   return {};
}

inline bool any_contains(const std::vector<std::string> &lines, const std::string &needle) {
   for (const auto &l : lines)
      if (l.find(needle) != std::string::npos) return true;
   return false;
}

} // namespace test
