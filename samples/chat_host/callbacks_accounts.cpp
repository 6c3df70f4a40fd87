// callbacks_accounts.cpp - dispatch of the account validity (3 + 3 legacy) and password auth
// provider (6 + 2) callbacks.
#include "dispatch_support.hpp"

#include "state.hpp"

#include <variant>

namespace chat {

using AV = modkit_account_validity_callbacks;
using PAP = modkit_password_auth_provider_callbacks;

// ---- account validity ----

Decision<modkit_expiry_result> ModuleHost::is_user_expired(CallContext &ctx, const std::string &user) {
   return ask_first<&AV::is_user_expired>(*this, ctx, "is_user_expired", expiry_name,
                                          modkit_expiry_result{MODKIT_EXPIRY_EXPIRED}, view(user));
}

Done ModuleHost::on_user_registration(CallContext &ctx, const std::string &user) {
   return notify_all<&AV::on_user_registration>(*this, ctx, "on_user_registration", view(user));
}

Done ModuleHost::on_user_login(CallContext &ctx, const std::string &user, const std::optional<std::string> &type,
                               const std::optional<std::string> &provider) {
   return notify_all<&AV::on_user_login>(*this, ctx, "on_user_login", view(user), view(type), view(provider));
}

Done ModuleHost::on_legacy_send_mail(CallContext &ctx, const std::string &user) {
   Scope scope(*this, ctx, callback_name<&AV::on_legacy_send_mail>("on_legacy_send_mail"));
   auto slot = scope.slot<&AV::on_legacy_send_mail>();
   std::monostate none;
   const modkit::Outcome out = scope.single(
      slot.raw(), none,
      [&](const modkit_loader_entry &e, modkit_call *call, std::monostate *) {
         return slot.fn(e)(e.user_data, call, view(user));
      },
      Scope::unchecked, std::monostate{});
   return scope.finish(out, "mail sent");
}

Decision<RenewAnswer> ModuleHost::on_legacy_renew(CallContext &ctx, const std::string &token) {
   Scope scope(*this, ctx, callback_name<&AV::on_legacy_renew>("on_legacy_renew"));
   auto slot = scope.slot<&AV::on_legacy_renew>();
   RenewAnswer renew;
   bool valid = false;
   // The module's outputs besides token_valid, read once it answered.
   auto given = std::make_shared<RenewAnswer>();
   const modkit::Outcome out = scope.single(
      slot.raw(), valid,
      [&, given](const modkit_loader_entry &e, modkit_call *call, bool *token_valid) {
         return slot.fn(e)(e.user_data, call, view(token), token_valid, &given->token_stale, &given->expiration_ts);
      },
      [&, given](const modkit_loader_entry &, modkit_status s, bool *) {
         renew = *given;
         return s;
      },
      false);
   renew.token_valid = valid;
   return scope.finish(out, renew, valid ? (renew.token_stale ? "stale token" : "renewed") : "unknown token");
}

Decision<int64_t> ModuleHost::on_legacy_admin_request(CallContext &ctx, const std::string &method,
                                                      const std::string &path, const std::string &body,
                                                      const std::string &user_id) {
   Scope scope(*this, ctx, callback_name<&AV::on_legacy_admin_request>("on_legacy_admin_request"));
   auto slot = scope.slot<&AV::on_legacy_admin_request>();
   const std::string headers = "{\"content-type\":\"application/json\"}";
   modkit_http_request request{};
   request.struct_size = sizeof request;
   request.method = view(method);
   request.path = view(path);
   request.query = {"", 0};
   request.headers_json = view(headers);
   request.body = view(body);
   request.user_id = view(user_id);
   int64_t expiration = 0;
   const modkit::Outcome out = scope.single(
      slot.raw(), expiration,
      [&](const modkit_loader_entry &e, modkit_call *call, int64_t *ts) {
         return slot.fn(e)(e.user_data, call, static_cast<const modkit_http_request *>(&request), ts);
      },
      Scope::unchecked, int64_t{0});
   return scope.finish(out, expiration, "expires at " + std::to_string(expiration));
}

bool ModuleHost::has_legacy_hook(uint32_t slot_index) const {
   modkit::ReadGuard guard(reader());
   const int32_t category = modkit_loader_category_index(loader_->get(), MODKIT_ACCOUNT_VALIDITY_ID);
   const modkit_loader_slot *slot =
      modkit_loader_snapshot_slot(&guard.snapshot(), static_cast<uint32_t>(category), slot_index);
   return slot && slot->count > 0;
}

// ---- password auth provider ----

namespace {

// Runs a first-AUTHENTICATED dispatch whose answer comes with a user ID in a buffer.
template <class Dispatch>
Decision<AuthAnswer> authenticate(Scope &scope, Dispatch &&dispatch) {
   auto buffer = std::make_shared<Buffer>();
   std::string user_id;
   modkit_auth_result result = MODKIT_AUTH_NO_OPINION;
   const modkit::Outcome out = dispatch(result, buffer, user_id);
   AuthAnswer answer;
   if (out.kind == modkit::Outcome::Kind::decided) {
      answer.user_id = user_id;
      answer.module_index = out.module_index;
   }
   return scope.finish(out, answer, out.kind == modkit::Outcome::Kind::decided ? "authenticated as " + user_id : "");
}

// The user ID an AUTHENTICATED answer carries; an error when it is not a Matrix user ID.
modkit_status take_user_id(Scope &scope, const modkit_loader_entry &e, modkit_status s, modkit_auth_result result,
                           const Buffer &buffer, std::string &user_id) {
   if (s != MODKIT_OK || result != MODKIT_AUTH_AUTHENTICATED) return s;
   user_id = buffer.text();
   if (!valid_user_id(user_id)) {
      scope.reject(e, "authenticated without a valid Matrix user ID (got \"" + user_id + "\")");
      return MODKIT_E_INVALID_ARGUMENT;
   }
   return s;
}

} // namespace

Decision<AuthAnswer> ModuleHost::auth_checkers(CallContext &ctx, const std::string &username,
                                               const std::string &login_type, const json &login_dict) {
   Scope scope(*this, ctx, callback_name<&PAP::auth_checkers>("auth_checkers"), auth_name);
   auto slot = scope.slot<&PAP::auth_checkers>();
   const std::shared_ptr<const LoginTypes> types = login_types();
   const auto declared = types->modules.find(login_type);
   const std::string dict = login_dict.dump();
   return authenticate(scope, [&](modkit_auth_result &result, std::shared_ptr<Buffer> buffer, std::string &user_id) {
      // Keyed: only the modules that declared this login type are asked.
      auto matches = [&](const modkit_loader_entry &e) {
         return declared != types->modules.end() && declared->second.count(e.module_index) > 0;
      };
      return scope.keyed(
         slot.raw(), matches, result,
         [&, buffer](const modkit_loader_entry &e, modkit_call *call, modkit_auth_result *r) {
            return slot.fn(e)(e.user_data, call, view(username), view(login_type), view(dict), r, buffer->fresh());
         },
         [&, buffer](const modkit_loader_entry &e, modkit_status s, modkit_auth_result *r) {
            return take_user_id(scope, e, s, *r, *buffer, user_id);
         },
         modkit_auth_result{MODKIT_AUTH_NO_OPINION});
   });
}

Decision<AuthAnswer> ModuleHost::check_3pid_auth(CallContext &ctx, const std::string &medium,
                                                 const std::string &address, const std::string &password) {
   Scope scope(*this, ctx, callback_name<&PAP::check_3pid_auth>("check_3pid_auth"), auth_name);
   auto slot = scope.slot<&PAP::check_3pid_auth>();
   return authenticate(scope, [&](modkit_auth_result &result, std::shared_ptr<Buffer> buffer, std::string &user_id) {
      return scope.first_non_zero(
         slot.raw(), result,
         [&, buffer](const modkit_loader_entry &e, modkit_call *call, modkit_auth_result *r) {
            return slot.fn(e)(e.user_data, call, view(medium), view(address), view(password), r, buffer->fresh());
         },
         [&, buffer](const modkit_loader_entry &e, modkit_status s, modkit_auth_result *r) {
            return take_user_id(scope, e, s, *r, *buffer, user_id);
         },
         modkit_auth_result{MODKIT_AUTH_NO_OPINION});
   });
}

Done ModuleHost::on_login_response(CallContext &ctx, uint32_t module_index, const json &response) {
   Scope scope(*this, ctx, callback_name<&PAP::on_login_response>("on_login_response"));
   auto slot = scope.slot<&PAP::on_login_response>();
   const std::string text = response.dump();
   std::monostate none;
   // Keyed by the module that authenticated the login: only it hears about the response.
   const modkit::Outcome out = scope.keyed(
      slot.raw(), [&](const modkit_loader_entry &e) { return e.module_index == module_index; }, none,
      [&](const modkit_loader_entry &e, modkit_call *call, std::monostate *) {
         return slot.fn(e)(e.user_data, call, view(text));
      },
      Scope::unchecked, std::monostate{});
   return scope.finish(out);
}

Done ModuleHost::on_logged_out(CallContext &ctx, const std::string &user, const std::optional<std::string> &device,
                               const std::string &token) {
   return notify_all<&PAP::on_logged_out>(*this, ctx, "on_logged_out", view(user), view(device), view(token));
}

namespace {

// get_username_for_registration and get_displayname_for_registration: the first module that
// found a name wins.
template <auto Member>
Decision<std::optional<std::string>> first_name(ModuleHost &host, CallContext &ctx, const char *name,
                                                const json &uia, const json &params) {
   Scope scope(host, ctx, callback_name<Member>(name), [](int64_t found) { return std::string(found ? "found" : "none"); });
   auto slot = scope.template slot<Member>();
   const std::string uia_text = uia.dump(), params_text = params.dump();
   auto buffer = std::make_shared<Buffer>();
   std::string chosen;
   bool found = false;
   const modkit::Outcome out = scope.first_non_zero(
      slot.raw(), found,
      [&, buffer](const modkit_loader_entry &e, modkit_call *call, bool *f) {
         return slot.fn(e)(e.user_data, call, view(uia_text), view(params_text), f, buffer->fresh());
      },
      [&, buffer](const modkit_loader_entry &e, modkit_status s, bool *f) {
         if (s == MODKIT_OK && *f) {
            chosen = buffer->text();
            if (chosen.empty()) {
               scope.reject(e, "found a name but wrote none");
               s = MODKIT_E_INVALID_ARGUMENT;
            }
         }
         return s;
      },
      false);
   std::optional<std::string> answer;
   if (out.kind == modkit::Outcome::Kind::decided) answer = chosen;
   return scope.finish(out, answer, answer ? "\"" + *answer + "\"" : "");
}

} // namespace

Decision<std::optional<std::string>> ModuleHost::get_username_for_registration(CallContext &ctx, const json &uia,
                                                                              const json &params) {
   return first_name<&PAP::get_username_for_registration>(*this, ctx, "get_username_for_registration", uia, params);
}

Decision<std::optional<std::string>> ModuleHost::get_displayname_for_registration(CallContext &ctx, const json &uia,
                                                                                 const json &params) {
   return first_name<&PAP::get_displayname_for_registration>(*this, ctx, "get_displayname_for_registration", uia,
                                                             params);
}

Decision<bool> ModuleHost::is_3pid_allowed(CallContext &ctx, const std::string &medium, const std::string &address,
                                           bool registration) {
   return ask_all<&PAP::is_3pid_allowed>(*this, ctx, "is_3pid_allowed", view(medium), view(address), registration);
}

std::string expiry_name(int64_t value) {
   switch (value) {
   case MODKIT_EXPIRY_NO_OPINION: return "no_opinion";
   case MODKIT_EXPIRY_EXPIRED: return "expired";
   case MODKIT_EXPIRY_NOT_EXPIRED: return "not_expired";
   default: return std::to_string(value);
   }
}

std::string auth_name(int64_t value) { return value == MODKIT_AUTH_AUTHENTICATED ? "authenticated" : "no_opinion"; }

} // namespace chat
