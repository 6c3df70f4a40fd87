// modkit/categories/account_validity.h - Synapse's account validity callbacks (3 + 3 legacy).
//
// Every callback returns a modkit_status (MODKIT_OK unless it failed) and writes its answers to
// the output parameters after its inputs, which the host zero-initialises; the first output is
// the answer the combination rule reads. Synapse lets every exception from these callbacks
// propagate, so an error status fails the request that caused the call.
//
// The three on_legacy_* hooks let one module take over the host's own account validity
// endpoints (renewal emails, renewal links, the admin API). Each has a single owner: only the
// first module that sets it is called, and a host refuses (MODKIT_E_CONFLICT) a second module
// setting the same hook, as Synapse refuses a second registration.
#pragma once

#include "../call.h"
#include "../category.h"
#include "../host.h"
#include "../status.h"
#include "../web.h"

MODKIT_EXTERN_C_BEGIN

static const char MODKIT_ACCOUNT_VALIDITY_ID[] = "modkit.account_validity";
#define MODKIT_ACCOUNT_VALIDITY_MAJOR 1
#define MODKIT_ACCOUNT_VALIDITY_MINOR 0

// is_user_expired's answer: Synapse's True / False / None as an explicit tri-state, so that
// "not expired" is a decision that stops the dispatch and "no opinion" (0) is not.
enum {
   MODKIT_EXPIRY_NO_OPINION = 0,
   MODKIT_EXPIRY_EXPIRED = 1,
   MODKIT_EXPIRY_NOT_EXPIRED = 2,
};
typedef int32_t modkit_expiry_result;
#define MODKIT_EXPIRY_RESULT_MAX 2

// Every callback: [thread-safe] (the host may call it from several threads at once);
// user_data is the pointer given at registration; call is valid until the callback returns;
// every other argument is owned by the host and valid only during the call.
typedef struct modkit_account_validity_callbacks {
   uint32_t struct_size; // sizeof(modkit_account_validity_callbacks) as compiled into the module

   // Has the account expired? Called on every authenticated request except logout, so it must
   // be fast. The first module with an opinion decides; with none, the host falls back to its
   // own account validity, if enabled, else the user is not expired. EXPIRED answers 403
   // ORG_MATRIX_EXPIRED_ACCOUNT; the access token stays valid.
   modkit_status(MODKIT_ABI *is_user_expired)(void *user_data, modkit_call *call,
                                             modkit_str user_id, modkit_expiry_result *result);
   // An account was registered. Any host process may make the call. Every module runs; an
   // error stops the others and fails the registration request (the account exists by then).
   modkit_status(MODKIT_ABI *on_user_registration)(void *user_data, modkit_call *call,
                                                  modkit_str user_id);
   // A user logged in or registered. auth_provider_type is the login type (e.g.
   // "m.login.password"), auth_provider_id the single sign-on provider; either may be absent.
   // Every module runs; an error stops the others and fails the login request.
   modkit_status(MODKIT_ABI *on_user_login)(void *user_data, modkit_call *call,
                                           modkit_str user_id, modkit_str auth_provider_type,
                                           modkit_str auth_provider_id);
   // Send the user an account renewal email. Single owner (see above).
   modkit_status(MODKIT_ABI *on_legacy_send_mail)(void *user_data, modkit_call *call,
                                                 modkit_str user_id);
   // A renewal link was followed. token_valid: the token belongs to an account; token_stale:
   // it was already used, so nothing changed; expiration_ts: the account's expiration after
   // the renewal, in milliseconds since the epoch. Single owner (see above).
   modkit_status(MODKIT_ABI *on_legacy_renew)(void *user_data, modkit_call *call,
                                             modkit_str renewal_token, bool *token_valid,
                                             bool *token_stale, int64_t *expiration_ts);
   // The admin API's account validity request; its body is a JSON object with user_id and
   // optionally expiration_ts and enable_renewal_emails. expiration_ts: the account's new
   // expiration, in milliseconds since the epoch. Single owner (see above).
   modkit_status(MODKIT_ABI *on_legacy_admin_request)(void *user_data, modkit_call *call,
                                                     const modkit_http_request *request,
                                                     int64_t *expiration_ts);
} modkit_account_validity_callbacks;

// Slot indices into the category's slot table; equal to the callbacks' order in the struct.
enum {
   MODKIT_ACCOUNT_VALIDITY_IS_USER_EXPIRED = 0,
   MODKIT_ACCOUNT_VALIDITY_ON_USER_REGISTRATION,
   MODKIT_ACCOUNT_VALIDITY_ON_USER_LOGIN,
   MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_SEND_MAIL,
   MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_RENEW,
   MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_ADMIN_REQUEST,
   MODKIT_ACCOUNT_VALIDITY_SLOT_COUNT
};

// Registers a module's account validity callbacks; see modkit_host_api.register_callbacks.
// [init-only]
static inline modkit_status modkit_register_account_validity_callbacks(
   const modkit_host_api *api, modkit_host *host,
   const modkit_account_validity_callbacks *callbacks, void *user_data) {
   return api->register_callbacks(host, MODKIT_ACCOUNT_VALIDITY_ID, MODKIT_ACCOUNT_VALIDITY_MAJOR,
                                  MODKIT_ACCOUNT_VALIDITY_MINOR, callbacks, user_data);
}

#define MODKIT_AV_SLOT_(field, sig, combine, on_error, chain, out_max)                            \
   {#field, (uint32_t)offsetof(modkit_account_validity_callbacks, field), 0, 0, sig, combine,     \
    on_error, chain, out_max, 0}
#define MODKIT_AV_FIELD_(type, field, ftype) {#field, ftype, (uint32_t)offsetof(type, field)}

// The category descriptor hosts pass to the loader. Static data; never freed.
// [thread-safe]
static inline const modkit_category *modkit_account_validity_category(void) {
   static const modkit_field_desc request_fields[] = {
      MODKIT_AV_FIELD_(modkit_http_request, method, "str"),
      MODKIT_AV_FIELD_(modkit_http_request, path, "str"),
      MODKIT_AV_FIELD_(modkit_http_request, query, "str"),
      MODKIT_AV_FIELD_(modkit_http_request, headers_json, "json"),
      MODKIT_AV_FIELD_(modkit_http_request, body, "bytes"),
      MODKIT_AV_FIELD_(modkit_http_request, user_id, "str"),
   };
   static const modkit_type_desc types[] = {
      {"http_request", sizeof(modkit_http_request), 6, request_fields},
   };
   static const modkit_slot_desc slots[] = {
      MODKIT_AV_SLOT_(is_user_expired, "user_id: str, result: *i32",
                      MODKIT_COMBINE_FIRST_NON_ZERO, MODKIT_ON_ERROR_PROPAGATE, 0,
                      MODKIT_EXPIRY_RESULT_MAX),
      MODKIT_AV_SLOT_(on_user_registration, "user_id: str", MODKIT_COMBINE_RUN_ALL,
                      MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_AV_SLOT_(on_user_login,
                      "user_id: str, auth_provider_type: str, auth_provider_id: str",
                      MODKIT_COMBINE_RUN_ALL, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_AV_SLOT_(on_legacy_send_mail, "user_id: str", MODKIT_COMBINE_SINGLE,
                      MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_AV_SLOT_(on_legacy_renew,
                      "renewal_token: str, token_valid: *bool, token_stale: *bool, "
                      "expiration_ts: *i64",
                      MODKIT_COMBINE_SINGLE, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
      MODKIT_AV_SLOT_(on_legacy_admin_request, "request: &http_request, expiration_ts: *i64",
                      MODKIT_COMBINE_SINGLE, MODKIT_ON_ERROR_PROPAGATE, 0, -1),
   };
   static const modkit_category category = {
      sizeof(modkit_category),
      MODKIT_ACCOUNT_VALIDITY_MAJOR,
      MODKIT_ACCOUNT_VALIDITY_MINOR,
      MODKIT_ACCOUNT_VALIDITY_ID,
      sizeof(modkit_account_validity_callbacks),
      MODKIT_ACCOUNT_VALIDITY_SLOT_COUNT,
      slots,
      1,
      0,
      types,
   };
   return &category;
}

#undef MODKIT_AV_SLOT_
#undef MODKIT_AV_FIELD_

MODKIT_EXTERN_C_END
