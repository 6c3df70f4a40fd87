// router.hpp - the transport-independent request router. A request (method, path, query,
// headers, body) becomes a response (status, body) and a trace of what the modules did; the
// HTTP server and the scenario runner both go through it.
#pragma once

#include "matrix_error.hpp"
#include "request.hpp"
#include "trace.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat {

using json = nlohmann::json;
class App;
struct Device;

// A handler with nothing to answer yet asks the carrier to hold the request (Request::may_hold)
// until the notifier wakes user_id past stream position `seen`, or until recheck_ms or
// deadline_ms, and then to run it again with Request::poll_deadline_ms set to deadline_ms.
struct LongPoll {
   std::string user_id;
   uint64_t seen = 0;
   int64_t deadline_ms = 0;
   int64_t recheck_ms = 0; // also run again at this time (0: only at the deadline), e.g. when typing times out
};

struct Response {
   int status = 200;
   std::string content_type = "application/json";
   std::vector<std::pair<std::string, std::string>> headers;
   std::string body;
   Trace trace;
   std::optional<LongPoll> long_poll; // set: hold and run again; the rest is not sent
};

enum class Access {
   open,          // no access token needed
   user,          // a valid token; is_user_expired is asked
   user_expired,  // a valid token; expired accounts allowed (logout, renewal mail)
   admin,         // a server admin's token
   metrics,       // open on the loopback admin listener; elsewhere a server admin's token
};

// One request being handled.
struct Ctx {
   Ctx(App &a, const Request &r) : app(a), req(r) {}
   App &app;
   const Request &req;
   std::map<std::string, std::string> params; // from the route's {placeholders}
   std::string user_id;                       // the requester, when authenticated
   std::string device_id, access_token;
   bool is_admin = false;
   bool ratelimited = true; // false for a module's action (Synapse's module API skips the limits)
   CallContext call;
   Trace trace;

   // The body as a JSON object, within the config's limits (parse_json_body).
   const json &body();
   std::string param(const std::string &name) const { return params.at(name); }
   std::optional<std::string> query(const std::string &name) const;
   // A query parameter that must be a whole number (a limit, a timeout, a position): absent is
   // nullopt; anything but up to 18 digits is refused with 400 M_INVALID_PARAM naming it.
   std::optional<uint64_t> query_number(const std::string &name) const;
   json request_info() const; // [{"user_agent": ..., "ip": ...}] for spam checkers

private:
   std::optional<json> body_;
};

using Handler = std::function<Response(Ctx &)>;

struct Route {
   std::string method;
   std::string pattern; // "/_matrix/client/v3/rooms/{room_id}/join"
   Access access;
   Handler handler;
};

class Router {
public:
   explicit Router(App &app);
   Response handle(const Request &request);
   // A module acting as the local user user_id (the homeserver API): the route's handler runs as
   // for a request by that user with a valid token, without is_user_expired (Synapse's module
   // actions skip it) and never reaching module web resources. 403 for a deactivated user,
   // 404 for an unknown one.
   Response act(const std::string &user_id, const Request &request);
   // True when path is a built-in endpoint (any method); modules may not register it.
   static bool is_builtin(const std::string &path);

private:
   Response serve(const Request &request, const std::string *acting_as);
   Response dispatch(const Request &request, Ctx &ctx, const std::string *acting_as);
   // Who the token names, and where their client connects from (get_user_ip_and_agents).
   void authenticate(const Request &request, const std::string &token, Ctx &ctx);
   void act_as(const std::string &user_id, Ctx &ctx);
   App &app_;
};

// Every built-in route, grouped by area (api_*.cpp).
std::vector<Route> &routes();
void add_account_routes(std::vector<Route> &);
void add_room_routes(std::vector<Route> &);
void add_profile_routes(std::vector<Route> &);
void add_media_routes(std::vector<Route> &);
void add_admin_routes(std::vector<Route> &);
void add_federation_routes(std::vector<Route> &);
void add_push_routes(std::vector<Route> &);
void add_client_misc_routes(std::vector<Route> &);
void add_sync_routes(std::vector<Route> &);
void add_ephemeral_routes(std::vector<Route> &);
void add_room_read_routes(std::vector<Route> &);

// A stream token ("s<N>", what /sync and /messages give) -> N. Throws MatrixError(400,
// M_INVALID_PARAM) naming `what` when it is not one.
uint64_t parse_stream_token(const std::string &token, const char *what);

// Never throws on content: a string that is not UTF-8 is written with U+FFFD, never refused.
Response json_response(const json &body, int status = 200);

} // namespace chat
