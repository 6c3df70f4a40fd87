// The background update controller traits: optional answers as the C header's 0-for-default,
// out-of-range answers refused, and the required on_update.
#include "harness.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

using namespace category_tests;
using namespace std::chrono_literals;

TEST_CASE("the controller's answers are written, nullopt as the host's default") {
   Harness h;
   std::string log;
   modkit::BackgroundUpdateControllerCallbacks cb;
   cb.on_update = [&](std::string_view update, std::string_view database,
                      bool one_shot) -> std::optional<std::chrono::milliseconds> {
      log += std::string(update) + "@" + std::string(database) + (one_shot ? ",once;" : ";");
      if (update == "populate_stats") return 250ms;
      if (update == "too_long") return std::chrono::hours(24 * 30);
      if (update == "zero") return 0ms;
      return std::nullopt;
   };
   cb.default_batch_size = [](std::string_view update, std::string_view) -> std::optional<int32_t> {
      if (update == "populate_stats") return 500;
      if (update == "negative") return -5;
      return std::nullopt;
   };
   cb.min_batch_size = [](std::string_view, std::string_view database) -> std::optional<int32_t> {
      if (database == "state") return 10;
      return std::nullopt;
   };
   h.api->register_background_update_controller_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_background_update_controller_callbacks>(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);
   void *ud = h.user_data(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);

   int32_t value = -1;
   CHECK(c.on_update(ud, &h.call, str("populate_stats"), str("main"), false, &value) == MODKIT_OK);
   CHECK(value == 250);
   CHECK(c.on_update(ud, &h.call, str("other"), str("main"), true, &value) == MODKIT_OK);
   CHECK(value == 0);
   CHECK(c.default_batch_size(ud, &h.call, str("populate_stats"), str("main"), &value) == MODKIT_OK);
   CHECK(value == 500);
   CHECK(c.default_batch_size(ud, &h.call, str("other"), str("main"), &value) == MODKIT_OK);
   CHECK(value == 0);
   CHECK(c.min_batch_size(ud, &h.call, str("other"), str("state"), &value) == MODKIT_OK);
   CHECK(value == 10);
   CHECK(log == "populate_stats@main;other@main,once;");

   SUBCASE("an answer outside 1..INT32_MAX is an error, and nothing is written") {
      value = 7;
      CHECK(c.on_update(ud, &h.call, str("too_long"), str("main"), false, &value) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(value == 7);
      CHECK(h.logged_error("on_update failed (invalid_argument): the answer 2592000000 is out of range"));
      CHECK(c.on_update(ud, &h.call, str("zero"), str("main"), false, &value) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(c.default_batch_size(ud, &h.call, str("negative"), str("main"), &value) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(value == 7);
   }
}

TEST_CASE("a controller without on_update is refused; unset refinements stay null") {
   Harness h;
   modkit::BackgroundUpdateControllerCallbacks partial;
   partial.default_batch_size = [](std::string_view, std::string_view) { return std::optional<int32_t>(100); };
   CHECK_THROWS_WITH_AS(h.api->register_background_update_controller_callbacks(std::move(partial)),
                        "harness: could not register callbacks of category "
                        "modkit.background_update_controller: on_update is required "
                        "(default_batch_size and min_batch_size only refine it)",
                        modkit::Error);
   CHECK(h.host.registrations.empty());

   modkit::BackgroundUpdateControllerCallbacks minimal;
   minimal.on_update = [](std::string_view, std::string_view, bool) { return std::optional(100ms); };
   h.api->register_background_update_controller_callbacks(std::move(minimal));
   const auto c = h.callbacks<modkit_background_update_controller_callbacks>(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);
   CHECK(is_set(c.on_update));
   CHECK_FALSE(is_set(c.default_batch_size));
   CHECK_FALSE(is_set(c.min_batch_size));
}

TEST_CASE("a failing controller callback is an error status") {
   Harness h;
   modkit::BackgroundUpdateControllerCallbacks cb;
   cb.on_update = [](modkit::Call &call, std::string_view, std::string_view,
                     bool) -> std::optional<std::chrono::milliseconds> {
      call.throw_if_cancelled();
      throw std::runtime_error("load too high");
   };
   h.api->register_background_update_controller_callbacks(std::move(cb));
   const auto c = h.callbacks<modkit_background_update_controller_callbacks>(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);
   void *ud = h.user_data(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID);
   int32_t value = -1;
   CHECK(c.on_update(ud, &h.call, str("u"), str("main"), false, &value) == MODKIT_E_INTERNAL);
   CHECK(h.logged_error("on_update failed (internal): load too high"));
   h.call.cancelled = true;
   CHECK(c.on_update(ud, &h.call, str("u"), str("main"), false, &value) == MODKIT_E_CANCELLED);
   CHECK(value == -1);
}
