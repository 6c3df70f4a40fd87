// api_client_misc.cpp - the smaller client endpoints a client asks for at startup: capabilities,
// .well-known discovery, TURN and third-party protocols (none), devices, and the end-to-end
// encryption endpoints, which this server does not support.
#include "accounts.hpp"

#include <algorithm>

namespace chat {

namespace {

const std::string client = "/_matrix/client/v3";

// Longer names are refused, as Synapse does.
constexpr size_t max_device_name = 100;

Response capabilities(Ctx &) {
   // What this server's endpoints allow: no password change endpoint; display name, avatar and
   // third-party identifiers can change. createRoom (api_rooms.cpp) makes version 10 rooms.
   return json_response({{"capabilities",
                          {{"m.change_password", {{"enabled", false}}},
                           {"m.room_versions", {{"default", "10"}, {"available", {{"10", "stable"}}}}},
                           {"m.set_displayname", {{"enabled", true}}},
                           {"m.set_avatar_url", {{"enabled", true}}},
                           {"m.3pid_changes", {{"enabled", true}}}}}});
}

Response well_known(Ctx &ctx) {
   const std::string &url = ctx.app.config().public_baseurl;
   if (url.empty()) throw MatrixError(404, "M_NOT_FOUND", "No public_baseurl is configured");
   return json_response({{"m.homeserver", {{"base_url", url}}}});
}

json device_json(const Device &d) {
   json out = {{"device_id", d.device_id}};
   if (!d.display_name.empty()) out["display_name"] = d.display_name;
   return out;
}

// The requester's device device_id, or null. [state.mutex held]
Device *own_device(State &state, const std::string &user_id, const std::string &device_id) {
   for (auto &[token, d] : state.tokens)
      if (d.user_id == user_id && d.device_id == device_id) return &d;
   return nullptr;
}

Response list_devices(Ctx &ctx) {
   std::vector<Device> devices;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      for (const auto &[token, d] : ctx.app.state().tokens)
         if (d.user_id == ctx.user_id) devices.push_back(d);
   }
   std::sort(devices.begin(), devices.end(), [](const Device &a, const Device &b) { return a.device_id < b.device_id; });
   json out = json::array();
   for (const auto &d : devices) out.push_back(device_json(d));
   return json_response({{"devices", out}});
}

Response get_device(Ctx &ctx) {
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   const Device *d = own_device(ctx.app.state(), ctx.user_id, ctx.param("device_id"));
   if (!d) throw MatrixError(404, "M_NOT_FOUND", "No such device");
   return json_response(device_json(*d));
}

Response put_device(Ctx &ctx) {
   const auto name = optional_string(ctx.body(), "display_name");
   if (name && name->size() > max_device_name)
      throw MatrixError(400, "M_TOO_LARGE", "Device display name is too long (at most 100 bytes)");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   Device *d = own_device(ctx.app.state(), ctx.user_id, ctx.param("device_id"));
   if (!d) throw MatrixError(404, "M_NOT_FOUND", "No such device");
   if (name) d->display_name = *name;
   return json_response(json::object());
}

// The password stage of user-interactive auth, as /account/deactivate asks for it: the 401 to
// answer while the body has no auth, nullopt once the password is right.
std::optional<Response> password_auth(Ctx &ctx) {
   const json &body = ctx.body();
   const json flows = json::array({{{"stages", {"m.login.password"}}}});
   if (!body.contains("auth") || !body["auth"].is_object()) return json_response(uia_required(flows), 401);
   const std::string password = require_string(body["auth"], "password");
   std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
   auto user = ctx.app.state().users.find(ctx.user_id);
   if (user == ctx.app.state().users.end() || !same_secret(user->second.password, password))
      throw MatrixError(401, "M_FORBIDDEN", "Invalid password", uia_required(flows));
   return std::nullopt;
}

// Logs out each of the requester's devices named, as /logout does (on_logged_out each).
// Unknown IDs are skipped: a device already gone is deleted.
void delete_own_devices(Ctx &ctx, const std::vector<std::string> &device_ids) {
   std::vector<std::string> tokens;
   {
      std::lock_guard<std::mutex> lock(ctx.app.state().mutex);
      for (const auto &[token, d] : ctx.app.state().tokens)
         if (d.user_id == ctx.user_id && std::find(device_ids.begin(), device_ids.end(), d.device_id) != device_ids.end())
            tokens.push_back(token);
   }
   for (const auto &t : tokens) logout_token(ctx, t);
}

Response delete_device(Ctx &ctx) {
   if (auto challenge = password_auth(ctx)) return *challenge;
   delete_own_devices(ctx, {ctx.param("device_id")});
   return json_response(json::object());
}

Response delete_devices(Ctx &ctx) {
   const json &body = ctx.body();
   if (!body.contains("devices")) throw MatrixError(400, "M_MISSING_PARAM", "Missing devices");
   if (!body["devices"].is_array()) throw MatrixError(400, "M_BAD_JSON", "devices must be an array of device IDs");
   std::vector<std::string> ids;
   for (const json &id : body["devices"]) {
      if (!id.is_string()) throw MatrixError(400, "M_BAD_JSON", "devices must be an array of device IDs");
      ids.push_back(id);
   }
   if (auto challenge = password_auth(ctx)) return *challenge;
   delete_own_devices(ctx, ids);
   return json_response(json::object());
}

Response no_e2ee(Ctx &) {
   throw MatrixError(404, "M_UNRECOGNIZED", "End-to-end encryption is not supported by this server");
}

} // namespace

void add_client_misc_routes(std::vector<Route> &r) {
   r.push_back({"GET", client + "/capabilities", Access::user, capabilities});
   r.push_back({"GET", "/.well-known/matrix/client", Access::open, well_known});
   // No TURN server configured: an empty object, as Synapse answers then.
   r.push_back({"GET", client + "/voip/turnServer", Access::user, [](Ctx &) { return json_response(json::object()); }});
   r.push_back({"GET", client + "/thirdparty/protocols", Access::user, [](Ctx &) { return json_response(json::object()); }});

   r.push_back({"GET", client + "/devices", Access::user, list_devices});
   r.push_back({"GET", client + "/devices/{device_id}", Access::user, get_device});
   r.push_back({"PUT", client + "/devices/{device_id}", Access::user, put_device});
   r.push_back({"DELETE", client + "/devices/{device_id}", Access::user, delete_device});
   r.push_back({"POST", client + "/delete_devices", Access::user, delete_devices});

   // Registered so that clients get a clear refusal rather than an unknown endpoint.
   for (const char *path : {"/keys/upload", "/keys/query", "/keys/claim", "/keys/device_signing/upload",
                            "/keys/signatures/upload"})
      r.push_back({"POST", client + path, Access::user, no_e2ee});
   r.push_back({"GET", client + "/keys/changes", Access::user, no_e2ee});
   const std::string room_keys = client + "/room_keys";
   for (const char *method : {"GET", "POST"}) r.push_back({method, room_keys + "/version", Access::user, no_e2ee});
   for (const char *method : {"GET", "PUT", "DELETE"}) {
      r.push_back({method, room_keys + "/version/{version}", Access::user, no_e2ee});
      r.push_back({method, room_keys + "/keys", Access::user, no_e2ee});
      r.push_back({method, room_keys + "/keys/{room_id}", Access::user, no_e2ee});
      r.push_back({method, room_keys + "/keys/{room_id}/{session_id}", Access::user, no_e2ee});
   }
}

} // namespace chat
