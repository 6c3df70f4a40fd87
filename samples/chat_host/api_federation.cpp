// api_federation.cpp - inbound federation, simulated: an admin injects events and invites "from"
// another server, and they take the path a federated PDU takes (should_drop_federated_event,
// check_event_for_spam with soft failure, check_event_allowed; federated_user_may_invite chained
// into user_may_invite). There is no network and no signature check.
#include "accounts.hpp"
#include "module_refusal.hpp"

#include <fmt/format.h>

namespace chat {

namespace {

const std::string admin = "/_synapse/admin/v1/federation";

// A PDU from origin, checked for shape; throws MatrixError(400) naming the problem.
Event read_pdu(App &app, const json &pdu, const std::string &origin) {
   if (!pdu.is_object()) throw MatrixError(400, "M_BAD_JSON", "a PDU must be a JSON object");
   Event e;
   e.room_id = require_string(pdu, "room_id");
   e.sender = require_string(pdu, "sender");
   e.type = require_string(pdu, "type");
   if (!pdu.value("content", json()).is_object()) throw MatrixError(400, "M_BAD_JSON", "content must be an object");
   e.content = pdu["content"];
   e.state_key = optional_string(pdu, "state_key");
   e.origin = origin;
   e.origin_server_ts = pdu.value("origin_server_ts", now_ms());
   if (!valid_user_id(e.sender) || server_of(e.sender) != origin)
      throw MatrixError(400, "M_FORBIDDEN", fmt::format("sender {} does not belong to origin {}", e.sender, origin));
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      e.event_id = optional_string(pdu, "event_id").value_or(app.state().new_id('$'));
      if (app.state().events.count(e.event_id)) throw MatrixError(400, "M_DUPLICATE", "event " + e.event_id + " already seen");
   }
   app.check_event(e);
   return e;
}

// One inbound PDU through the modules; returns what became of it.
std::string receive_pdu(Ctx &ctx, Event e) {
   App &app = ctx.app;
   ModuleHost &modules = app.modules();
   const EventArg arg = app.event_arg(e);
   const auto drop = modules.should_drop_federated_event(ctx.call, arg);
   app.check(drop, "should_drop_federated_event");
   if (drop.answer) return "dropped by " + drop.module;
   json state;
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      if (!app.state().rooms.count(e.room_id)) return "rejected: unknown room";
      state = app.state().state_json(e.room_id);
   }
   if (e.type != "m.room.member") {
      const auto spam = modules.check_event_for_spam(ctx.call, arg);
      app.check(spam, "check_event_for_spam");
      if (spam.answer != MODKIT_NOT_SPAM) {
         // Soft failure: the event is kept in the room's graph but never served.
         e.soft_failed = true;
         std::lock_guard<std::mutex> lock(app.state().mutex);
         app.state().append(std::move(e));
         return "soft-failed by " + spam.module;
      }
   }
   json replacement;
   const auto allowed = modules.check_event_allowed(ctx.call, arg, state, replacement);
   app.check(allowed, "check_event_allowed");
   // A replacement counts as allow for events from other servers.
   if (allowed.answer == MODKIT_EVENT_DENY) return "rejected by " + allowed.module;
   app.commit_event(ctx, std::move(e));
   return "accepted";
}

Response inject_send(Ctx &ctx) {
   const json &body = ctx.body();
   const std::string origin = require_string(body, "origin");
   if (origin == ctx.app.config().server_name) throw MatrixError(400, "M_INVALID_PARAM", "origin must be another server");
   if (!body.value("pdus", json()).is_array()) throw MatrixError(400, "M_BAD_JSON", "pdus must be an array");
   if (body["pdus"].size() > 50) throw MatrixError(400, "M_BAD_JSON", "at most 50 PDUs per transaction");
   json results = json::object();
   for (const auto &pdu : body["pdus"]) {
      Event e = read_pdu(ctx.app, pdu, origin);
      const std::string id = e.event_id;
      const std::string result = receive_pdu(ctx, std::move(e));
      results[id] = result == "accepted" ? json::object() : json{{"error", result}};
      ctx.trace.note(id + ": " + result);
   }
   return json_response({{"pdus", results}});
}

Response inject_invite(Ctx &ctx) {
   App &app = ctx.app;
   const json &body = ctx.body();
   const json pdu = body.value("event", json());
   const std::string sender = pdu.is_object() ? pdu.value("sender", "") : "";
   Event e = read_pdu(app, pdu, server_of(sender));
   if (e.type != "m.room.member" || e.content.value("membership", "") != "invite" || !e.state_key)
      throw MatrixError(400, "M_BAD_JSON", "an invite is an m.room.member event with membership invite and a state_key");
   {
      std::lock_guard<std::mutex> lock(app.state().mutex);
      auto invitee = app.state().users.find(*e.state_key);
      if (invitee == app.state().users.end() || invitee->second.deactivated)
         throw MatrixError(404, "M_NOT_FOUND", "No local user " + *e.state_key);
   }
   const EventArg arg = app.event_arg(e);
   const auto drop = app.modules().should_drop_federated_event(ctx.call, arg);
   app.check(drop, "should_drop_federated_event");
   if (drop.answer) throw module_refusal(drop, 403, "M_FORBIDDEN", "This invite was rejected (module '" + drop.module + "')");
   const auto may = app.modules().federated_user_may_invite(ctx.call, arg);
   app.check(may, "federated_user_may_invite");
   if (may.answer != MODKIT_NOT_SPAM)
      throw module_refusal(may, 403, modkit_spam_result_errcode(may.answer), "Invite refused (module '" + may.module + "')");
   {
      // The room lives on the inviter's server; keep what the invite tells about it.
      std::lock_guard<std::mutex> lock(app.state().mutex);
      State &s = app.state();
      if (!s.rooms.count(e.room_id)) {
         Event join;
         join.event_id = s.new_id('$');
         join.room_id = e.room_id;
         join.sender = e.sender;
         join.type = "m.room.member";
         join.state_key = e.sender;
         join.content = {{"membership", "join"}};
         join.origin = e.origin;
         join.origin_server_ts = e.origin_server_ts;
         Event rules = join;
         rules.event_id = s.new_id('$');
         rules.type = "m.room.join_rules";
         rules.state_key = "";
         rules.content = {{"join_rule", "invite"}};
         s.append(std::move(join));
         s.append(std::move(rules));
      }
   }
   const json event = e.to_pdu();
   app.commit_event(ctx, std::move(e));
   return json_response({{"event", event}});
}

} // namespace

void add_federation_routes(std::vector<Route> &r) {
   r.push_back({"POST", admin + "/send", Access::admin, inject_send});
   r.push_back({"POST", admin + "/invite", Access::admin, inject_invite});
}

} // namespace chat
