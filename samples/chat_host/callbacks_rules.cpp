// callbacks_rules.cpp - dispatch of the third-party rules' 12 callbacks.
#include "dispatch_support.hpp"

namespace chat {

using TPR = modkit_third_party_rules_callbacks;

Decision<modkit_event_verdict> ModuleHost::check_event_allowed(CallContext &ctx, const EventArg &event,
                                                               const json &state, json &replacement) {
   Scope scope(*this, ctx, callback_name<&TPR::check_event_allowed>("check_event_allowed"), verdict_name);
   auto slot = scope.slot<&TPR::check_event_allowed>();
   const modkit_event e = event.view();
   const std::string state_text = state.dump();
   auto buffer = std::make_shared<Buffer>();
   json parsed;
   modkit_event_verdict verdict = MODKIT_EVENT_ALLOW;
   // Dispatch stops at the first DENY or REPLACE, so the last replacement parsed is the decider's.
   const modkit::Outcome out = scope.first_non_zero(
      slot.raw(), verdict,
      [&, buffer](const modkit_loader_entry &x, modkit_call *call, modkit_event_verdict *r) {
         return slot.fn(x)(x.user_data, call, &e, view(state_text), r, buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &x, modkit_status s, modkit_event_verdict *r) {
         if (s == MODKIT_OK && *r == MODKIT_EVENT_REPLACE) {
            parsed = json::parse(buffer->text(), nullptr, false);
            if (!parsed.is_object()) {
               scope.reject(x, "the replacement is not a JSON object");
               s = MODKIT_E_INVALID_ARGUMENT;
            }
         }
         return s;
      },
      modkit_event_verdict{MODKIT_EVENT_DENY});
   if (out.kind == modkit::Outcome::Kind::decided && verdict == MODKIT_EVENT_REPLACE) replacement = parsed;
   return scope.finish(out, verdict, verdict_name(verdict));
}

Decision<modkit_create_room_result> ModuleHost::on_create_room(CallContext &ctx, const RequesterArg &requester,
                                                               json &content, bool is_admin) {
   Scope scope(*this, ctx, callback_name<&TPR::on_create_room>("on_create_room"), create_room_name);
   auto slot = scope.slot<&TPR::on_create_room>();
   modkit_requester r{};
   r.struct_size = sizeof r;
   r.user_id = view(requester.user_id);
   r.device_id = requester.device_id.empty() ? modkit_str{nullptr, 0} : view(requester.device_id);
   r.authenticated_entity = view(requester.user_id);
   r.is_guest = requester.is_guest;
   r.shadow_banned = requester.shadow_banned;
   auto buffer = std::make_shared<Buffer>();
   json current = content;
   modkit_create_room_result result = MODKIT_CREATE_ROOM_ALLOW;
   // Each module sees the body as the modules before it left it (Synapse's shared mutable dict).
   const modkit::Outcome out = scope.first_non_zero(
      slot.raw(), result,
      [&, buffer](const modkit_loader_entry &x, modkit_call *call, modkit_create_room_result *res) {
         const std::string text = current.dump();
         return slot.fn(x)(x.user_data, call, &r, view(text), is_admin, res, buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &x, modkit_status s, modkit_create_room_result *res) {
         const std::string edited = buffer->text();
         if (s == MODKIT_OK && *res == MODKIT_CREATE_ROOM_ALLOW && !edited.empty()) {
            json next = json::parse(edited, nullptr, false);
            if (!next.is_object()) {
               scope.reject(x, "new_content is not a JSON object");
               s = MODKIT_E_INVALID_ARGUMENT;
            } else {
               current = std::move(next);
            }
         }
         return s;
      },
      modkit_create_room_result{MODKIT_CREATE_ROOM_DENY});
   if (result == MODKIT_CREATE_ROOM_ALLOW && out.kind == modkit::Outcome::Kind::no_opinion) content = current;
   return scope.finish(out, result, create_room_name(result));
}

Decision<bool> ModuleHost::check_threepid_can_be_invited(CallContext &ctx, const std::string &medium,
                                                         const std::string &address, const json &state) {
   const std::string text = state.dump();
   return ask_all<&TPR::check_threepid_can_be_invited>(*this, ctx, "check_threepid_can_be_invited", view(medium),
                                                       view(address), view(text));
}

Decision<bool> ModuleHost::check_visibility_can_be_modified(CallContext &ctx, const std::string &room,
                                                            const json &state, const std::string &new_visibility) {
   const std::string text = state.dump();
   return ask_all<&TPR::check_visibility_can_be_modified>(*this, ctx, "check_visibility_can_be_modified", view(room),
                                                          view(text), view(new_visibility));
}

Done ModuleHost::on_new_event(CallContext &ctx, const EventArg &event, const json &state) {
   const modkit_event e = event.view();
   const std::string text = state.dump();
   return notify_all<&TPR::on_new_event>(*this, ctx, "on_new_event", &e, view(text));
}

Decision<bool> ModuleHost::check_can_shutdown_room(CallContext &ctx, const std::optional<std::string> &user,
                                                   const std::string &room) {
   return ask_all<&TPR::check_can_shutdown_room>(*this, ctx, "check_can_shutdown_room", view(user), view(room));
}

Decision<bool> ModuleHost::check_can_deactivate_user(CallContext &ctx, const std::string &user, bool by_admin) {
   return ask_all<&TPR::check_can_deactivate_user>(*this, ctx, "check_can_deactivate_user", view(user), by_admin);
}

Done ModuleHost::on_profile_update(CallContext &ctx, const std::string &user, const std::string &display_name,
                                   const std::optional<std::string> &avatar_url, bool by_admin, bool deactivation) {
   modkit_user_profile profile{};
   profile.struct_size = sizeof profile;
   profile.user_id = view(user);
   profile.display_name = view(display_name);
   profile.avatar_url = view(avatar_url);
   return notify_all<&TPR::on_profile_update>(*this, ctx, "on_profile_update", view(user),
                                              static_cast<const modkit_user_profile *>(&profile), by_admin,
                                              deactivation);
}

Done ModuleHost::on_user_deactivation_status_changed(CallContext &ctx, const std::string &user, bool deactivated,
                                                     bool by_admin) {
   return notify_all<&TPR::on_user_deactivation_status_changed>(*this, ctx, "on_user_deactivation_status_changed",
                                                                view(user), deactivated, by_admin);
}

Done ModuleHost::on_threepid_bind(CallContext &ctx, const std::string &user, const std::string &medium,
                                  const std::string &address) {
   return notify_all<&TPR::on_threepid_bind>(*this, ctx, "on_threepid_bind", view(user), view(medium), view(address));
}

Done ModuleHost::on_add_user_third_party_identifier(CallContext &ctx, const std::string &user,
                                                    const std::string &medium, const std::string &address) {
   return notify_all<&TPR::on_add_user_third_party_identifier>(*this, ctx, "on_add_user_third_party_identifier",
                                                               view(user), view(medium), view(address));
}

Done ModuleHost::on_remove_user_third_party_identifier(CallContext &ctx, const std::string &user,
                                                       const std::string &medium, const std::string &address) {
   return notify_all<&TPR::on_remove_user_third_party_identifier>(
      *this, ctx, "on_remove_user_third_party_identifier", view(user), view(medium), view(address));
}

std::string verdict_name(int64_t value) {
   switch (value) {
   case MODKIT_EVENT_ALLOW: return "allow";
   case MODKIT_EVENT_DENY: return "deny";
   case MODKIT_EVENT_REPLACE: return "replace";
   default: return std::to_string(value);
   }
}

std::string create_room_name(int64_t value) { return value == MODKIT_CREATE_ROOM_DENY ? "deny" : "allow"; }

} // namespace chat
