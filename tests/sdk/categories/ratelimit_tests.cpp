// The rate limit traits: an override written with its found flag, nonsense refused.
#include "harness.hpp"

#include <limits>
#include <stdexcept>
#include <string>

using namespace category_tests;

TEST_CASE("get_ratelimit_override_for_user writes an override or leaves found false") {
   Harness h;
   std::string log;
   modkit::RatelimitCallbacks cb;
   cb.get_ratelimit_override_for_user = [&](std::string_view user,
                                            std::string_view limiter) -> std::optional<modkit::RatelimitOverride> {
      log += std::string(user) + "/" + std::string(limiter) + ";";
      if (user == "@bot:x") return modkit::RatelimitOverride{0.0, 0};
      if (user == "@slow:x") return modkit::RatelimitOverride{0.5, 3};
      if (user == "@bad:x") return modkit::RatelimitOverride{-1.0, 3};
      if (user == "@nan:x") return modkit::RatelimitOverride{std::numeric_limits<double>::quiet_NaN(), 3};
      return std::nullopt;
   };
   h.api->register_ratelimit_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_ratelimit_callbacks>(MODKIT_RATELIMIT_ID);
   void *ud = h.user_data(MODKIT_RATELIMIT_ID);

   bool found = false;
   double per_second = -1;
   int64_t burst = -1;
   CHECK(c.get_ratelimit_override_for_user(ud, &h.call, str("@slow:x"), str("rc_invites.per_user"), &found,
                                           &per_second, &burst) == MODKIT_OK);
   CHECK(found);
   CHECK(per_second == 0.5);
   CHECK(burst == 3);
   CHECK(c.get_ratelimit_override_for_user(ud, &h.call, str("@bot:x"), str("rc_invites.per_room"), &found,
                                           &per_second, &burst) == MODKIT_OK);
   CHECK(found);
   CHECK(per_second == 0.0); // the limit is off
   CHECK(c.get_ratelimit_override_for_user(ud, &h.call, str("@ann:x"), str("rc_invites.per_room"), &found,
                                           &per_second, &burst) == MODKIT_OK);
   CHECK_FALSE(found);
   CHECK(log == "@slow:x/rc_invites.per_user;@bot:x/rc_invites.per_room;@ann:x/rc_invites.per_room;");

   for (const char *user : {"@bad:x", "@nan:x"}) {
      found = false;
      per_second = 9;
      CHECK(c.get_ratelimit_override_for_user(ud, &h.call, str(user), str("l"), &found, &per_second, &burst) ==
            MODKIT_E_INVALID_ARGUMENT);
      CHECK_FALSE(found);
      CHECK(per_second == 9);
   }
   CHECK(h.logged_error("a rate limit override needs a finite per_second >= 0 and a burst_count >= 0"));
}

TEST_CASE("rate limit: an unset callback stays null, a failing one is an error status") {
   Harness h;
   h.api->register_ratelimit_callbacks({});
   CHECK_FALSE(is_set(h.callbacks<modkit_ratelimit_callbacks>(MODKIT_RATELIMIT_ID).get_ratelimit_override_for_user));

   Harness h2;
   modkit::RatelimitCallbacks cb;
   cb.get_ratelimit_override_for_user = [](std::string_view, std::string_view) -> std::optional<modkit::RatelimitOverride> {
      throw std::runtime_error("config store down");
   };
   h2.api->register_ratelimit_callbacks(std::move(cb));
   const auto c = h2.callbacks<modkit_ratelimit_callbacks>(MODKIT_RATELIMIT_ID);
   bool found = false;
   double per_second = 0;
   int64_t burst = 0;
   CHECK(c.get_ratelimit_override_for_user(h2.user_data(MODKIT_RATELIMIT_ID), &h2.call, str("@a:x"), str("l"), &found,
                                           &per_second, &burst) == MODKIT_E_INTERNAL);
   CHECK(h2.logged_error("get_ratelimit_override_for_user failed (internal): config store down"));
   CHECK(c.get_ratelimit_override_for_user(h2.user_data(MODKIT_RATELIMIT_ID), &h2.call, str("@a:x"), str("l"), &found,
                                           nullptr, &burst) == MODKIT_E_INVALID_ARGUMENT);
}
