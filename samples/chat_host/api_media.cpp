// api_media.cpp - media upload (size, per-user limits, spam check), download and config.
#include "accounts.hpp"
#include "module_refusal.hpp"

#include <fmt/format.h>

namespace chat {

namespace {

Response upload(Ctx &ctx) {
   App &app = ctx.app;
   ModuleHost &modules = app.modules();
   const std::string &bytes = ctx.req.body;
   const uint64_t size = bytes.size();
   if (size > app.config().max_upload_size)
      throw MatrixError(413, "M_TOO_LARGE", fmt::format("Upload request body is too large (limit {} bytes)", app.config().max_upload_size));
   const auto allowed = modules.is_user_allowed_to_upload_media_of_size(ctx.call, ctx.user_id, size);
   app.check(allowed, "is_user_allowed_to_upload_media_of_size");
   if (!allowed.answer)
      throw module_refusal(allowed, 413, "M_TOO_LARGE", "Upload request body is too large (module '" + allowed.module + "')");

   // Per-user limits over time: a module's list replaces the configured one.
   const auto module_limits = modules.get_media_upload_limits_for_user(ctx.call, ctx.user_id);
   app.check(module_limits, "get_media_upload_limits_for_user");
   std::vector<UploadLimit> limits;
   if (module_limits.answer) limits = *module_limits.answer;
   else
      for (const auto &[max_bytes, period] : app.config().media_upload_limits) limits.push_back({max_bytes, period});
   const int64_t now = now_ms();
   for (const auto &limit : limits) {
      uint64_t sent = 0;
      {
         std::lock_guard<std::mutex> lock(app.state().mutex);
         for (const auto &[ts, n] : app.state().upload_history[ctx.user_id])
            if (ts > now - limit.time_period_ms) sent += n;
      }
      if (sent + size > limit.max_bytes) {
         modules.on_media_upload_limit_exceeded(ctx.call, ctx.user_id, limit, sent, size);
         throw MatrixError(400, "M_RESOURCE_LIMIT_EXCEEDED",
                           fmt::format("Media upload limit exceeded: {} of {} bytes in {} ms already used", sent,
                                       limit.max_bytes, limit.time_period_ms));
      }
   }

   std::string media_id;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      media_id = app.state().new_id('M');
   }
   auto type = ctx.req.headers.find("content-type");
   const std::string content_type = type == ctx.req.headers.end() ? "application/octet-stream" : type->second;
   const std::string name = ctx.query("filename").value_or("");
   const auto spam = modules.check_media_file_for_spam(ctx.call, bytes, media_id, name, content_type);
   app.check(spam, "check_media_file_for_spam");
   if (spam.answer != MODKIT_NOT_SPAM)
      throw MatrixError(400, modkit_spam_result_errcode(spam.answer), "Bad content (module '" + spam.module + "')");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      app.state().media[media_id] = {media_id, ctx.user_id, content_type, name, bytes, now};
      app.state().upload_history[ctx.user_id].emplace_back(now, size);
   }
   return json_response({{"content_uri", "mxc://" + app.config().server_name + "/" + media_id}});
}

Response download(Ctx &ctx) {
   if (ctx.param("server_name") != ctx.app.config().server_name)
      throw MatrixError(404, "M_NOT_FOUND", "Remote media is not available on this server");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   auto m = ctx.app.state().media.find(ctx.param("media_id"));
   if (m == ctx.app.state().media.end()) throw MatrixError(404, "M_NOT_FOUND", "Not found");
   Response r;
   r.content_type = m->second.content_type;
   r.body = m->second.bytes;
   // Served media must not run as a page of this origin (Synapse sends the same).
   r.headers.emplace_back("content-security-policy", "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';");
   r.headers.emplace_back("x-content-type-options", "nosniff");
   r.headers.emplace_back("cross-origin-resource-policy", "cross-origin");
   return r;
}

Response media_config(Ctx &ctx) {
   const auto config = ctx.app.modules().get_media_config_for_user(ctx.call, ctx.user_id);
   ctx.app.check(config, "get_media_config_for_user");
   if (config.answer) return json_response(*config.answer);
   return json_response({{"m.upload.size", ctx.app.config().max_upload_size}});
}

} // namespace

void add_media_routes(std::vector<Route> &r) {
   r.push_back({"POST", "/_matrix/media/v3/upload", Access::user, upload});
   // The versions this server advertises (up to v1.6) download media without a token, so a
   // client's <img> works; the authenticated endpoints of v1.11 need one. A thumbnail is the
   // original: this server does not scale images.
   for (const std::string prefix : {"/_matrix/media/v3", "/_matrix/client/v1/media"}) {
      const Access access = prefix == "/_matrix/media/v3" ? Access::open : Access::user;
      r.push_back({"GET", prefix + "/config", Access::user, media_config});
      r.push_back({"GET", prefix + "/download/{server_name}/{media_id}", access, download});
      r.push_back({"GET", prefix + "/download/{server_name}/{media_id}/{file_name}", access, download});
      r.push_back({"GET", prefix + "/thumbnail/{server_name}/{media_id}", access, download});
   }
}

} // namespace chat
