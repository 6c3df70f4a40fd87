// callbacks_spam.cpp - dispatch of the spam checker's 14 callbacks: the first answer other
// than "no objection" wins; federated_user_may_invite chains into user_may_invite.
#include "dispatch_support.hpp"

namespace chat {

using SC = modkit_spam_checker_callbacks;

modkit_event EventArg::view() const {
   modkit_event e{};
   e.struct_size = sizeof e;
   e.event_id = chat::view(event_id);
   e.room_id = chat::view(room_id);
   e.sender = chat::view(sender);
   e.type = chat::view(type);
   e.state_key = chat::view(state_key);
   e.content_json = chat::view(content);
   e.unsigned_json = unsigned_.empty() ? modkit_str{nullptr, 0} : chat::view(unsigned_);
   e.origin_server_ts = origin_server_ts;
   return e;
}

Decision<modkit_spam_result> ModuleHost::check_event_for_spam(CallContext &ctx, const EventArg &event) {
   const modkit_event e = event.view();
   return ask_first<&SC::check_event_for_spam>(*this, ctx, "check_event_for_spam", spam_result_name,
                                               modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, &e);
}

Decision<bool> ModuleHost::should_drop_federated_event(CallContext &ctx, const EventArg &event) {
   const modkit_event e = event.view();
   return ask_first<&SC::should_drop_federated_event>(*this, ctx, "should_drop_federated_event", nullptr, true, &e);
}

Decision<modkit_spam_result> ModuleHost::user_may_join_room(CallContext &ctx, const std::string &user,
                                                            const std::string &room, bool is_invited) {
   return ask_first<&SC::user_may_join_room>(*this, ctx, "user_may_join_room", spam_result_name,
                                             modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(user), view(room),
                                             is_invited);
}

Decision<modkit_spam_result> ModuleHost::user_may_invite(CallContext &ctx, const std::string &inviter,
                                                         const std::string &invitee, const std::string &room) {
   return ask_first<&SC::user_may_invite>(*this, ctx, "user_may_invite", spam_result_name,
                                          modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(inviter), view(invitee),
                                          view(room));
}

Decision<modkit_spam_result> ModuleHost::federated_user_may_invite(CallContext &ctx, const EventArg &invite) {
   const modkit_event e = invite.view();
   const std::string invitee = invite.state_key.value_or("");
   modkit_spam_result answer = MODKIT_NOT_SPAM;
   const modkit_spam_result deny = MODKIT_SPAM_FORBIDDEN;
   // The chain, one link after the other, each a dispatch of its own with its own deadline,
   // read section and trace entry. Only when no federated_user_may_invite module objected (and
   // none failed or was cut short) does user_may_invite run.
   modkit::Outcome out;
   {
      Scope first(*this, ctx, callback_name<&SC::federated_user_may_invite>("federated_user_may_invite"),
                  spam_result_name);
      auto fed = first.slot<&SC::federated_user_may_invite>();
      out = first_suspendable<&SC::federated_user_may_invite>(first, fed.raw(), answer, deny,
                                                              std::make_shared<Frame>(), &e);
      if (out.kind != modkit::Outcome::Kind::no_opinion || out.status != MODKIT_OK)
         return first.finish(out, answer, spam_result_name(answer));
      first.finish(out);
   }
   Scope next(*this, ctx, callback_name<&SC::user_may_invite>("user_may_invite"), spam_result_name);
   auto local = next.slot<&SC::user_may_invite>();
   out = first_suspendable<&SC::user_may_invite>(next, local.raw(), answer, deny, std::make_shared<Frame>(),
                                                 view(invite.sender), view(invitee), view(invite.room_id));
   return next.finish(out, answer, spam_result_name(answer));
}

Decision<modkit_spam_result> ModuleHost::user_may_send_3pid_invite(CallContext &ctx, const std::string &inviter,
                                                                   const std::string &medium,
                                                                   const std::string &address,
                                                                   const std::string &room) {
   return ask_first<&SC::user_may_send_3pid_invite>(*this, ctx, "user_may_send_3pid_invite", spam_result_name,
                                                    modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(inviter),
                                                    view(medium), view(address), view(room));
}

Decision<modkit_spam_result> ModuleHost::user_may_create_room(CallContext &ctx, const std::string &user,
                                                              const json &config) {
   const std::string text = config.dump();
   return ask_first<&SC::user_may_create_room>(*this, ctx, "user_may_create_room", spam_result_name,
                                               modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(user), view(text));
}

Decision<modkit_spam_result> ModuleHost::user_may_create_room_alias(CallContext &ctx, const std::string &user,
                                                                    const std::string &alias) {
   return ask_first<&SC::user_may_create_room_alias>(*this, ctx, "user_may_create_room_alias", spam_result_name,
                                                     modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(user),
                                                     view(alias));
}

Decision<modkit_spam_result> ModuleHost::user_may_publish_room(CallContext &ctx, const std::string &user,
                                                               const std::string &room) {
   return ask_first<&SC::user_may_publish_room>(*this, ctx, "user_may_publish_room", spam_result_name,
                                                modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(user), view(room));
}

Decision<modkit_spam_result> ModuleHost::user_may_send_state_event(CallContext &ctx, const std::string &user,
                                                                   const std::string &room, const std::string &type,
                                                                   const std::string &state_key,
                                                                   const json &content) {
   const std::string text = content.dump();
   return ask_first<&SC::user_may_send_state_event>(*this, ctx, "user_may_send_state_event", spam_result_name,
                                                    modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(user), view(room),
                                                    view(type), view(state_key), view(text));
}

Decision<bool> ModuleHost::check_username_for_spam(CallContext &ctx, const std::string &user_id,
                                                   const std::string &display_name,
                                                   const std::optional<std::string> &avatar_url,
                                                   const std::string &requester) {
   modkit_user_profile profile{};
   profile.struct_size = sizeof profile;
   profile.user_id = view(user_id);
   profile.display_name = view(display_name);
   profile.avatar_url = view(avatar_url);
   return ask_first<&SC::check_username_for_spam>(*this, ctx, "check_username_for_spam", nullptr, true,
                                                  static_cast<const modkit_user_profile *>(&profile),
                                                  view(requester));
}

Decision<modkit_registration_behaviour> ModuleHost::check_registration_for_spam(
   CallContext &ctx, const json *email_threepid, const std::optional<std::string> &username, const json &request_info,
   const std::optional<std::string> &auth_provider) {
   const std::optional<std::string> email = email_threepid ? std::optional<std::string>(email_threepid->dump())
                                                           : std::nullopt;
   const std::string info = request_info.dump();
   return ask_first<&SC::check_registration_for_spam>(*this, ctx, "check_registration_for_spam", registration_name,
                                                      modkit_registration_behaviour{MODKIT_REGISTRATION_DENY},
                                                      view(email), view(username), view(info), view(auth_provider));
}

Decision<modkit_spam_result> ModuleHost::check_media_file_for_spam(CallContext &ctx, const std::string &content,
                                                                   const std::string &media_id,
                                                                   const std::string &upload_name,
                                                                   const std::string &media_type) {
   modkit_media_file_info info{};
   info.struct_size = sizeof info;
   info.media_id = view(media_id);
   info.upload_name = upload_name.empty() ? modkit_str{nullptr, 0} : view(upload_name);
   info.media_type = view(media_type);
   info.media_length = content.size();
   return ask_first<&SC::check_media_file_for_spam>(*this, ctx, "check_media_file_for_spam", spam_result_name,
                                                    modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(content),
                                                    static_cast<const modkit_media_file_info *>(&info));
}

Decision<modkit_spam_result> ModuleHost::check_login_for_spam(CallContext &ctx, const std::string &user_id,
                                                              const std::optional<std::string> &device_id,
                                                              const std::optional<std::string> &initial_display_name,
                                                              const json &request_info,
                                                              const std::optional<std::string> &auth_provider) {
   const std::string info = request_info.dump();
   return ask_first<&SC::check_login_for_spam>(*this, ctx, "check_login_for_spam", spam_result_name,
                                               modkit_spam_result{MODKIT_SPAM_FORBIDDEN}, view(user_id),
                                               view(device_id), view(initial_display_name), view(info),
                                               view(auth_provider));
}

std::string spam_result_name(int64_t value) {
   return value == MODKIT_NOT_SPAM ? "not_spam" : modkit_spam_result_errcode(static_cast<modkit_spam_result>(value));
}

std::string registration_name(int64_t value) {
   switch (value) {
   case MODKIT_REGISTRATION_ALLOW: return "allow";
   case MODKIT_REGISTRATION_SHADOW_BAN: return "shadow_ban";
   case MODKIT_REGISTRATION_DENY: return "deny";
   default: return std::to_string(value);
   }
}

std::string allowed_name(int64_t value) { return value ? "allow" : "deny"; }

} // namespace chat
