// api_account.cpp - registration, login, logout, whoami, deactivation, third-party identifiers
// and the legacy account validity endpoints.
#include "accounts.hpp"
#include "module_refusal.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <set>

namespace chat {

bool same_secret(const std::string &stored, const std::string &given) {
   if (stored.empty() || stored.size() != given.size()) return false;
   unsigned char diff = 0; // no early exit: the time does not depend on where they differ
   for (size_t i = 0; i < stored.size(); ++i) diff |= static_cast<unsigned char>(stored[i] ^ given[i]);
   return diff == 0;
}

json uia_required(const json &flows) {
   return {{"flows", flows}, {"params", json::object()}, {"session", std::to_string(now_ms())}};
}

namespace {

Device new_device(State &state, const std::string &user_id, std::optional<std::string> device_id,
                  const std::string &display_name, const std::string &auth_module, const std::string &login_type) {
   Device d;
   d.user_id = user_id;
   d.device_id = device_id.value_or(state.new_id('D'));
   d.display_name = display_name;
   d.access_token = state.new_id('T');
   d.auth_module = auth_module;
   d.login_type = login_type;
   // A login with an existing device ID replaces that device's token.
   for (auto it = state.tokens.begin(); it != state.tokens.end();) {
      if (it->second.user_id == user_id && it->second.device_id == d.device_id) it = state.tokens.erase(it);
      else ++it;
   }
   state.tokens[d.access_token] = d;
   return d;
}

Response registration(Ctx &ctx) {
   App &app = ctx.app;
   if (!app.config().enable_registration) throw MatrixError(403, "M_FORBIDDEN", "Registration has been disabled");
   const json &body = ctx.body();
   if (ctx.query("kind").value_or("user") == "guest")
      throw MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is disabled");
   json flows = json::array({{{"stages", {"m.login.dummy"}}}, {{"stages", {"m.login.email.identity"}}}});
   const std::string &admin_token = app.config().admin_registration_token;
   if (!admin_token.empty()) flows.push_back({{"stages", {"m.login.registration_token"}}});
   if (!body.contains("auth") || !body["auth"].is_object()) return json_response(uia_required(flows), 401);
   const json &auth = body["auth"];
   const std::string stage = auth.value("type", "");
   json uia = json::object();
   std::optional<json> email;
   bool operator_reserved = false; // the operator's token: may register a name listed in admins
   if (stage == "m.login.dummy") {
      uia[stage] = true;
   } else if (stage == "m.login.registration_token" && !admin_token.empty()) {
      if (!auth.value("token", json()).is_string() || !same_secret(admin_token, auth["token"].get<std::string>()))
         throw MatrixError(401, "M_FORBIDDEN", "Invalid registration token");
      operator_reserved = true;
      uia[stage] = true;
   } else if (stage == "m.login.email.identity") {
      // No identity server here: the client states the address and the host takes it as validated.
      const json threepid = auth.value("threepid", json::object());
      if (!threepid.is_object() || threepid.value("medium", "") != "email" || !threepid.value("address", json()).is_string())
         throw MatrixError(400, "M_BAD_JSON", "auth.threepid must be {\"medium\": \"email\", \"address\": ...}");
      email = json{{"medium", "email"}, {"address", threepid["address"]}, {"validated_at", now_ms()}};
      uia[stage] = *email;
   } else {
      json again = uia_required(flows);
      again["errcode"] = "M_UNRECOGNIZED";
      again["error"] = "Unknown auth stage " + stage;
      return json_response(again, 401);
   }
   const std::string password = require_string(body, "password");
   ModuleHost &modules = app.modules();
   if (email) {
      const auto allowed = modules.is_3pid_allowed(ctx.call, "email", (*email)["address"], true);
      if (allowed.outcome.kind == modkit::Outcome::Kind::failed_closed || allowed.error())
         throw MatrixError(500, "M_UNKNOWN", "is_3pid_allowed failed in module '" + allowed.module + "'");
      if (!allowed.answer)
         throw module_refusal(allowed, 403, "M_THREEPID_DENIED", "Third party identifiers (email/phone numbers) are not authorized on this server");
   }
   const auto chosen = modules.get_username_for_registration(ctx.call, uia, body);
   if (chosen.outcome.kind == modkit::Outcome::Kind::failed_closed || chosen.error())
      throw MatrixError(500, "M_UNKNOWN", "get_username_for_registration failed in module '" + chosen.module + "'");
   std::string localpart;
   if (chosen.answer) localpart = *chosen.answer;
   else if (body.contains("username")) localpart = require_string(body, "username");
   else {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      localpart = "user" + std::to_string(app.state().users.size() + 1);
   }
   if (!valid_localpart(localpart))
      throw MatrixError(400, "M_INVALID_USERNAME", "User ID can only contain characters a-z, 0-9, or '=_-./+'");
   const std::string user_id = "@" + localpart + ":" + app.config().server_name;
   const bool reserved = app.config().admins.count(user_id) > 0;
   if (reserved && !operator_reserved)
      throw MatrixError(403, "M_FORBIDDEN", "This user ID is reserved for a server administrator");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (app.state().users.count(user_id)) throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
   }
   const auto display = modules.get_displayname_for_registration(ctx.call, uia, body);
   if (display.outcome.kind == modkit::Outcome::Kind::failed_closed || display.error())
      throw MatrixError(500, "M_UNKNOWN", "get_displayname_for_registration failed in module '" + display.module + "'");
   // reserved is reached only with the operator's registration token
   create_account(ctx, localpart, password, display.answer.value_or(localpart), email ? &*email : nullptr, reserved);
   if (email) add_threepid(ctx, user_id, "email", (*email)["address"]);
   json response = {{"user_id", user_id}, {"home_server", app.config().server_name}};
   if (!body.value("inhibit_login", false)) {
      Device d;
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         d = new_device(app.state(), user_id, optional_string(body, "device_id"),
                        optional_string(body, "initial_device_display_name").value_or(""), "", "");
      }
      // The new account logs in with the password it was registered with.
      app.check(modules.on_user_login(ctx.call, user_id, std::string("m.login.password"), std::nullopt), "on_user_login");
      response["access_token"] = d.access_token;
      response["device_id"] = d.device_id;
   }
   return json_response(response);
}

Response login_flows(Ctx &ctx) {
   json flows = json::array({{{"type", "m.login.password"}}});
   for (const auto &[type, fields] : ctx.app.modules().login_types()->fields)
      if (type != "m.login.password") flows.push_back({{"type", type}});
   return json_response({{"flows", flows}});
}

Response login(Ctx &ctx) {
   App &app = ctx.app;
   ModuleHost &modules = app.modules();
   const json &body = ctx.body();
   const std::string type = require_string(body, "type");
   const auto types = modules.login_types();
   const json identifier = body.value("identifier", json::object());
   const std::string id_type = identifier.is_object() ? identifier.value("type", "m.id.user") : "m.id.user";
   const std::string server = app.config().server_name;

   std::string user_id;
   uint32_t auth_module = UINT32_MAX;
   if (type == "m.login.password" && id_type == "m.id.thirdparty") {
      const std::string medium = require_string(identifier, "medium"), address = require_string(identifier, "address");
      const std::string password = require_string(body, "password");
      const auto checked = modules.check_3pid_auth(ctx.call, medium, address, password);
      if (checked.decided()) {
         user_id = checked.answer.user_id;
         auth_module = checked.answer.module_index;
      } else {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         const auto owner = app.state().user_for_threepid(medium, address);
         if (owner && same_secret(app.state().users[*owner].password, password)) user_id = *owner;
      }
   } else {
      std::string username = identifier.is_object() && identifier.contains("user") ? require_string(identifier, "user")
                             : body.contains("user") ? require_string(body, "user") : "";
      auto declared = types->fields.find(type);
      if (declared != types->fields.end()) {
         // A module login type (or m.login.password claimed by a module): exactly its fields.
         json dict = json::object();
         std::vector<std::string> missing;
         for (const auto &f : declared->second) {
            if (body.contains(f)) dict[f] = body[f];
            else missing.push_back(f);
         }
         if (!missing.empty())
            throw MatrixError(400, "M_MISSING_PARAM", fmt::format("Missing parameters for login type {}: {}", type,
                                                                  fmt::join(missing, ", ")));
         const auto checked = modules.auth_checkers(ctx.call, username, type, dict);
         if (checked.decided()) {
            user_id = checked.answer.user_id;
            auth_module = checked.answer.module_index;
         }
      } else if (type != "m.login.password") {
         throw MatrixError(400, "M_UNKNOWN", "Unknown login type " + type);
      }
      if (user_id.empty() && type == "m.login.password" && !username.empty()) {
         const std::string password = require_string(body, "password");
         const std::string qualified = username[0] == '@' ? username : "@" + username + ":" + server;
         std::lock_guard<std::mutex> lock(app.state().mutex);
         auto user = app.state().users.find(qualified);
         if (user != app.state().users.end() && same_secret(user->second.password, password)) user_id = qualified;
      }
   }
   if (user_id.empty()) throw MatrixError(403, "M_FORBIDDEN", "Invalid username or password");
   if (server_of(user_id) != server) throw MatrixError(403, "M_FORBIDDEN", "User " + user_id + " is not local to this server");

   bool provisioned = false;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      auto user = app.state().users.find(user_id);
      if (user == app.state().users.end()) {
         // A module vouched for a user this server has not seen: create the account, as an
         // auth provider module would through Synapse's register_user.
         User u;
         u.user_id = user_id;
         u.localpart = user_id.substr(1, user_id.find(':') - 1);
         u.display_name = u.localpart;
         app.state().users[user_id] = u;
         app.state().index_user(u);
         provisioned = true;
      } else if (user->second.deactivated) {
         throw MatrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated");
      }
   }
   if (provisioned) {
      ctx.trace.note("account " + user_id + " created on its first login");
      app.check(modules.on_user_registration(ctx.call, user_id), "on_user_registration");
   }
   const auto device_id = optional_string(body, "device_id");
   const auto display = optional_string(body, "initial_device_display_name");
   const auto spam = modules.check_login_for_spam(ctx.call, user_id, device_id, display, ctx.request_info(), std::nullopt);
   app.check(spam, "check_login_for_spam");
   if (spam.answer != MODKIT_NOT_SPAM)
      throw module_refusal(spam, 403, modkit_spam_result_errcode(spam.answer), "Login was blocked by the server (module '" + spam.module + "')");
   Device d;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      d = new_device(app.state(), user_id, device_id, display.value_or(""),
                     auth_module == UINT32_MAX ? "" : modules.module_name(auth_module), type);
   }
   app.check(modules.on_user_login(ctx.call, user_id, type, std::nullopt), "on_user_login");
   const json response = {{"user_id", user_id}, {"access_token", d.access_token}, {"device_id", d.device_id},
                          {"home_server", server}};
   if (auth_module != UINT32_MAX) app.check(modules.on_login_response(ctx.call, auth_module, response), "on_login_response");
   return json_response(response);
}

} // namespace

void logout_token(Ctx &ctx, const std::string &token) {
   Device d;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      auto it = ctx.app.state().tokens.find(token);
      if (it == ctx.app.state().tokens.end()) return;
      d = it->second;
      ctx.app.state().tokens.erase(it);
   }
   ctx.app.modules().on_logged_out(ctx.call, d.user_id, d.device_id, token);
}

namespace {

Response logout(Ctx &ctx) {
   logout_token(ctx, ctx.access_token);
   return json_response(json::object());
}

Response logout_all(Ctx &ctx) {
   std::vector<std::string> tokens;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      for (const auto &[t, d] : ctx.app.state().tokens)
         if (d.user_id == ctx.user_id) tokens.push_back(t);
   }
   for (const auto &t : tokens) logout_token(ctx, t);
   return json_response(json::object());
}

Response whoami(Ctx &ctx) {
   return json_response({{"user_id", ctx.user_id}, {"device_id", ctx.device_id}, {"is_guest", false}});
}

Response deactivate_self(Ctx &ctx) {
   const json &body = ctx.body();
   const json flows = json::array({{{"stages", {"m.login.password"}}}});
   if (!body.contains("auth") || !body["auth"].is_object()) return json_response(uia_required(flows), 401);
   const std::string password = require_string(body["auth"], "password");
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      if (!same_secret(ctx.app.state().users[ctx.user_id].password, password))
         throw MatrixError(401, "M_FORBIDDEN", "Invalid password", uia_required(flows));
   }
   deactivate_user(ctx, ctx.user_id, false, body.value("erase", false));
   return json_response({{"id_server_unbind_result", "no-support"}});
}

Response list_threepids(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   json out = json::array();
   for (const auto &t : ctx.app.state().users[ctx.user_id].threepids)
      out.push_back({{"medium", t.medium}, {"address", t.address}, {"added_at", t.added_at}, {"validated_at", t.added_at}});
   return json_response({{"threepids", out}});
}

Response add_own_threepid(Ctx &ctx) {
   // Simplified: no validation session (there is no identity server); the address is taken as given.
   const std::string medium = require_string(ctx.body(), "medium"), address = require_string(ctx.body(), "address");
   const auto allowed = ctx.app.modules().is_3pid_allowed(ctx.call, medium, address, false);
   if (allowed.outcome.kind == modkit::Outcome::Kind::failed_closed || allowed.error())
      throw MatrixError(500, "M_UNKNOWN", "is_3pid_allowed failed in module '" + allowed.module + "'");
   if (!allowed.answer) throw module_refusal(allowed, 403, "M_THREEPID_DENIED", "Third party identifier is not allowed");
   add_threepid(ctx, ctx.user_id, medium, address);
   return json_response(json::object());
}

Response delete_own_threepid(Ctx &ctx) {
   const std::string medium = require_string(ctx.body(), "medium"), address = require_string(ctx.body(), "address");
   if (!remove_threepid(ctx, ctx.user_id, medium, address))
      throw MatrixError(404, "M_NOT_FOUND", "No such third-party identifier on this account");
   return json_response({{"id_server_unbind_result", "no-support"}});
}

Response bind_threepid(Ctx &ctx) {
   // The identity server is simulated: the binding is recorded here and the modules told.
   const std::string medium = require_string(ctx.body(), "medium"), address = require_string(ctx.body(), "address");
   require_string(ctx.body(), "id_server");
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      ctx.app.state().users[ctx.user_id].bound_threepids.push_back({medium, address, now_ms()});
   }
   ctx.app.modules().on_threepid_bind(ctx.call, ctx.user_id, medium, address);
   return json_response(json::object());
}

Response legacy_send_mail(Ctx &ctx) {
   if (!ctx.app.modules().has_legacy_hook(MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_SEND_MAIL))
      throw MatrixError(404, "M_UNRECOGNIZED", "Account validity renewal emails are not enabled");
   ctx.app.check(ctx.app.modules().on_legacy_send_mail(ctx.call, ctx.user_id), "on_legacy_send_mail");
   return json_response(json::object());
}

Response legacy_renew(Ctx &ctx) {
   if (!ctx.app.modules().has_legacy_hook(MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_RENEW))
      throw MatrixError(404, "M_UNRECOGNIZED", "Account validity renewal is not enabled");
   const auto token = ctx.query("token");
   if (!token || token->empty()) throw MatrixError(400, "M_MISSING_PARAM", "Missing token");
   const auto renew = ctx.app.modules().on_legacy_renew(ctx.call, *token);
   ctx.app.check(renew, "on_legacy_renew");
   if (!renew.answer.token_valid) throw MatrixError(404, "M_NOT_FOUND", "Unknown renewal token");
   return json_response({{"renewed", !renew.answer.token_stale}, {"expiration_ts", renew.answer.expiration_ts}});
}

} // namespace

std::string require_string(const json &body, const char *key) {
   if (!body.is_object() || !body.contains(key)) throw MatrixError(400, "M_MISSING_PARAM", std::string("Missing ") + key);
   if (!body[key].is_string()) throw MatrixError(400, "M_BAD_JSON", std::string(key) + " must be a string");
   return body[key].get<std::string>();
}

std::optional<std::string> optional_string(const json &body, const char *key) {
   if (!body.is_object() || !body.contains(key) || body[key].is_null()) return std::nullopt;
   return require_string(body, key);
}

void deactivate_user(Ctx &ctx, const std::string &user_id, bool by_admin, bool erase) {
   App &app = ctx.app;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      auto user = app.state().users.find(user_id);
      if (user == app.state().users.end()) throw MatrixError(404, "M_NOT_FOUND", "Unknown user " + user_id);
      if (user->second.deactivated) throw MatrixError(400, "M_UNKNOWN", "User is already deactivated");
   }
   const auto may = app.modules().check_can_deactivate_user(ctx.call, user_id, by_admin);
   if (!may.answer) throw module_refusal(may, 403, "M_FORBIDDEN", "Deactivation refused (module '" + may.module + "')");
   std::vector<ThreePid> threepids;
   std::vector<std::string> rooms;
   std::vector<std::string> tokens;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      User &user = app.state().users[user_id];
      user.deactivated = true;
      threepids = user.threepids;
      for (const auto &[t, d] : app.state().tokens)
         if (d.user_id == user_id) tokens.push_back(t);
      for (const auto &t : tokens) app.state().tokens.erase(t);
      const auto joined = app.state().rooms_of(user_id);
      rooms.assign(joined.begin(), joined.end());
      app.state().index_user(user);
   }
   for (const auto &room : rooms) {
      Event leave;
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         leave.event_id = app.state().new_id('$');
      }
      leave.room_id = room;
      leave.sender = user_id;
      leave.type = "m.room.member";
      leave.state_key = user_id;
      leave.content = {{"membership", "leave"}};
      leave.origin = app.config().server_name;
      leave.origin_server_ts = now_ms();
      app.commit_event(ctx, std::move(leave));
   }
   for (const auto &t : threepids) remove_threepid(ctx, user_id, t.medium, t.address);
   if (erase) set_display_name(ctx, user_id, "", by_admin);
   app.modules().on_user_deactivation_status_changed(ctx.call, user_id, true, by_admin);
}

void reactivate_user(Ctx &ctx, const std::string &user_id, const std::string &password) {
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      User &user = ctx.app.state().users[user_id];
      if (!user.deactivated) return;
      user.deactivated = false;
      if (!password.empty()) user.password = password;
      ctx.app.state().index_user(user);
   }
   ctx.app.modules().on_user_deactivation_status_changed(ctx.call, user_id, false, true);
}

void add_threepid(Ctx &ctx, const std::string &user_id, const std::string &medium, const std::string &address) {
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      if (ctx.app.state().user_for_threepid(medium, address))
         throw MatrixError(400, "M_THREEPID_IN_USE", "Third-party identifier is already in use");
      ctx.app.state().users[user_id].threepids.push_back({medium, address, now_ms()});
   }
   ctx.app.modules().on_add_user_third_party_identifier(ctx.call, user_id, medium, address);
}

bool remove_threepid(Ctx &ctx, const std::string &user_id, const std::string &medium, const std::string &address) {
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      auto &list = ctx.app.state().users[user_id].threepids;
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const ThreePid &t) { return t.medium == medium && t.address == address; });
      if (it == list.end()) return false;
      list.erase(it);
   }
   ctx.app.modules().on_remove_user_third_party_identifier(ctx.call, user_id, medium, address);
   return true;
}

std::string create_account(Ctx &ctx, const std::string &localpart, const std::string &password,
                           const std::string &display_name, const json *email, bool admin) {
   App &app = ctx.app;
   if (!valid_localpart(localpart))
      throw MatrixError(400, "M_INVALID_USERNAME", "User ID can only contain characters a-z, 0-9, or '=_-./+'");
   const std::string user_id = "@" + localpart + ":" + app.config().server_name;
   const auto spam = app.modules().check_registration_for_spam(ctx.call, email, localpart, ctx.request_info(),
                                                               std::nullopt);
   app.check(spam, "check_registration_for_spam");
   if (spam.answer == MODKIT_REGISTRATION_DENY)
      throw module_refusal(spam, 403, "M_FORBIDDEN", "Registration has been disabled (module '" + spam.module + "')");
   User user;
   user.user_id = user_id;
   user.localpart = localpart;
   user.password = password;
   user.display_name = display_name;
   user.shadow_banned = spam.answer == MODKIT_REGISTRATION_SHADOW_BAN;
   user.admin = admin;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (app.state().users.count(user_id)) throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
      app.state().users[user_id] = user;
      app.state().index_user(user);
   }
   if (user.shadow_banned) ctx.trace.note(user_id + " is registered shadow-banned");
   app.check(app.modules().on_user_registration(ctx.call, user_id), "on_user_registration");
   return user_id;
}

namespace {

// As Synapse does, each joined room gets a new membership event with the new profile, so its
// members see the change. A module refusing one room's event does not undo the others.
void publish_profile(Ctx &ctx, const std::string &user_id) {
   std::set<std::string> rooms;
   json content = {{"membership", "join"}};
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      const User &user = ctx.app.state().users[user_id];
      if (!user.display_name.empty()) content["displayname"] = user.display_name;
      if (user.avatar_url) content["avatar_url"] = *user.avatar_url;
      rooms = ctx.app.state().rooms_of(user_id);
   }
   for (const auto &room_id : rooms) {
      Event e;
      e.room_id = room_id;
      e.sender = user_id;
      e.type = "m.room.member";
      e.state_key = user_id;
      e.content = content;
      e.origin = ctx.app.config().server_name;
      try {
         ctx.app.send_event(ctx, std::move(e), {false, false});
      } catch (const MatrixError &err) {
         ctx.app.log(MODKIT_LOG_WARNING, "profile of " + user_id + " not sent to " + room_id + ": " + err.what());
      }
   }
}

} // namespace

void set_display_name(Ctx &ctx, const std::string &user_id, const std::string &name, bool by_admin) {
   std::optional<std::string> avatar;
   bool deactivation = false;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      User &user = ctx.app.state().users[user_id];
      user.display_name = name;
      avatar = user.avatar_url;
      deactivation = user.deactivated;
      ctx.app.state().index_user(user);
   }
   ctx.app.modules().on_profile_update(ctx.call, user_id, name, avatar, by_admin, deactivation);
   publish_profile(ctx, user_id);
}

void set_avatar_url(Ctx &ctx, const std::string &user_id, const std::optional<std::string> &url, bool by_admin) {
   std::string name;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      User &user = ctx.app.state().users[user_id];
      user.avatar_url = url;
      name = user.display_name;
   }
   ctx.app.modules().on_profile_update(ctx.call, user_id, name, url, by_admin, false);
   publish_profile(ctx, user_id);
}

void add_account_routes(std::vector<Route> &r) {
   const std::string c = "/_matrix/client/v3";
   r.push_back({"GET", "/_matrix/client/versions", Access::open, [](Ctx &) {
                   return json_response({{"versions", {"v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"}},
                                         {"unstable_features", json::object()}});
                }});
   r.push_back({"POST", c + "/register", Access::open, registration});
   r.push_back({"GET", c + "/login", Access::open, login_flows});
   r.push_back({"POST", c + "/login", Access::open, login});
   r.push_back({"POST", c + "/logout", Access::user_expired, logout});
   r.push_back({"POST", c + "/logout/all", Access::user_expired, logout_all});
   r.push_back({"GET", c + "/account/whoami", Access::user, whoami});
   r.push_back({"POST", c + "/account/deactivate", Access::user, deactivate_self});
   r.push_back({"GET", c + "/account/3pid", Access::user, list_threepids});
   r.push_back({"POST", c + "/account/3pid/add", Access::user, add_own_threepid});
   r.push_back({"POST", c + "/account/3pid/delete", Access::user, delete_own_threepid});
   r.push_back({"POST", c + "/account/3pid/bind", Access::user, bind_threepid});
   r.push_back({"POST", "/_matrix/client/unstable/account_validity/send_mail", Access::user_expired, legacy_send_mail});
   r.push_back({"GET", "/_matrix/client/unstable/account_validity/renew", Access::open, legacy_renew});
}

} // namespace chat
