// The media repository traits: the per-user config and limits with their found flags, the
// size check, and the refused-upload notification's limit.
#include "harness.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace category_tests;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("every media repository slot reaches its callback and writes its answer") {
   Harness h;
   std::string log;
   modkit::MediaRepositoryCallbacks cb;
   cb.get_media_config_for_user = [](std::string_view user) -> std::optional<json> {
      if (user == "@big:x") return json{{"m.upload.size", 1000}};
      if (user == "@empty:x") return json::object();
      if (user == "@odd:x") return json::array();
      return std::nullopt;
   };
   cb.is_user_allowed_to_upload_media_of_size = [](std::string_view, uint64_t size) { return size <= 1000; };
   cb.get_media_upload_limits_for_user = [](std::string_view user) -> std::optional<std::vector<modkit::MediaUploadLimit>> {
      if (user == "@big:x") return std::vector<modkit::MediaUploadLimit>{{5000, 1h}, {20000, 24h}};
      if (user == "@free:x") return std::vector<modkit::MediaUploadLimit>{};
      if (user == "@odd:x") return std::vector<modkit::MediaUploadLimit>{{1, 0ms}};
      return std::nullopt;
   };
   cb.on_media_upload_limit_exceeded = [&](std::string_view user, const modkit::MediaUploadLimit &limit,
                                           uint64_t sent, uint64_t attempted) {
      log += std::string(user) + "," + std::to_string(limit.max_bytes) + "/" +
             std::to_string(limit.time_period.count()) + "ms," + std::to_string(sent) + "+" +
             std::to_string(attempted) + ";";
   };
   h.api->register_media_repository_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_media_repository_callbacks>(MODKIT_MEDIA_REPOSITORY_ID);
   void *ud = h.user_data(MODKIT_MEDIA_REPOSITORY_ID);

   bool found = false;
   modkit_buffer config;
   CHECK(c.get_media_config_for_user(ud, &h.call, str("@big:x"), &found, &config) == MODKIT_OK);
   CHECK(found);
   CHECK(json::parse(config.data) == json{{"m.upload.size", 1000}});
   for (const char *user : {"@empty:x", "@none:x"}) {
      modkit_buffer nothing;
      CHECK(c.get_media_config_for_user(ud, &h.call, str(user), &found, &nothing) == MODKIT_OK);
      CHECK_FALSE(found);
      CHECK(nothing.data.empty());
   }
   modkit_buffer odd;
   CHECK(c.get_media_config_for_user(ud, &h.call, str("@odd:x"), &found, &odd) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(h.logged_error("a media config must be a JSON object, not array"));

   bool allowed = false;
   CHECK(c.is_user_allowed_to_upload_media_of_size(ud, &h.call, str("@a:x"), 999, &allowed) == MODKIT_OK);
   CHECK(allowed);
   CHECK(c.is_user_allowed_to_upload_media_of_size(ud, &h.call, str("@a:x"), 5000000000ULL, &allowed) == MODKIT_OK);
   CHECK_FALSE(allowed);

   modkit_buffer limits;
   CHECK(c.get_media_upload_limits_for_user(ud, &h.call, str("@big:x"), &found, &limits) == MODKIT_OK);
   CHECK(found);
   CHECK(json::parse(limits.data) == json::parse(R"([{"max_bytes": 5000, "time_period_ms": 3600000},
                                                     {"max_bytes": 20000, "time_period_ms": 86400000}])"));
   modkit_buffer unlimited;
   CHECK(c.get_media_upload_limits_for_user(ud, &h.call, str("@free:x"), &found, &unlimited) == MODKIT_OK);
   CHECK(found); // no limits at all, which is not "no opinion"
   CHECK(unlimited.data == "[]");
   modkit_buffer unset;
   CHECK(c.get_media_upload_limits_for_user(ud, &h.call, str("@none:x"), &found, &unset) == MODKIT_OK);
   CHECK_FALSE(found);
   modkit_buffer bad;
   found = true;
   CHECK(c.get_media_upload_limits_for_user(ud, &h.call, str("@odd:x"), &found, &bad) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(found); // untouched: the host never reads a half-written answer
   CHECK(bad.data.empty());

   modkit_media_upload_limit limit{};
   limit.struct_size = sizeof limit;
   limit.max_bytes = 5000;
   limit.time_period_ms = 3600000;
   CHECK(c.on_media_upload_limit_exceeded(ud, &h.call, str("@big:x"), &limit, 4500, 800) == MODKIT_OK);
   CHECK(log == "@big:x,5000/3600000ms,4500+800;");
}

TEST_CASE("media repository callbacks left unset stay null; failures are error statuses") {
   Harness h;
   modkit::MediaRepositoryCallbacks cb;
   cb.is_user_allowed_to_upload_media_of_size = [](std::string_view, uint64_t) -> bool {
      throw modkit::Error(MODKIT_E_UNSUPPORTED, "quota service gone");
   };
   h.api->register_media_repository_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_media_repository_callbacks>(MODKIT_MEDIA_REPOSITORY_ID);
   CHECK(is_set(c.is_user_allowed_to_upload_media_of_size));
   CHECK_FALSE(is_set(c.get_media_config_for_user));
   CHECK_FALSE(is_set(c.get_media_upload_limits_for_user));
   CHECK_FALSE(is_set(c.on_media_upload_limit_exceeded));
   bool allowed = true;
   CHECK(c.is_user_allowed_to_upload_media_of_size(h.user_data(MODKIT_MEDIA_REPOSITORY_ID), &h.call, str("@a:x"), 1,
                                                   &allowed) == MODKIT_E_UNSUPPORTED);
   CHECK(allowed);
   CHECK(h.logged_error("is_user_allowed_to_upload_media_of_size failed (unsupported): quota service gone"));
}
