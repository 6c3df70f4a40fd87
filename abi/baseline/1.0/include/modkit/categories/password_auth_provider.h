// modkit/categories/password_auth_provider.h - Synapse's password auth provider callbacks (6),
// plus the two a native ABI needs to express what Synapse passes as Python objects.
//
// Every callback returns a modkit_status (MODKIT_OK unless it failed) and writes its answers to
// the output parameters after its inputs, which the host zero-initialises (is_3pid_allowed's
// bool starts true, so a module that writes nothing allows). The first output is the answer
// the combination rule reads; *buf outputs that go with it are read only when it says so.
//
// Login types. Synapse registers auth_checkers as a dict {(login_type, (field, ...)): fn}.
// Here a module declares the same dict once through get_supported_login_types and answers
// every login through one auth_checkers callback. A module that sets one of the two must set
// the other; a host refuses (MODKIT_E_INVALID_ARGUMENT) a registration with only one.
// Synapse's docs promise that two modules claiming one login type with different fields stop
// the server from starting, but its check compares the login type with the tuple of field
// names, so it never fires and the later module silently replaces the earlier one's fields.
// modkit means what the docs say: when a second module declares a login type with another
// set of fields, the host must refuse to start, naming both modules. Modules declaring the
// same fields share the login type and are asked in config order.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_PASSWORD_AUTH_PROVIDER_ID[] = "modkit.password_auth_provider";
#define MODKIT_PASSWORD_AUTH_PROVIDER_MAJOR 1
#define MODKIT_PASSWORD_AUTH_PROVIDER_MINOR 0

// The answer of auth_checkers and check_3pid_auth: Synapse's "(user ID, callback) or None".
// Synapse has no explicit refusal (an exception only moves on to the next module), so neither
// does this enum; the post-login callback became the on_login_response slot.
enum {
   MODKIT_AUTH_NO_OPINION = 0,    // not this module's user or credentials; ask the next
   MODKIT_AUTH_AUTHENTICATED = 1, // authenticated as the Matrix user ID written to user_id
};
typedef int32_t modkit_auth_result;
#define MODKIT_AUTH_RESULT_MAX 1

// Every callback but get_supported_login_types: [thread-safe] (the host may call it from
// several threads at once); user_data is the pointer given at registration; call is valid
// until the callback returns; every other argument is owned by the host and valid only
// during the call.
typedef struct modkit_password_auth_provider_callbacks {
   uint32_t struct_size; // sizeof(modkit_password_auth_provider_callbacks) as compiled in

   // The login types auth_checkers handles and the fields each needs from the /login body,
   // as a JSON object written to login_types: {"m.login.password": ["password"],
   // "org.example.token": ["token", "otp"]}. The host asks once, at startup; it lists the
   // types in GET /login and in user-interactive auth flows, and refuses to start on the
   // conflict described above. An error stops the host from starting.
   // [main-thread]: once per module, after init and before any other callback of the module.
   modkit_status(MODKIT_ABI *get_supported_login_types)(void *user_data, modkit_call *call,
                                                       modkit_buffer *login_types);
   // Checks a login of a type the module declared; the host calls only the modules that
   // declared login_type, in config order, before its own password check. username is the
   // client's "user" field as sent (perhaps a bare localpart). login_dict_json holds exactly
   // the declared fields, all present (the host answers 400 if one is missing). The first
   // AUTHENTICATED wins, with the full Matrix user ID written to user_id. If nobody
   // authenticates, the host checks m.login.password against its own accounts, if enabled,
   // and refuses the login (403) otherwise. An error is logged and the next module asked.
   modkit_status(MODKIT_ABI *auth_checkers)(void *user_data, modkit_call *call,
                                           modkit_str username, modkit_str login_type,
                                           modkit_str login_dict_json, modkit_auth_result *result,
                                           modkit_buffer *user_id);
   // Checks a login by third-party identifier (medium "email" or "msisdn") and password. The
   // first AUTHENTICATED wins, with the Matrix user ID written to user_id; if nobody
   // authenticates, the host goes on with its own check. An error is logged and the next
   // module asked.
   modkit_status(MODKIT_ABI *check_3pid_auth)(void *user_data, modkit_call *call,
                                             modkit_str medium, modkit_str address,
                                             modkit_str password, modkit_auth_result *result,
                                             modkit_buffer *user_id);
   // A login this module authenticated (through auth_checkers or check_3pid_auth) succeeded;
   // login_response_json is the /login response body (user_id, access_token, device_id, ...).
   // This is the optional callback Synapse lets a checker return with its answer: the host
   // calls it on that module only, after the device and token exist. A module that does not
   // need it leaves it null. An error fails the login request, as in Synapse.
   modkit_status(MODKIT_ABI *on_login_response)(void *user_data, modkit_call *call,
                                               modkit_str login_response_json);
   // An access token was invalidated by logging out; device_id is absent for tokens without a
   // device. The host deletes the device's pushers afterwards. Every module runs; errors are
   // logged.
   modkit_status(MODKIT_ABI *on_logged_out)(void *user_data, modkit_call *call,
                                           modkit_str user_id, modkit_str device_id,
                                           modkit_str access_token);
   // The localpart a new account gets. uia_results_json maps each completed user-interactive
   // auth stage to its result (e.g. "m.login.email.identity": {"medium": "email", "address":
   // ..., "validated_at": ms}); params_json is the /register body. true in found with the
   // localpart written to username: the first such answer wins; with none, the user's choice
   // or a generated name is used. Not called for single sign-on. An error fails the
   // registration.
   modkit_status(MODKIT_ABI *get_username_for_registration)(void *user_data, modkit_call *call,
                                                           modkit_str uia_results_json,
                                                           modkit_str params_json, bool *found,
                                                           modkit_buffer *username);
   // The display name a new account gets; as get_username_for_registration, with the name
   // written to display_name. With no answer, the display name is the localpart.
   modkit_status(MODKIT_ABI *get_displayname_for_registration)(void *user_data,
                                                              modkit_call *call,
                                                              modkit_str uia_results_json,
                                                              modkit_str params_json,
                                                              bool *found,
                                                              modkit_buffer *display_name);
   // May this third-party identifier be associated with an account, at registration
   // (registration true) or later? Every module must allow; an error fails the request.
   modkit_status(MODKIT_ABI *is_3pid_allowed)(void *user_data, modkit_call *call,
                                             modkit_str medium, modkit_str address,
                                             bool registration, bool *allowed);
} modkit_password_auth_provider_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_PASSWORD_AUTH_PROVIDER_GET_SUPPORTED_LOGIN_TYPES = 0,
   MODKIT_PASSWORD_AUTH_PROVIDER_AUTH_CHECKERS,
   MODKIT_PASSWORD_AUTH_PROVIDER_CHECK_3PID_AUTH,
   MODKIT_PASSWORD_AUTH_PROVIDER_ON_LOGIN_RESPONSE,
   MODKIT_PASSWORD_AUTH_PROVIDER_ON_LOGGED_OUT,
   MODKIT_PASSWORD_AUTH_PROVIDER_GET_USERNAME_FOR_REGISTRATION,
   MODKIT_PASSWORD_AUTH_PROVIDER_GET_DISPLAYNAME_FOR_REGISTRATION,
   MODKIT_PASSWORD_AUTH_PROVIDER_IS_3PID_ALLOWED,
   MODKIT_PASSWORD_AUTH_PROVIDER_SLOT_COUNT
};

// Registers a module's password auth provider callbacks; see
// modkit_host_api.register_callbacks. get_supported_login_types and auth_checkers go together.
// [init-only]
static inline modkit_status modkit_register_password_auth_provider_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_password_auth_provider_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_PASSWORD_AUTH_PROVIDER_ID,
                                  MODKIT_PASSWORD_AUTH_PROVIDER_MAJOR,
                                  MODKIT_PASSWORD_AUTH_PROVIDER_MINOR, callbacks, user_data);
}

#define MODKIT_PAP_SLOT_(field, sig, combine, on_error, chain, out_max)                           \
   {#field, (uint32_t)offsetof(modkit_password_auth_provider_callbacks, field), 0, 0, sig,       \
    combine, on_error, chain, out_max, 0}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_password_auth_provider_category(void) {
   static const modkit_slot_desc slots[] = {
      // Every module's declaration is needed to build the login type table.
      MODKIT_PAP_SLOT_(get_supported_login_types, "login_types: *buf", MODKIT_COMBINE_MERGE,
                       MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      // Keyed by login type, then the first AUTHENTICATED wins.
      MODKIT_PAP_SLOT_(auth_checkers,
                       "username: str, login_type: str, login_dict: json, result: *i32, "
                       "user_id: *buf",
                       MODKIT_COMBINE_KEYED, MODKIT_ON_ERROR_FAIL_OPEN, 0, MODKIT_AUTH_RESULT_MAX),
      MODKIT_PAP_SLOT_(check_3pid_auth,
                       "medium: str, address: str, password: str, result: *i32, user_id: *buf",
                       MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_FAIL_OPEN, 0,
                       MODKIT_AUTH_RESULT_MAX),
      // Keyed by the module that authenticated the login.
      MODKIT_PAP_SLOT_(on_login_response, "login_response: json", MODKIT_COMBINE_KEYED,
                       MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_PAP_SLOT_(on_logged_out, "user_id: str, device_id: str, access_token: str",
                       MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_FAIL_OPEN, 0, -1),
      MODKIT_PAP_SLOT_(get_username_for_registration,
                       "uia_results: json, params: json, found: *bool, username: *buf",
                       MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_FAIL_CLOSED, 0, -1),
      MODKIT_PAP_SLOT_(get_displayname_for_registration,
                       "uia_results: json, params: json, found: *bool, display_name: *buf",
                       MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_FAIL_CLOSED, 0, -1),
      MODKIT_PAP_SLOT_(is_3pid_allowed,
                       "medium: str, address: str, registration: bool, allowed: *bool",
                       MODKIT_COMBINE_ALL_TRUE, MODKIT_ON_ERROR_FAIL_CLOSED, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_PASSWORD_AUTH_PROVIDER_MAJOR,
      MODKIT_PASSWORD_AUTH_PROVIDER_MINOR,
      MODKIT_PASSWORD_AUTH_PROVIDER_ID,
      sizeof(modkit_password_auth_provider_callbacks),
      MODKIT_PASSWORD_AUTH_PROVIDER_SLOT_COUNT,
      slots,
      0,
      0,
      NULL,
   };
   return &category;
}

#undef MODKIT_PAP_SLOT_

MODKIT_EXTERN_C_END
