// samples/media_quota through the loader: caps, per-user config and limits, rate overrides.
#include "sample_host.hpp"

using namespace sample_tests;

namespace {

const json config = json::parse(R"({
   "max_upload_bytes": 10000,
   "users": {"@bob:localhost": {"max_upload_bytes": 1024,
                                "upload_limits": [{"max_bytes": 4096, "time_period_ms": 3600000}]},
             "@admin:localhost": {"upload_limits": []}},
   "ratelimit_overrides": {"@admin:localhost": {"per_second": 0, "burst_count": 0}}})");

json upload(SampleHost &host, const char *user, uint64_t size) {
   return host.dispatch(MODKIT_MEDIA_REPOSITORY_ID, "is_user_allowed_to_upload_media_of_size",
                        {{"user_id", user}, {"size", size}});
}

} // namespace

TEST_CASE("media_quota caps uploads and gives users their own config and limits") {
   SampleHost host(json::array({{{"module", "media_quota"}, {"config", config}}}));
   const char *media = MODKIT_MEDIA_REPOSITORY_ID;

   CHECK(upload(host, "@bob:localhost", 2048)["answer"]["allowed"] == false);
   CHECK(host.logged("[media_quota] refused an upload of 2048 bytes by @bob:localhost (the cap is 1024)"));
   CHECK(upload(host, "@bob:localhost", 1000)["outcome"] == "no_opinion");
   CHECK(upload(host, "@carol:localhost", 20000)["answer"]["allowed"] == false);
   CHECK(upload(host, "@carol:localhost", 9000)["outcome"] == "no_opinion");

   json bob = host.answer(media, "get_media_config_for_user", {{"user_id", "@bob:localhost"}});
   CHECK(json::parse(bob["config"].get<std::string>()) == json{{"m.upload.size", 1024}});
   CHECK(host.dispatch(media, "get_media_config_for_user", {{"user_id", "@carol:localhost"}})["outcome"] == "no_opinion");

   json limits = host.answer(media, "get_media_upload_limits_for_user", {{"user_id", "@bob:localhost"}});
   CHECK(json::parse(limits["limits"].get<std::string>()) ==
         json::parse(R"([{"max_bytes": 4096, "time_period_ms": 3600000}])"));
   json unlimited = host.answer(media, "get_media_upload_limits_for_user", {{"user_id", "@admin:localhost"}});
   CHECK(unlimited["limits"] == "[]");
   CHECK(host.logged("@admin:localhost uploads without limits"));
   CHECK(host.dispatch(media, "get_media_upload_limits_for_user", {{"user_id", "@carol:localhost"}})["outcome"] ==
         "no_opinion");

   host.dispatch(media, "on_media_upload_limit_exceeded",
                 {{"user_id", "@bob:localhost"}, {"limit", {{"max_bytes", 4096}, {"time_period_ms", 3600000}}},
                  {"sent_bytes", 4000}, {"attempted_bytes", 500}});
   CHECK(host.logged("@bob:localhost hit the limit of 4096 bytes per 3600000 ms: 4000 sent, 500 more refused"));
}

TEST_CASE("media_quota overrides rate limits for configured users only") {
   SampleHost host(json::array({{{"module", "media_quota"}, {"config", config}}}));
   json admin = host.answer(MODKIT_RATELIMIT_ID, "get_ratelimit_override_for_user",
                                  {{"user_id", "@admin:localhost"}, {"limiter_name", "rc_invites.per_user"}});
   CHECK(admin["found"] == true);
   CHECK(admin["per_second"] == 0.0);
   CHECK(admin["burst_count"] == 0);
   CHECK(host.logged("@admin:localhost gets 0 actions/s, bursts of 0, from rc_invites.per_user"));
   CHECK(host.dispatch(MODKIT_RATELIMIT_ID, "get_ratelimit_override_for_user",
                       {{"user_id", "@bob:localhost"}, {"limiter_name", "rc_invites.per_user"}})["outcome"] ==
         "no_opinion");
}

TEST_CASE("media_quota's schema refuses malformed limits") {
   json bad = config;
   bad["users"]["@bob:localhost"]["upload_limits"][0]["time_period_ms"] = 0;
   const std::string errors = load_errors(json::array({{{"module", "media_quota"}, {"config", bad}}}));
   CHECK(errors.find("/modules/0/config/users/@bob:localhost/upload_limits/0/time_period_ms") != std::string::npos);
}
