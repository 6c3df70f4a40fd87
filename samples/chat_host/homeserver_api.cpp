// homeserver_api.cpp - chat.homeserver/1's function table: each function checks its arguments
// (a refusal is logged with the module, the function, the parameter and what was expected) and
// hands the action to the homeserver's workers. Nothing here throws across the boundary.
#include "homeserver_actions.hpp"

#include "app.hpp"
#include "identifiers.hpp"
#include "json_limits.hpp"
#include "mail.hpp"
#include "utf8.hpp"

#include <modkit/loader.h>

#include <fmt/format.h>

namespace chat {

namespace {

// One call's argument checks. The first failure is logged and decides the status; the
// remaining checks still run (cheaply) so that the code reads as a list of parameters.
class Call {
public:
   Call(const chat_homeserver_api *self, modkit_host *host, const char *what)
      : hs_(self ? &HomeserverHost::of(self) : nullptr), host_(host), what_(what) {
      if (!hs_ || !host_) status_ = MODKIT_E_INVALID_ARGUMENT;
   }

   bool ok() const { return status_ == MODKIT_PENDING; }
   App &app() { return hs_->app(); }

   std::optional<std::string> optional(modkit_str s, const char *field) {
      if (!ok() || !s.data) return std::nullopt;
      std::string text(s.data, s.size);
      if (!valid_utf8(text)) return fail(field, "valid UTF-8"), std::nullopt;
      return text;
   }
   std::string text(modkit_str s, const char *field) {
      if (ok() && !s.data) fail(field, "a string (it is absent)");
      return optional(s, field).value_or("");
   }
   std::string user(modkit_str s, const char *field) {
      std::string id = text(s, field);
      if (ok() && !valid_user_id(id)) fail(field, "a user ID such as @alice:" + server(), id);
      return id;
   }
   // A user this server hosts: the only kind a module may act as.
   std::string local_user(modkit_str s, const char *field) {
      std::string id = user(s, field);
      require_local(id, field);
      return id;
   }
   void require_local(const std::string &id, const char *field) {
      if (ok() && !valid_user_id(id)) fail(field, "a user ID such as @alice:" + server(), id);
      if (ok() && server_of(id) != server()) {
         log(fmt::format("{}: {} is a user of another server; a module acts only as users of {}", field, id, server()));
         status_ = MODKIT_E_DENIED;
      }
   }
   std::string room(modkit_str s, const char *field) {
      std::string id = text(s, field);
      if (ok() && !valid_room_id(id, app().config().limits.max_identifier_length))
         fail(field, "a room ID such as !abc:" + server(), id);
      return id;
   }
   // JSON within the host's limits; absent gives null when may_be_absent.
   json parsed(modkit_str s, const char *field, bool may_be_absent, json::value_t type) {
      if (!ok()) return nullptr;
      if (!s.data) {
         if (!may_be_absent) fail(field, "JSON (it is absent)");
         return nullptr;
      }
      try {
         json value = parse_bounded_json(std::string_view(s.data, s.size), app().config().limits);
         if (value.type() != type) fail(field, type == json::value_t::array ? "a JSON array" : "a JSON object");
         return value;
      } catch (const MatrixError &e) {
         fail(field, "JSON", e.what());
         return nullptr;
      }
   }

   modkit_status submit(chat_homeserver_done_fn done, void *user_data, Action action) {
      if (ok() && !done) fail("done", "a callback");
      if (!ok()) return status_;
      return hs_->submit(host_, what_, done, user_data, std::move(action));
   }
   void fail(const char *field, const std::string &expected, const std::string &got = {}) {
      if (!ok()) return;
      log(fmt::format("{}: expected {}{}", field, expected, got.empty() ? "" : ", got \"" + got.substr(0, 200) + "\""));
      status_ = MODKIT_E_INVALID_ARGUMENT;
   }

private:
   const std::string &server() { return app().config().server_name; }
   void log(const std::string &why) {
      app().log(MODKIT_LOG_WARNING, fmt::format("module '{}': chat.homeserver {} refused: {}",
                                                modkit_loader_host_module_name(host_), what_, why));
   }

   HomeserverHost *hs_;
   modkit_host *host_;
   const char *what_;
   modkit_status status_ = MODKIT_PENDING;
};

// The boundary: nothing thrown gets out.
template <class F>
modkit_status guarded(F f) noexcept {
   try {
      return f();
   } catch (const std::bad_alloc &) {
      return MODKIT_E_NO_MEMORY;
   } catch (...) {
      return MODKIT_E_INTERNAL;
   }
}

using Done = chat_homeserver_done_fn;
using actions::Directory;

const char *MODKIT_ABI server_name(const chat_homeserver_api *self, modkit_host *) {
   return self ? HomeserverHost::of(self).app().config().server_name.c_str() : "";
}

bool MODKIT_ABI is_mine(const chat_homeserver_api *self, modkit_host *, modkit_str id) {
   if (!self || !id.data) return false;
   try {
      return server_of(std::string(id.data, id.size)) == HomeserverHost::of(self).app().config().server_name;
   } catch (...) {
      return false;
   }
}

modkit_status MODKIT_ABI get_qualified_user_id(const chat_homeserver_api *self, modkit_host *host,
                                               modkit_str localpart, char *out, size_t capacity, size_t *out_size) {
   return guarded([&] {
      Call c(self, host, "get_qualified_user_id");
      const std::string name = c.text(localpart, "localpart");
      if (c.ok() && name.empty()) c.fail("localpart", "a non-empty localpart");
      if (!c.ok()) return MODKIT_E_INVALID_ARGUMENT;
      const std::string id = name[0] == '@' ? name : "@" + name + ":" + c.app().config().server_name;
      if (out_size) *out_size = id.size();
      if (id.size() > capacity || (!out && !id.empty())) return MODKIT_E_NO_MEMORY;
      std::copy(id.begin(), id.end(), out);
      return MODKIT_OK;
   });
}

modkit_status MODKIT_ABI check_user_exists(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                           Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "check_user_exists");
      const std::string user = c.user(user_id, "user_id");
      return c.submit(done, ud, [=](App &app, const std::string &) { return actions::check_user_exists(app, user); });
   });
}

modkit_status MODKIT_ABI is_user_admin(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                       Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "is_user_admin");
      const std::string user = c.user(user_id, "user_id");
      return c.submit(done, ud, [=](App &app, const std::string &) { return actions::is_user_admin(app, user); });
   });
}

modkit_status MODKIT_ABI register_user(const chat_homeserver_api *self, modkit_host *host, modkit_str localpart,
                                       modkit_str display_name, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "register_user");
      const std::string name = c.text(localpart, "localpart");
      const auto display = c.optional(display_name, "display_name");
      return c.submit(done, ud, [=](App &app, const std::string &module) {
         return actions::register_user(app, module, name, display);
      });
   });
}

modkit_status MODKIT_ABI get_profile_for_user(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                              Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "get_profile_for_user");
      const std::string user = c.user(user_id, "user_id");
      return c.submit(done, ud, [=](App &app, const std::string &) { return actions::get_profile(app, user); });
   });
}

modkit_status MODKIT_ABI set_displayname(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                         modkit_str display_name, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "set_displayname");
      const std::string user = c.local_user(user_id, "user_id");
      const std::string name = c.text(display_name, "display_name");
      return c.submit(done, ud, [=](App &app, const std::string &module) {
         return actions::set_displayname(app, module, user, name);
      });
   });
}

modkit_status MODKIT_ABI get_threepids_for_user(const chat_homeserver_api *self, modkit_host *host,
                                                modkit_str user_id, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "get_threepids_for_user");
      const std::string user = c.user(user_id, "user_id");
      return c.submit(done, ud, [=](App &app, const std::string &) { return actions::get_threepids(app, user); });
   });
}

modkit_status MODKIT_ABI get_user_ip_and_agents(const chat_homeserver_api *self, modkit_host *host,
                                                modkit_str user_id, int64_t since_ts, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "get_user_ip_and_agents");
      const std::string user = c.local_user(user_id, "user_id");
      return c.submit(done, ud, [=](App &app, const std::string &) {
         return actions::get_user_ip_and_agents(app, user, since_ts);
      });
   });
}

modkit_status MODKIT_ABI get_room_state(const chat_homeserver_api *self, modkit_host *host, modkit_str room_id,
                                        modkit_str filter_json, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "get_room_state");
      const std::string room = c.room(room_id, "room_id");
      const json filter = c.parsed(filter_json, "filter_json", true, json::value_t::array);
      for (const json &f : filter.is_array() ? filter : json::array())
         if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !(f[1].is_string() || f[1].is_null()))
            c.fail("filter_json", "[type, state_key or null] pairs", f.dump());
      return c.submit(done, ud,
                      [=](App &app, const std::string &) { return actions::get_room_state(app, room, filter); });
   });
}

modkit_status MODKIT_ABI update_room_membership(const chat_homeserver_api *self, modkit_host *host,
                                                modkit_str sender, modkit_str target, modkit_str room_id,
                                                modkit_str membership, modkit_str content_json, Done done,
                                                void *ud) {
   return guarded([&] {
      Call c(self, host, "update_room_membership");
      const std::string from = c.local_user(sender, "sender");
      const std::string to = c.user(target, "target");
      const std::string room = c.room(room_id, "room_id");
      const std::string m = c.text(membership, "membership");
      const json content = c.parsed(content_json, "content_json", true, json::value_t::object);
      return c.submit(done, ud, [=](App &app, const std::string &module) {
         return actions::update_membership(app, module, from, to, room, m, content);
      });
   });
}

modkit_status MODKIT_ABI create_and_send_event_into_room(const chat_homeserver_api *self, modkit_host *host,
                                                         modkit_str event_json, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "create_and_send_event_into_room");
      const json event = c.parsed(event_json, "event_json", false, json::value_t::object);
      if (c.ok()) {
         for (const char *key : {"type", "room_id", "sender"})
            if (!event.value(key, json()).is_string()) c.fail("event_json", std::string("a string \"") + key + "\"");
         if (!event.value("content", json()).is_object()) c.fail("event_json", "a \"content\" object");
         if (event.contains("state_key") && !event["state_key"].is_string()) c.fail("event_json", "a string state_key");
         if (event.value("type", json()) == "m.room.member")
            c.fail("event_json", "an event other than m.room.member (use update_room_membership)");
      }
      if (c.ok()) c.require_local(event["sender"].get<std::string>(), "event_json sender");
      if (c.ok() && !valid_room_id(event["room_id"].get<std::string>(), c.app().config().limits.max_identifier_length))
         c.fail("event_json room_id", "a room ID", event["room_id"].get<std::string>());
      return c.submit(done, ud,
                      [=](App &app, const std::string &module) { return actions::send_event(app, module, event); });
   });
}

modkit_status MODKIT_ABI create_room(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                     modkit_str config_json, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "create_room");
      const std::string user = c.local_user(user_id, "user_id");
      json config = c.parsed(config_json, "config_json", true, json::value_t::object);
      if (config.is_null()) config = json::object();
      return c.submit(done, ud, [=](App &app, const std::string &module) {
         return actions::create_room(app, module, user, config);
      });
   });
}

modkit_status MODKIT_ABI lookup_room_alias(const chat_homeserver_api *self, modkit_host *host, modkit_str alias,
                                           Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "lookup_room_alias");
      const std::string name = c.text(alias, "alias");
      if (c.ok() && !valid_room_alias(name, c.app().config().limits.max_identifier_length))
         c.fail("alias", "a room alias such as #room:" + c.app().config().server_name, name);
      return c.submit(done, ud, [=](App &app, const std::string &module) {
         return actions::lookup_room_alias(app, module, name);
      });
   });
}

modkit_status directory(const chat_homeserver_api *self, modkit_host *host, const char *what, modkit_str room_id,
                        Directory op, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, what);
      const std::string room = c.room(room_id, "room_id");
      return c.submit(done, ud, [=](App &app, const std::string &) { return actions::public_room_list(app, room, op); });
   });
}

modkit_status MODKIT_ABI room_is_in_public_room_list(const chat_homeserver_api *self, modkit_host *host,
                                                     modkit_str room_id, Done done, void *ud) {
   return directory(self, host, "room_is_in_public_room_list", room_id, Directory::query, done, ud);
}

modkit_status MODKIT_ABI add_room_to_public_room_list(const chat_homeserver_api *self, modkit_host *host,
                                                      modkit_str room_id, Done done, void *ud) {
   return directory(self, host, "add_room_to_public_room_list", room_id, Directory::add, done, ud);
}

modkit_status MODKIT_ABI remove_room_from_public_room_list(const chat_homeserver_api *self, modkit_host *host,
                                                           modkit_str room_id, Done done, void *ud) {
   return directory(self, host, "remove_room_from_public_room_list", room_id, Directory::remove, done, ud);
}

modkit_status MODKIT_ABI get_account_data(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                          modkit_str room_id, modkit_str type, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "get_account_data");
      const std::string user = c.local_user(user_id, "user_id");
      const std::string room = room_id.data ? c.room(room_id, "room_id") : std::string();
      const std::string kind = c.text(type, "type");
      if (c.ok() && !valid_event_type(kind, c.app().config().limits.max_identifier_length))
         c.fail("type", "an account data type such as m.direct", kind);
      return c.submit(done, ud, [=](App &app, const std::string &) {
         return actions::get_account_data(app, user, room, kind);
      });
   });
}

modkit_status MODKIT_ABI put_account_data(const chat_homeserver_api *self, modkit_host *host, modkit_str user_id,
                                          modkit_str room_id, modkit_str type, modkit_str content_json, Done done,
                                          void *ud) {
   return guarded([&] {
      Call c(self, host, "put_account_data");
      const std::string user = c.local_user(user_id, "user_id");
      const std::string room = room_id.data ? c.room(room_id, "room_id") : std::string();
      const std::string kind = c.text(type, "type");
      const json content = c.parsed(content_json, "content_json", false, json::value_t::object);
      return c.submit(done, ud, [=](App &app, const std::string &module) {
         return actions::put_account_data(app, module, user, room, kind, content);
      });
   });
}

modkit_status MODKIT_ABI send_local_online_presence_to(const chat_homeserver_api *self, modkit_host *host,
                                                       modkit_str users_json, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "send_local_online_presence_to");
      const json list = c.parsed(users_json, "users_json", false, json::value_t::array);
      std::vector<std::string> users;
      for (const json &u : list.is_array() ? list : json::array()) {
         if (!u.is_string() || !valid_user_id(u.get<std::string>())) c.fail("users_json", "user IDs", u.dump());
         else users.push_back(u.get<std::string>());
      }
      return c.submit(done, ud, [=](App &app, const std::string &) {
         return actions::send_local_online_presence_to(app, users);
      });
   });
}

modkit_status MODKIT_ABI send_mail(const chat_homeserver_api *self, modkit_host *host, modkit_str recipient,
                                   modkit_str subject, modkit_str html, modkit_str text, Done done, void *ud) {
   return guarded([&] {
      Call c(self, host, "send_mail");
      const std::string to = c.text(recipient, "recipient");
      if (c.ok() && (!mail_header_ok(to) || to.find('@') == std::string::npos || to.find_first_of("<>") != std::string::npos))
         c.fail("recipient", "one mail address such as ada@example.org", to);
      const std::string title = c.text(subject, "subject");
      if (c.ok() && !mail_header_ok(title)) c.fail("subject", "one line of text");
      const auto html_body = c.optional(html, "html");
      const auto text_body = c.optional(text, "text");
      if (c.ok() && !html_body && !text_body) c.fail("text", "a body (html, text or both)");
      return c.submit(done, ud, [=](App &app, const std::string &) {
         return actions::send_mail(app, to, title, html_body, text_body);
      });
   });
}

// One process, the main one: Synapse's worker_name is None there.
const char *MODKIT_ABI worker_name(const chat_homeserver_api *, modkit_host *) { return nullptr; }

const char *MODKIT_ABI public_baseurl(const chat_homeserver_api *self, modkit_host *) {
   const std::string &url = HomeserverHost::of(self).app().config().public_baseurl;
   return url.empty() ? nullptr : url.c_str();
}

const char *MODKIT_ABI email_app_name(const chat_homeserver_api *self, modkit_host *) {
   return HomeserverHost::of(self).app().config().email.app_name.c_str();
}

} // namespace

void fill_homeserver_api(chat_homeserver_api &api) {
   api.struct_size = sizeof api;
   api.server_name = &server_name;
   api.is_mine = &is_mine;
   api.get_qualified_user_id = &get_qualified_user_id;
   api.check_user_exists = &check_user_exists;
   api.is_user_admin = &is_user_admin;
   api.register_user = &register_user;
   api.get_profile_for_user = &get_profile_for_user;
   api.set_displayname = &set_displayname;
   api.get_threepids_for_user = &get_threepids_for_user;
   api.get_user_ip_and_agents = &get_user_ip_and_agents;
   api.get_room_state = &get_room_state;
   api.update_room_membership = &update_room_membership;
   api.create_and_send_event_into_room = &create_and_send_event_into_room;
   api.create_room = &create_room;
   api.lookup_room_alias = &lookup_room_alias;
   api.room_is_in_public_room_list = &room_is_in_public_room_list;
   api.add_room_to_public_room_list = &add_room_to_public_room_list;
   api.remove_room_from_public_room_list = &remove_room_from_public_room_list;
   api.get_account_data = &get_account_data;
   api.put_account_data = &put_account_data;
   api.send_local_online_presence_to = &send_local_online_presence_to;
   api.send_mail = &send_mail;
   api.worker_name = &worker_name;
   api.public_baseurl = &public_baseurl;
   api.email_app_name = &email_app_name;
}

} // namespace chat
