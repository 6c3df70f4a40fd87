// router.cpp - matching, authentication, is_user_expired, errors, module web resources.
#include "router.hpp"

#include "app.hpp"
#include "identifiers.hpp"
#include "json_limits.hpp"

#include <fmt/format.h>

#include <string_view>

namespace chat {

namespace {

// "/a/b/c" -> {"a", "b", "c"}: views into path, which must outlive them.
std::vector<std::string_view> split_path(std::string_view path) {
   std::vector<std::string_view> out;
   size_t i = 1;
   while (i <= path.size()) {
      const size_t slash = path.find('/', i);
      out.push_back(path.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i));
      if (slash == std::string_view::npos) break;
      i = slash + 1;
   }
   return out;
}

// A route's pattern, split once: literal segments, and "{name}" placeholders (name kept).
struct Pattern {
   struct Segment {
      std::string text;
      bool placeholder;
   };
   std::vector<Segment> segments;
};

Pattern compile(const std::string &pattern) {
   Pattern p;
   for (std::string_view s : split_path(pattern)) {
      const bool placeholder = s.size() > 2 && s.front() == '{' && s.back() == '}';
      p.segments.push_back({std::string(placeholder ? s.substr(1, s.size() - 2) : s), placeholder});
   }
   return p;
}

// Every request is matched against every route: the patterns are split once, the path once per
// request, and nothing is allocated unless the route matches.
bool match(const Pattern &pattern, const std::vector<std::string_view> &got, std::map<std::string, std::string> *params) {
   if (pattern.segments.size() != got.size()) return false;
   for (size_t i = 0; i < got.size(); ++i) {
      const auto &w = pattern.segments[i];
      if (w.placeholder ? got[i].empty() : w.text != got[i]) return false;
   }
   if (params)
      for (size_t i = 0; i < got.size(); ++i)
         if (pattern.segments[i].placeholder) (*params)[pattern.segments[i].text] = percent_decode(std::string(got[i]));
   return true;
}

// routes()' patterns, compiled, in the same order.
const std::vector<Pattern> &patterns() {
   static const std::vector<Pattern> all = [] {
      std::vector<Pattern> p;
      for (const Route &r : routes()) p.push_back(compile(r.pattern));
      return p;
   }();
   return all;
}

Response error_response(int status, const std::string &errcode, const std::string &message,
                        const json &extra = json::object()) {
   json body = extra.is_object() ? extra : json::object();
   body["errcode"] = errcode;
   body["error"] = message;
   return json_response(body, status);
}

} // namespace

std::vector<Route> &routes() {
   static std::vector<Route> all = [] {
      std::vector<Route> r;
      add_account_routes(r);
      add_room_routes(r);
      add_profile_routes(r);
      add_media_routes(r);
      add_admin_routes(r);
      add_federation_routes(r);
      add_push_routes(r);
      add_client_misc_routes(r);
      add_sync_routes(r);
      add_ephemeral_routes(r);
      add_room_read_routes(r);
      return r;
   }();
   return all;
}

Response json_response(const json &body, int status) {
   Response r;
   r.status = status;
   r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
   return r;
}

const json &Ctx::body() {
   if (!body_) {
      body_ = parse_json_body(req.body, app.config().limits);
   }
   return *body_;
}

std::optional<std::string> Ctx::query(const std::string &name) const {
   auto it = req.query.find(name);
   return it == req.query.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::optional<uint64_t> Ctx::query_number(const std::string &name) const {
   const auto text = query(name);
   if (!text) return std::nullopt;
   if (text->empty() || text->size() > 18 || text->find_first_not_of("0123456789") != std::string::npos)
      throw MatrixError(400, "M_INVALID_PARAM", name + " must be a whole number");
   return std::stoull(*text);
}

json Ctx::request_info() const {
   auto ua = req.headers.find("user-agent");
   return json::array({{{"user_agent", ua == req.headers.end() ? json() : json(ua->second)}, {"ip", req.remote_addr}}});
}

Router::Router(App &app) : app_(app) {}

bool Router::is_builtin(const std::string &path) {
   const auto got = split_path(path);
   for (const Pattern &p : patterns())
      if (match(p, got, nullptr)) return true;
   return false;
}

Response Router::handle(const Request &request) { return serve(request, nullptr); }

Response Router::act(const std::string &user_id, const Request &request) { return serve(request, &user_id); }

Response Router::serve(const Request &request, const std::string *acting_as) {
   Ctx ctx(app_, request);
   ctx.call.request_id = app_.next_request_id();
   ctx.call.trace = request.traced ? &ctx.trace : nullptr;
   Response response;
   try {
      check_request_text(request);
      response = dispatch(request, ctx, acting_as);
   } catch (const MatrixError &e) {
      response = error_response(e.status(), e.errcode(), e.what(), e.extra());
   } catch (const json::exception &e) {
      // A body field of the wrong type, caught where the handler read it. The library's text
      // stays in the log: responses never carry internal exception text.
      app_.log(MODKIT_LOG_INFO, fmt::format("{} {}: bad body: {}", request.method, request.path, e.what()));
      response = error_response(400, "M_BAD_JSON", "Invalid request body: a field is missing or has the wrong type");
   } catch (const std::exception &e) {
      app_.log(MODKIT_LOG_ERROR, fmt::format("{} {} failed: {}", request.method, request.path, e.what()));
      response = error_response(500, "M_UNKNOWN", "Internal server error");
   }
   response.headers.emplace_back("access-control-allow-origin", "*");
   response.trace = std::move(ctx.trace);
   if (!response.long_poll) app_.metrics().count_request(response.status); // once, when it answers
   return response;
}

void Router::authenticate(const Request &request, const std::string &token, Ctx &ctx) {
   State &state = app_.state();
   std::lock_guard<std::mutex> lock(state.mutex);
   auto device = state.tokens.find(token);
   if (device == state.tokens.end()) return;
   ctx.user_id = device->second.user_id;
   ctx.device_id = device->second.device_id;
   ctx.access_token = token;
   auto user = state.users.find(ctx.user_id);
   // Only the account's flag: a name listed in the config's admins is reserved for the operator
   // (api_account.cpp), never made an admin by whoever registers it first.
   ctx.is_admin = user != state.users.end() && user->second.admin;
   auto ua = request.headers.find("user-agent");
   state.record_client(ctx.user_id, request.remote_addr, ua == request.headers.end() ? "" : ua->second, now_ms());
}

void Router::act_as(const std::string &user_id, Ctx &ctx) {
   State &state = app_.state();
   std::lock_guard<std::mutex> lock(state.mutex);
   auto user = state.users.find(user_id);
   if (user == state.users.end()) throw MatrixError(404, "M_NOT_FOUND", "Unknown user " + user_id);
   if (user->second.deactivated) throw MatrixError(403, "M_USER_DEACTIVATED", "User " + user_id + " is deactivated");
   ctx.user_id = user_id;
   ctx.is_admin = user->second.admin;
   ctx.ratelimited = false;
}

Response Router::dispatch(const Request &request, Ctx &ctx, const std::string *acting_as) {
   if (request.method == "OPTIONS") {
      Response r = json_response(json::object());
      r.headers = {{"access-control-allow-methods", "GET, POST, PUT, DELETE, OPTIONS"},
                   {"access-control-allow-headers", "Authorization, Content-Type"}};
      return r;
   }
   const Route *found = nullptr;
   bool path_known = false;
   const auto got = split_path(request.path);
   const std::vector<Route> &all = routes();
   for (size_t i = 0; i < all.size(); ++i) {
      if (!match(patterns()[i], got, nullptr)) continue;
      path_known = true;
      if (all[i].method != request.method) continue;
      found = &all[i];
      match(patterns()[i], got, &ctx.params);
      break;
   }
   // Before anything is looked up, stored or handed to a module.
   check_path_params(ctx.params, app_.config().limits);
   if (acting_as) {
      if (!found) throw MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
      act_as(*acting_as, ctx);
      if ((found->access == Access::admin || found->access == Access::metrics) && !ctx.is_admin)
         throw MatrixError(403, "M_FORBIDDEN", "You are not a server admin");
      return found->handler(ctx);
   }
   if (found && (found->access == Access::admin || found->access == Access::metrics) &&
       !app_.config().admin_listen.empty() && !request.admin_listener)
      found = nullptr, path_known = false; // served on the loopback admin listener only

   // The access token: "Authorization: Bearer ..." or ?access_token=.
   std::optional<std::string> token;
   auto auth = request.headers.find("authorization");
   if (auth != request.headers.end() && auth->second.compare(0, 7, "Bearer ") == 0) token = auth->second.substr(7);
   else if (auto q = request.query.find("access_token"); q != request.query.end()) token = q->second;
   if (token) authenticate(request, *token, ctx);

   if (!found) {
      if (path_known) throw MatrixError(405, "M_UNRECOGNIZED", "Method not allowed for this endpoint.");
      WebResponse web;
      const std::optional<std::string> who = ctx.user_id.empty() ? std::nullopt : std::optional<std::string>(ctx.user_id);
      json headers = json::object();
      for (const auto &[k, v] : request.headers)
         if (k != "authorization") headers[k] = v; // modules never see the caller's token
      if (app_.modules().serve_web(ctx.call, request.method, request.path, request.raw_query, headers, request.body,
                                   who, web)) {
         Response r;
         r.status = web.status;
         r.body = std::move(web.body);
         r.content_type = "application/octet-stream";
         for (auto &[k, v] : web.headers) {
            if (k == "content-type" || k == "Content-Type") r.content_type = v;
            else r.headers.emplace_back(k, v);
         }
         return r;
      }
      throw MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
   }

   if (found->access == Access::metrics && request.admin_listener) return found->handler(ctx);
   if (found->access != Access::open) {
      if (!token) throw MatrixError(401, "M_MISSING_TOKEN", "Missing access token");
      if (ctx.user_id.empty()) throw MatrixError(401, "M_UNKNOWN_TOKEN", "Unknown access token", {{"soft_logout", false}});
      if (found->access != Access::user_expired) {
         // Asked on every authenticated request but logout (Synapse's rule).
         const auto expired = app_.modules().is_user_expired(ctx.call, ctx.user_id);
         app_.check(expired, "is_user_expired");
         bool is_expired = expired.answer == MODKIT_EXPIRY_EXPIRED;
         if (expired.answer == MODKIT_EXPIRY_NO_OPINION) {
            // No module has an opinion: the host's own expiry, set through the legacy hooks.
            std::lock_guard<std::mutex> lock(app_.state().mutex);
            auto user = app_.state().users.find(ctx.user_id);
            is_expired = user != app_.state().users.end() && user->second.expiration_ts &&
                         *user->second.expiration_ts < now_ms();
         }
         if (is_expired) throw MatrixError(403, "ORG_MATRIX_EXPIRED_ACCOUNT", "User account has expired");
      }
      if ((found->access == Access::admin || found->access == Access::metrics) && !ctx.is_admin)
         throw MatrixError(403, "M_FORBIDDEN", "You are not a server admin");
   }
   return found->handler(ctx);
}

} // namespace chat
