// samples/audit_trail through the loader: three categories from one module.
#include "sample_host.hpp"

using namespace sample_tests;

TEST_CASE("audit_trail logs account data and deliveries, and marks served events") {
   SampleHost host(json::array({{{"module", "audit_trail"}, {"config", {{"event_types", {"m.room.message"}}}}}}));

   host.dispatch(MODKIT_ACCOUNT_DATA_ID, "on_account_data_updated",
                 {{"user_id", "@alice:localhost"}, {"room_id", nullptr}, {"account_data_type", "m.direct"},
                  {"content", {{"@bob:localhost", {"!r:localhost"}}}}});
   host.dispatch(MODKIT_ACCOUNT_DATA_ID, "on_account_data_updated",
                 {{"user_id", "@alice:localhost"}, {"room_id", "!r:localhost"}, {"account_data_type", "org.example.pin"},
                  {"content", json::object()}});
   CHECK(host.logged("[audit_trail] audit: @alice:localhost wrote global account data m.direct (1 keys)"));
   CHECK(host.logged("audit: @alice:localhost deleted room !r:localhost account data org.example.pin"));

   const json events = json::array({{{"event_id", "$1"}}, {{"event_id", "$2"}}});
   host.dispatch(MODKIT_FEDERATION_ID, "on_event_delivered_over_federation",
                 {{"delivery", {{"server_name", "remote.example"}, {"events_json", events}, {"method", MODKIT_FEDERATION_DELIVERY_SEND}}}});
   host.dispatch(MODKIT_FEDERATION_ID, "on_event_delivered_over_federation",
                 {{"delivery", {{"server_name", "remote.example"}, {"events_json", json::array({{{"event_id", "$3"}}})},
                                {"method", MODKIT_FEDERATION_DELIVERY_BACKFILL}}}});
   CHECK(host.logged("audit: 2 event(s) reached remote.example by /send, acknowledged (2 in all)"));
   CHECK(host.logged("audit: 1 event(s) reached remote.example by /backfill (3 in all)"));

   const json message = {{"event_id", "$m"}, {"room_id", "!r:localhost"}, {"sender", "@alice:localhost"},
                         {"type", "m.room.message"}, {"content_json", {{"body", "hi"}}}};
   json doc = host.dispatch(MODKIT_EXTRA_UNSIGNED_FIELDS_ID, "add_field_to_unsigned", {{"event", message}});
   INFO(doc.dump());
   CHECK(json::parse(doc["answers"][0]["outputs"]["fields"].get<std::string>()) == json{{"org.example.audited", true}});
   json topic = message;
   topic["type"] = "m.room.topic";
   json skipped = host.dispatch(MODKIT_EXTRA_UNSIGNED_FIELDS_ID, "add_field_to_unsigned", {{"event", topic}});
   CHECK(skipped["answers"][0]["outputs"]["fields"] == "");
}

TEST_CASE("audit_trail refuses an unsigned key the host sets itself") {
   const std::string errors =
      load_errors(json::array({{{"module", "audit_trail"}, {"config", {{"unsigned_field", "age"}}}}}));
   CHECK(errors.find("/modules/0/config/unsigned_field") != std::string::npos);
   CHECK(errors.find("\"age\" is set by the host itself") != std::string::npos);
}
