// homeserver_actions.cpp - chat.homeserver/1's actions: through the router as a local user,
// or straight from the state for lookups.
#include "homeserver_actions.hpp"

#include "accounts.hpp"
#include "app.hpp"
#include "mail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

namespace chat::actions {

namespace {

const std::string client = "/_matrix/client/v3";

// A Matrix refusal as the module sees it: a status for its switch, the errcode in the message.
ActionResult refused(int http_status, const std::string &errcode, const std::string &message) {
   modkit_status status = MODKIT_E_INTERNAL;
   if (errcode == "M_USER_IN_USE" || errcode == "M_ROOM_IN_USE" || http_status == 409) status = MODKIT_E_CONFLICT;
   else if (http_status == 404) status = MODKIT_E_NOT_FOUND;
   else if (http_status == 401 || http_status == 403 || http_status == 429) status = MODKIT_E_DENIED;
   else if (http_status == 400 || http_status == 413) status = MODKIT_E_INVALID_ARGUMENT;
   return {status, json(), errcode.empty() ? message : errcode + ": " + message};
}

ActionResult refused(const MatrixError &e) { return refused(e.status(), e.errcode(), e.what()); }

ActionResult ok(json result = json::object()) { return {MODKIT_OK, std::move(result), ""}; }

// "!r:x/y" as one path segment.
std::string segment(const std::string &text) {
   static const char hex[] = "0123456789ABCDEF";
   std::string out;
   for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
      else out += '%', out += hex[c >> 4], out += hex[c & 15];
   }
   return out;
}

// One request through the router as user_id. On 200, pick(body) is the result.
template <class Pick>
ActionResult as_user(App &app, const std::string &module, const std::string &user_id, const std::string &method,
                     const std::string &path, const json &body, Pick pick) {
   Request request;
   request.method = method;
   request.path = path;
   request.body = body.is_null() ? std::string() : body.dump();
   request.remote_addr = ""; // no client: the module acts
   request.headers["user-agent"] = "modkit module " + module;
   const Response response = app.router().act(user_id, request);
   const json answer = json::parse(response.body, nullptr, false);
   if (response.status != 200) {
      const bool matrix = answer.is_object() && answer.value("errcode", json()).is_string();
      return refused(response.status, matrix ? answer["errcode"].get<std::string>() : "",
                     matrix ? answer.value("error", std::string()) : response.body);
   }
   return ok(pick(answer));
}

json nothing(const json &) { return json::object(); }

// A Ctx for the pipeline functions the router does not reach (registration without auth stages).
struct ModuleCtx {
   ModuleCtx(App &app, const std::string &module) : ctx(app, request) {
      request.remote_addr = "";
      request.headers["user-agent"] = "modkit module " + module;
      ctx.call.request_id = app.next_request_id();
      ctx.call.trace = &ctx.trace;
      ctx.ratelimited = false;
   }
   Request request;
   Ctx ctx;
};

// Runs f() with the state locked, for lookups; f answers as an action does.
template <class F>
ActionResult locked(App &app, F f) {
   std::lock_guard<std::mutex> lock(app.state().mutex);
   return f(app.state());
}

ActionResult unknown_user(const std::string &user_id) {
   return refused(404, "M_NOT_FOUND", "Unknown user " + user_id);
}

} // namespace

ActionResult check_user_exists(App &app, const std::string &user_id) {
   return locked(app, [&](State &s) { return ok({{"user_id", s.users.count(user_id) ? json(user_id) : json()}}); });
}

ActionResult is_user_admin(App &app, const std::string &user_id) {
   return locked(app, [&](State &s) {
      auto u = s.users.find(user_id);
      return u == s.users.end() ? unknown_user(user_id) : ok({{"admin", u->second.admin}});
   });
}

ActionResult register_user(App &app, const std::string &module, const std::string &localpart,
                           const std::optional<std::string> &display_name) {
   ModuleCtx m(app, module);
   try {
      return ok({{"user_id", create_account(m.ctx, localpart, "", display_name.value_or(localpart), nullptr, false)}});
   } catch (const MatrixError &e) {
      return refused(e);
   }
}

ActionResult get_profile(App &app, const std::string &user_id) {
   return locked(app, [&](State &s) {
      auto u = s.users.find(user_id);
      if (u == s.users.end()) return unknown_user(user_id);
      return ok({{"displayname", u->second.display_name},
                 {"avatar_url", u->second.avatar_url ? json(*u->second.avatar_url) : json()}});
   });
}

ActionResult set_displayname(App &app, const std::string &module, const std::string &user_id,
                             const std::string &display_name) {
   return as_user(app, module, user_id, "PUT", client + "/profile/" + segment(user_id) + "/displayname",
                  {{"displayname", display_name}}, nothing);
}

ActionResult get_threepids(App &app, const std::string &user_id) {
   return locked(app, [&](State &s) {
      auto u = s.users.find(user_id);
      if (u == s.users.end()) return unknown_user(user_id);
      json list = json::array();
      for (const ThreePid &t : u->second.threepids)
         list.push_back({{"medium", t.medium}, {"address", t.address}, {"added_at", t.added_at}});
      return ok({{"threepids", std::move(list)}});
   });
}

ActionResult get_user_ip_and_agents(App &app, const std::string &user_id, int64_t since_ts) {
   return locked(app, [&](State &s) {
      if (!s.users.count(user_id)) return unknown_user(user_id);
      std::vector<std::pair<int64_t, json>> seen;
      for (const auto &[client, last_seen] : s.clients[user_id])
         if (last_seen >= since_ts)
            seen.emplace_back(last_seen, json{{"ip", client.first}, {"user_agent", client.second}, {"last_seen", last_seen}});
      std::sort(seen.begin(), seen.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
      json entries = json::array();
      for (auto &entry : seen) entries.push_back(std::move(entry.second));
      return ok({{"entries", std::move(entries)}});
   });
}

ActionResult get_room_state(App &app, const std::string &room_id, const json &filter) {
   return locked(app, [&](State &s) {
      auto room = s.rooms.find(room_id);
      if (room == s.rooms.end()) return refused(404, "M_NOT_FOUND", "Unknown room " + room_id);
      json events = json::array();
      for (const auto &entry : room->second.state) {
         const std::string &type = entry.first.first, &state_key = entry.first.second;
         const bool wanted = filter.is_null() || std::any_of(filter.begin(), filter.end(), [&](const json &f) {
                                return f[0] == type && (f[1].is_null() || f[1] == state_key);
                             });
         if (wanted) events.push_back(s.events.at(entry.second).to_client());
      }
      return ok({{"events", std::move(events)}});
   });
}

ActionResult update_membership(App &app, const std::string &module, const std::string &sender,
                               const std::string &target, const std::string &room_id, const std::string &membership,
                               const json &content) {
   const std::string room = client + "/rooms/" + segment(room_id);
   json body = content.is_object() ? content : json::object();
   ActionResult r;
   if ((membership == "join" || membership == "leave") && sender != target)
      return refused(400, "M_INVALID_PARAM", fmt::format("{} needs the sender to be the target", membership));
   if (membership == "join") r = as_user(app, module, sender, "POST", room + "/join", body, nothing);
   else if (membership == "leave") r = as_user(app, module, sender, "POST", room + "/leave", body, nothing);
   else if (membership == "invite") {
      if (sender == target) return refused(400, "M_INVALID_PARAM", "a user cannot invite themselves");
      body["user_id"] = target;
      r = as_user(app, module, sender, "POST", room + "/invite", body, nothing);
   } else {
      return {MODKIT_E_UNSUPPORTED, json(),
              fmt::format("membership \"{}\": the chat host implements join, leave and invite", membership)};
   }
   if (r.status != MODKIT_OK) return r;
   // The endpoints answer without the event: it is the target's current membership event.
   return locked(app, [&](State &s) {
      const Event *e = s.state_event(room_id, "m.room.member", target);
      return ok({{"event_id", e ? json(e->event_id) : json()}});
   });
}

ActionResult send_event(App &app, const std::string &module, const json &event) {
   static std::atomic<uint64_t> transactions{0}; // each action its own transaction ID
   const std::string sender = event["sender"], room_id = event["room_id"], type = event["type"];
   const std::string room = client + "/rooms/" + segment(room_id);
   auto event_id = [](const json &answer) { return json{{"event_id", answer.value("event_id", json())}}; };
   if (event.contains("state_key")) {
      // An empty state key is the path without it (a path segment cannot be empty).
      const std::string key = event["state_key"];
      return as_user(app, module, sender, "PUT", room + "/state/" + segment(type) + (key.empty() ? "" : "/" + segment(key)),
                     event["content"], event_id);
   }
   return as_user(app, module, sender, "PUT",
                  room + "/send/" + segment(type) + "/" + fmt::format("module-{}", ++transactions), event["content"],
                  event_id);
}

ActionResult create_room(App &app, const std::string &module, const std::string &user_id, const json &config) {
   return as_user(app, module, user_id, "POST", client + "/createRoom", config, [](const json &answer) {
      return json{{"room_id", answer.value("room_id", json())}, {"room_alias", answer.value("room_alias", json())}};
   });
}

ActionResult lookup_room_alias(App &app, const std::string &module, const std::string &alias) {
   // Open to anyone: asked as nobody in particular, through the endpoint's own checks.
   Request request;
   request.path = client + "/directory/room/" + segment(alias);
   request.headers["user-agent"] = "modkit module " + module;
   const Response response = app.router().handle(request);
   const json answer = json::parse(response.body, nullptr, false);
   if (response.status != 200 || !answer.is_object())
      return refused(response.status, answer.is_object() ? answer.value("errcode", "") : "",
                     answer.is_object() ? answer.value("error", "") : response.body);
   return ok({{"room_id", answer.value("room_id", json())}, {"servers", answer.value("servers", json::array())}});
}

ActionResult public_room_list(App &app, const std::string &room_id, Directory what) {
   return locked(app, [&](State &s) {
      auto room = s.rooms.find(room_id);
      if (room == s.rooms.end()) return refused(404, "M_NOT_FOUND", "Unknown room " + room_id);
      if (what == Directory::query) return ok({{"public", room->second.published}});
      room->second.published = what == Directory::add;
      return ok();
   });
}

ActionResult get_account_data(App &app, const std::string &user_id, const std::string &room_id,
                              const std::string &type) {
   return locked(app, [&](State &s) {
      if (!s.users.count(user_id)) return unknown_user(user_id);
      const std::map<std::string, AccountDataItem> *items = nullptr;
      if (room_id.empty()) {
         auto u = s.account_data.find(user_id);
         if (u != s.account_data.end()) items = &u->second;
      } else if (auto u = s.room_account_data.find(user_id); u != s.room_account_data.end()) {
         auto r = u->second.find(room_id);
         if (r != u->second.end()) items = &r->second;
      }
      auto item = items ? items->find(type) : decltype(items->end()){};
      return ok({{"content", items && item != items->end() ? item->second.content : json()}});
   });
}

ActionResult put_account_data(App &app, const std::string &module, const std::string &user_id,
                              const std::string &room_id, const std::string &type, const json &content) {
   const std::string user = client + "/user/" + segment(user_id);
   const std::string path = room_id.empty() ? user + "/account_data/" + segment(type)
                                            : user + "/rooms/" + segment(room_id) + "/account_data/" + segment(type);
   return as_user(app, module, user_id, "PUT", path, content, nothing);
}

ActionResult send_local_online_presence_to(App &app, const std::vector<std::string> &users) {
   return locked(app, [&](State &s) {
      size_t sent = 0;
      const uint64_t stream = s.next_stream();
      for (const auto &[user_id, presence] : s.presence) {
         if (presence.presence != "online" || !s.is_local(user_id)) continue;
         for (const std::string &to : users) {
            if (!s.is_local(to) || !s.users.count(to)) continue; // no federation here: remote ones get nothing
            s.presence_inbox[to].push_back({stream, user_id, presence});
            ++sent;
         }
      }
      return ok({{"sent", sent}});
   });
}

ActionResult send_mail(App &app, const std::string &recipient, const std::string &subject,
                       const std::optional<std::string> &html, const std::optional<std::string> &text) {
   const MailConfig &config = app.config().email;
   if (config.smtp_url.empty())
      return {MODKIT_E_UNSUPPORTED, json(), "this host has no mail server (the config's \"email\" section)"};
   try {
      chat::send_mail(config, recipient, subject, html, text);
      return ok();
   } catch (const MailError &e) {
      return {MODKIT_E_INTERNAL, json(), e.what()};
   }
}

} // namespace chat::actions
