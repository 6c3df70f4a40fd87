// scenario.hpp - replays a JSON list of requests through the router (no sockets) and prints an
// annotated transcript: each request, its result, the callbacks that ran and who decided.
//
//   [{"comment": "Alice registers"},
//    {"method": "POST", "path": "/_matrix/client/v3/register",
//     "body": {"username": "alice", "password": "pw", "auth": {"type": "m.login.dummy"}}},
//    {"method": "POST", "path": "/_matrix/client/v3/createRoom", "as": "@alice:example.org",
//     "body": {"name": "Lobby"}, "save": {"lobby": "/room_id"}},
//    {"method": "PUT", "path": "/_matrix/client/v3/rooms/${lobby}/send/m.room.message/1",
//     "as": "@alice:example.org", "body": {"msgtype": "m.text", "body": "hi"},
//     "expect": {"status": 200}}]
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <stdexcept>
#include <string>

namespace chat {

class App;

class ScenarioError : public std::runtime_error {
public:
   using std::runtime_error::runtime_error;
};

struct ScenarioResult {
   size_t requests = 0, expectations = 0, failures = 0;
};

// Checks the scenario's shape before anything runs; throws ScenarioError naming the step.
void validate_scenario(const nlohmann::json &scenario);
ScenarioResult run_scenario(App &app, const nlohmann::json &scenario, std::ostream &out);
nlohmann::json load_scenario(const std::string &path);

} // namespace chat
