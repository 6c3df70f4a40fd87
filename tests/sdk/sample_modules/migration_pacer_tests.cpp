// samples/migration_pacer through the loader: per-update pace over the defaults.
#include "sample_host.hpp"

using namespace sample_tests;

namespace {

const json config = {{"defaults", {{"iteration_ms", 100}, {"batch_size", 50}}},
                     {"updates", {{"populate_user_directory", {{"iteration_ms", 20}, {"min_batch_size", 5}}}}}};

} // namespace

TEST_CASE("migration_pacer paces each update, its own settings over the defaults") {
   SampleHost host(json::array({{{"module", "migration_pacer"}, {"config", config}}}));
   const char *buc = MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID;
   const json user_directory = {{"update_name", "populate_user_directory"}, {"database_name", "main"}};
   const json other = {{"update_name", "event_search"}, {"database_name", "main"}};

   json args = user_directory;
   args["one_shot"] = false;
   CHECK(host.answer(buc, "on_update", args)["duration_ms"] == 20);
   CHECK(host.logged("[migration_pacer] paced populate_user_directory on main: iterations of 20 ms"));
   args = other;
   args["one_shot"] = false;
   CHECK(host.answer(buc, "on_update", args)["duration_ms"] == 100);
   args["one_shot"] = true;
   json once = host.dispatch(buc, "on_update", args);
   CHECK(once["answers"][0]["outputs"]["duration_ms"] == 0); // the host's default: a one-shot runs in one go
   CHECK(host.logged("event_search on main runs in one go"));

   CHECK(host.answer(buc, "default_batch_size", user_directory)["batch_size"] == 50);
   CHECK(host.answer(buc, "min_batch_size", user_directory)["batch_size"] == 5);
   CHECK(host.dispatch(buc, "min_batch_size", other)["answers"][0]["outputs"]["batch_size"] == 0);
}

TEST_CASE("migration_pacer refuses a smallest batch above the first one") {
   const std::string errors = load_errors(json::array(
      {{{"module", "migration_pacer"},
        {"config", {{"updates", {{"a/b", {{"batch_size", 10}, {"min_batch_size", 20}}}}}}}}}));
   CHECK(errors.find("/modules/0/config/updates/a~1b/min_batch_size") != std::string::npos);
   CHECK(load_errors(json::array({{{"module", "migration_pacer"}, {"config", {{"defaults", {{"iteration_ms", 0}}}}}}})) !=
         "loaded");
}
