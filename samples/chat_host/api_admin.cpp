// api_admin.cpp - the admin API under /_synapse/admin/: users (deactivation, third-party
// identifiers), room shutdown, account validity, background updates, modules (reload, caches)
// and /metrics.
#include "accounts.hpp"
#include "module_refusal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace chat {

namespace {

const std::string admin = "/_synapse/admin";

Response deactivate(Ctx &ctx) {
   deactivate_user(ctx, ctx.param("user_id"), true, ctx.body().value("erase", false));
   return json_response({{"id_server_unbind_result", "success"}});
}

json user_info(State &state, const std::string &user_id) {
   const User &u = state.users.at(user_id);
   json threepids = json::array();
   for (const auto &t : u.threepids) threepids.push_back({{"medium", t.medium}, {"address", t.address}, {"added_at", t.added_at}});
   return {{"name", u.user_id},          {"displayname", u.display_name}, {"admin", u.admin},
           {"deactivated", u.deactivated}, {"shadow_banned", u.shadow_banned}, {"threepids", threepids}};
}

Response get_user(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   if (!ctx.app.state().users.count(ctx.param("user_id"))) throw MatrixError(404, "M_NOT_FOUND", "User not found");
   return json_response(user_info(ctx.app.state(), ctx.param("user_id")));
}

// Synapse's "create or modify account": display name, third-party identifiers, deactivation.
Response put_user(Ctx &ctx) {
   App &app = ctx.app;
   const std::string user_id = ctx.param("user_id");
   const json &body = ctx.body();
   if (!valid_user_id(user_id) || !app.state().is_local(user_id))
      throw MatrixError(400, "M_INVALID_PARAM", "Only local users can be administered");
   bool created = false;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (!app.state().users.count(user_id)) {
         User u;
         u.user_id = user_id;
         u.localpart = user_id.substr(1, user_id.find(':') - 1);
         u.display_name = u.localpart;
         u.password = optional_string(body, "password").value_or("");
         app.state().users[user_id] = u;
         app.state().index_user(u);
         created = true;
      }
      if (body.contains("admin")) {
         if (!body["admin"].is_boolean()) throw MatrixError(400, "M_BAD_JSON", "admin must be true or false");
         app.state().users[user_id].admin = body["admin"].get<bool>();
      }
   }
   if (created) app.check(app.modules().on_user_registration(ctx.call, user_id), "on_user_registration");
   if (body.contains("displayname")) set_display_name(ctx, user_id, require_string(body, "displayname"), true);
   if (body.contains("threepids")) {
      if (!body["threepids"].is_array()) throw MatrixError(400, "M_BAD_JSON", "threepids must be an array");
      std::vector<std::pair<std::string, std::string>> wanted;
      for (const auto &t : body["threepids"]) wanted.emplace_back(require_string(t, "medium"), require_string(t, "address"));
      std::vector<ThreePid> current;
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         current = app.state().users[user_id].threepids;
      }
      for (const auto &t : current)
         if (std::find(wanted.begin(), wanted.end(), std::make_pair(t.medium, t.address)) == wanted.end())
            remove_threepid(ctx, user_id, t.medium, t.address);
      for (const auto &want : wanted) { // a pair, not a structured binding: C++17 lambdas cannot capture those
         const bool have = std::any_of(current.begin(), current.end(),
                                       [&](const ThreePid &t) { return t.medium == want.first && t.address == want.second; });
         if (!have) add_threepid(ctx, user_id, want.first, want.second);
      }
   }
   if (body.contains("deactivated")) {
      if (!body["deactivated"].is_boolean()) throw MatrixError(400, "M_BAD_JSON", "deactivated must be true or false");
      bool now_deactivated = false;
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         now_deactivated = app.state().users[user_id].deactivated;
      }
      if (body["deactivated"].get<bool>() && !now_deactivated) deactivate_user(ctx, user_id, true, false);
      if (!body["deactivated"].get<bool>() && now_deactivated)
         reactivate_user(ctx, user_id, optional_string(body, "password").value_or(""));
   }
   std::lock_guard<std::mutex> lock(app.state().mutex);
   return json_response(user_info(app.state(), user_id), created ? 201 : 200);
}

Response shutdown_room(Ctx &ctx) {
   App &app = ctx.app;
   const std::string room_id = ctx.param("room_id");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      auto room = app.state().rooms.find(room_id);
      if (room == app.state().rooms.end()) throw MatrixError(404, "M_NOT_FOUND", "Unknown room " + room_id);
      if (room->second.shut_down) throw MatrixError(400, "M_UNKNOWN", "Room is already shut down");
   }
   const auto may = app.modules().check_can_shutdown_room(ctx.call, ctx.user_id, room_id);
   if (!may.answer) throw module_refusal(may, 403, "M_FORBIDDEN", "Shutdown of this room is forbidden (module '" + may.module + "')");
   std::vector<std::string> members;
   std::vector<std::string> aliases;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      members = app.state().members(room_id, "join");
      Room &room = app.state().rooms[room_id];
      aliases.assign(room.aliases.begin(), room.aliases.end());
   }
   std::vector<std::string> kicked;
   for (const auto &member : members) {
      Event leave;
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         leave.event_id = app.state().new_id('$');
      }
      leave.room_id = room_id;
      leave.sender = member;
      leave.type = "m.room.member";
      leave.state_key = member;
      leave.content = {{"membership", "leave"}};
      leave.origin = app.config().server_name;
      leave.origin_server_ts = now_ms();
      app.commit_event(ctx, std::move(leave));
      kicked.push_back(member);
   }
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      Room &room = app.state().rooms[room_id];
      room.shut_down = true;
      room.blocked = ctx.body().value("block", false);
      room.published = false;
      for (const auto &a : aliases) app.state().aliases.erase(a);
      room.aliases.clear();
   }
   return json_response({{"kicked_users", kicked}, {"failed_to_kick_users", json::array()}, {"local_aliases", aliases},
                         {"new_room_id", nullptr}});
}

Response account_validity(Ctx &ctx) {
   App &app = ctx.app;
   if (!app.modules().has_legacy_hook(MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_ADMIN_REQUEST))
      throw MatrixError(404, "M_UNRECOGNIZED", "Account validity is not enabled");
   const std::string user_id = require_string(ctx.body(), "user_id");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (!app.state().users.count(user_id)) throw MatrixError(404, "M_NOT_FOUND", "Unknown user " + user_id);
   }
   const auto answer = app.modules().on_legacy_admin_request(ctx.call, ctx.req.method, ctx.req.path, ctx.req.body, ctx.user_id);
   app.check(answer, "on_legacy_admin_request");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      app.state().users[user_id].expiration_ts = answer.answer; // the host's own record, used when no module has an opinion
   }
   return json_response({{"expiration_ts", answer.answer}});
}

// Runs a background update to the end in batches paced by the controller module (or the
// host's defaults: 100 items, 100 ms iterations, batches no smaller than 1).
Response run_background_update(Ctx &ctx) {
   App &app = ctx.app;
   ModuleHost &modules = app.modules();
   const std::string job = require_string(ctx.body(), "job_name");
   const bool one_shot = ctx.body().value("one_shot", false);
   std::vector<std::string> items;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (job == "regenerate_directory")
         for (const auto &[id, user] : app.state().users) items.push_back(id);
      else if (job == "populate_stats_process_rooms")
         for (const auto &[id, room] : app.state().rooms) items.push_back(id);
      else
         throw MatrixError(400, "M_UNKNOWN", "Unknown job " + job + " (regenerate_directory, populate_stats_process_rooms)");
   }
   const std::string database = "main";
   auto positive = [&](const Decision<int32_t> &d, const char *what, int32_t fallback) {
      app.check(d, what);
      return d.answer > 0 ? d.answer : fallback;
   };
   int64_t batch = positive(modules.default_batch_size(ctx.call, job, database), "default_batch_size", 100);
   const int64_t min_batch = positive(modules.min_batch_size(ctx.call, job, database), "min_batch_size", 1);
   json iterations = json::array();
   json stats = json::object();
   size_t pos = 0;
   for (int guard = 0; pos < items.size() && guard < 100000; ++guard) {
      const int64_t target_ms = positive(modules.on_update(ctx.call, job, database, one_shot), "on_update", 100);
      const size_t take = one_shot ? items.size() - pos : std::min<size_t>(static_cast<size_t>(batch), items.size() - pos);
      const auto start = std::chrono::steady_clock::now();
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         for (size_t i = pos; i < pos + take; ++i) {
            if (job == "regenerate_directory") app.state().index_user(app.state().users[items[i]]);
            else stats[items[i]] = app.state().members(items[i], "join").size();
         }
      }
      const double took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      iterations.push_back({{"batch_size", take}, {"target_duration_ms", target_ms}});
      pos += take;
      if (!one_shot) {
         // Aim the next batch at the target duration, at most doubling, never below the minimum.
         const double scaled = static_cast<double>(batch) * static_cast<double>(target_ms) / std::max(took_ms, 0.001);
         batch = std::max<int64_t>(min_batch, std::min<int64_t>(batch * 2, static_cast<int64_t>(scaled)));
      }
   }
   json out = {{"job_name", job}, {"one_shot", one_shot}, {"items", items.size()}, {"iterations", iterations}};
   if (job == "populate_stats_process_rooms") out["joined_members"] = stats;
   return json_response(out);
}

Response list_modules(Ctx &ctx) { return json_response(ctx.app.modules().describe()); }

Response reload_module(Ctx &ctx) {
   const std::string name = ctx.param("module");
   const auto errors = ctx.app.modules().reload(name);
   for (const auto &e : errors) ctx.app.log(MODKIT_LOG_ERROR, "reload: " + e);
   if (!errors.empty()) throw MatrixError(errors.size() == 1 && errors[0].rfind("no module", 0) == 0 ? 404 : 409,
                                          "M_UNKNOWN", "Reload of " + name + " failed", {{"errors", errors}});
   ctx.app.log(MODKIT_LOG_INFO, "reloaded module '" + name + "'");
   return json_response({{"reloaded", name}});
}

Response invalidate_cache(Ctx &ctx) {
   App &app = ctx.app;
   const std::string module = ctx.param("module"), cache = ctx.param("cache");
   const json &body = ctx.body();
   const json *key = nullptr;
   if (body.contains("key")) {
      if (!body["key"].is_array()) throw MatrixError(400, "M_BAD_JSON", "key must be a JSON array of the cached function's arguments");
      key = &body["key"];
   }
   const modkit_status s = app.modules().invalidate_cache(module, cache, key);
   if (s == MODKIT_E_NOT_FOUND) throw MatrixError(404, "M_NOT_FOUND", "Module " + module + " has no cached function " + cache);
   if (s != MODKIT_OK)
      throw MatrixError(500, "M_UNKNOWN", fmt::format("Invalidation failed with status {}", modkit_status_name(s)));
   const auto counts = app.metrics().cache(module, cache);
   return json_response({{"module", module}, {"cache", cache}, {"key", key ? *key : json()},
                         {"hits", counts.hits}, {"misses", counts.misses}, {"invalidations", counts.invalidations}});
}

Response metrics(Ctx &ctx) {
   Response r;
   r.content_type = "text/plain; version=0.0.4";
   r.body = ctx.app.metrics().render();
   // What idle clients cost: their long polls hold no thread, only a waiter each.
   r.body += fmt::format("# HELP modkit_sync_requests_waiting Long-polling /sync requests waiting for news.\n"
                         "# TYPE modkit_sync_requests_waiting gauge\nmodkit_sync_requests_waiting {}\n",
                         ctx.app.state().notifier.waiting());
   // The modules' own metrics (modkit.metrics/1), named modkit_mod_<module>_*, after the host's.
   r.body += ctx.app.modules().loader().metrics_text(MODKIT_LOADER_METRICS_MODULES);
   return r;
}

} // namespace

void add_admin_routes(std::vector<Route> &r) {
   r.push_back({"POST", admin + "/v1/deactivate/{user_id}", Access::admin, deactivate});
   r.push_back({"GET", admin + "/v2/users/{user_id}", Access::admin, get_user});
   r.push_back({"PUT", admin + "/v2/users/{user_id}", Access::admin, put_user});
   r.push_back({"DELETE", admin + "/v1/rooms/{room_id}", Access::admin, shutdown_room});
   r.push_back({"POST", admin + "/v1/account_validity/validity", Access::admin, account_validity});
   r.push_back({"POST", admin + "/v1/background_updates/start_job", Access::admin, run_background_update});
   r.push_back({"GET", admin + "/v1/modules", Access::admin, list_modules});
   r.push_back({"POST", admin + "/v1/modules/{module}/reload", Access::admin, reload_module});
   r.push_back({"POST", admin + "/v1/modules/{module}/caches/{cache}/invalidate", Access::admin, invalidate_cache});
   r.push_back({"GET", "/metrics", Access::metrics, metrics});
}

} // namespace chat
