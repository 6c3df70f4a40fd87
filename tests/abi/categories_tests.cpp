// categories_tests.cpp - the standard categories: layout pins for every callbacks struct and
// domain struct they add, and one table-driven check of all eleven category descriptors
// against the grammar of docs/abi.md and against their own C declarations. Pinned for LP64.
#include <modkit/all.h>

#include <doctest/doctest.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#define PIN(type, field, off)                                                                     \
   static_assert(offsetof(type, field) == (off), #type "." #field " moved")
#define SIZE(type, size) static_assert(sizeof(type) == (size), #type " changed size")

static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "layout pins are for LP64 targets");

// ---- callbacks structs: struct_size, then one function pointer per slot ----

SIZE(modkit_third_party_rules_callbacks, 8 + 12 * 8);
PIN(modkit_third_party_rules_callbacks, check_event_allowed, 8);
PIN(modkit_third_party_rules_callbacks, on_new_event, 8 + 4 * 8);
PIN(modkit_third_party_rules_callbacks, on_remove_user_third_party_identifier, 8 + 11 * 8);

SIZE(modkit_presence_router_callbacks, 8 + 2 * 8);
PIN(modkit_presence_router_callbacks, get_users_for_states, 8);
PIN(modkit_presence_router_callbacks, get_interested_users, 8 + 1 * 8);

SIZE(modkit_account_validity_callbacks, 8 + 6 * 8);
PIN(modkit_account_validity_callbacks, is_user_expired, 8);
PIN(modkit_account_validity_callbacks, on_legacy_send_mail, 8 + 3 * 8);
PIN(modkit_account_validity_callbacks, on_legacy_admin_request, 8 + 5 * 8);

SIZE(modkit_password_auth_provider_callbacks, 8 + 8 * 8);
PIN(modkit_password_auth_provider_callbacks, get_supported_login_types, 8);
PIN(modkit_password_auth_provider_callbacks, auth_checkers, 8 + 1 * 8);
PIN(modkit_password_auth_provider_callbacks, is_3pid_allowed, 8 + 7 * 8);

SIZE(modkit_background_update_controller_callbacks, 8 + 3 * 8);
PIN(modkit_background_update_controller_callbacks, on_update, 8);
PIN(modkit_background_update_controller_callbacks, min_batch_size, 8 + 2 * 8);

SIZE(modkit_account_data_callbacks, 8 + 1 * 8);
PIN(modkit_account_data_callbacks, on_account_data_updated, 8);

SIZE(modkit_extra_unsigned_fields_callbacks, 8 + 1 * 8);
PIN(modkit_extra_unsigned_fields_callbacks, add_field_to_unsigned, 8);

SIZE(modkit_media_repository_callbacks, 8 + 4 * 8);
PIN(modkit_media_repository_callbacks, get_media_config_for_user, 8);
PIN(modkit_media_repository_callbacks, on_media_upload_limit_exceeded, 8 + 3 * 8);

SIZE(modkit_ratelimit_callbacks, 8 + 1 * 8);
PIN(modkit_ratelimit_callbacks, get_ratelimit_override_for_user, 8);

SIZE(modkit_federation_callbacks, 8 + 1 * 8);
PIN(modkit_federation_callbacks, on_event_delivered_over_federation, 8);

// ---- domain structs added for these categories ----

SIZE(modkit_requester, 80);
PIN(modkit_requester, struct_size, 0);
PIN(modkit_requester, user_id, 8);
PIN(modkit_requester, device_id, 24);
PIN(modkit_requester, authenticated_entity, 40);
PIN(modkit_requester, app_service_id, 56);
PIN(modkit_requester, is_guest, 72);
PIN(modkit_requester, shadow_banned, 73);

SIZE(modkit_media_upload_limit, 24);
PIN(modkit_media_upload_limit, struct_size, 0);
PIN(modkit_media_upload_limit, max_bytes, 8);
PIN(modkit_media_upload_limit, time_period_ms, 16);

SIZE(modkit_federation_delivery, 48);
PIN(modkit_federation_delivery, struct_size, 0);
PIN(modkit_federation_delivery, server_name, 8);
PIN(modkit_federation_delivery, events_json, 24);
PIN(modkit_federation_delivery, method, 40);

// ---- constants: never renumbered ----

static_assert(MODKIT_EVENT_ALLOW == 0 && MODKIT_EVENT_DENY == 1 && MODKIT_EVENT_REPLACE == 2 &&
              MODKIT_EVENT_VERDICT_MAX == 2);
static_assert(MODKIT_CREATE_ROOM_ALLOW == 0 && MODKIT_CREATE_ROOM_DENY == 1 &&
              MODKIT_CREATE_ROOM_RESULT_MAX == 1);
static_assert(MODKIT_EXPIRY_NO_OPINION == 0 && MODKIT_EXPIRY_EXPIRED == 1 &&
              MODKIT_EXPIRY_NOT_EXPIRED == 2 && MODKIT_EXPIRY_RESULT_MAX == 2);
static_assert(MODKIT_AUTH_NO_OPINION == 0 && MODKIT_AUTH_AUTHENTICATED == 1 &&
              MODKIT_AUTH_RESULT_MAX == 1);
static_assert(MODKIT_FEDERATION_DELIVERY_OTHER == 0 && MODKIT_FEDERATION_DELIVERY_SEND == 1 &&
              MODKIT_FEDERATION_DELIVERY_BACKFILL == 2 &&
              MODKIT_FEDERATION_DELIVERY_GET_MISSING_EVENTS == 3 &&
              MODKIT_FEDERATION_DELIVERY_EVENT == 4 && MODKIT_FEDERATION_DELIVERY_EVENT_AUTH == 5 &&
              MODKIT_FEDERATION_DELIVERY_STATE == 6 && MODKIT_FEDERATION_DELIVERY_SEND_JOIN == 7);

namespace {

// ---- what the C declarations say: each callback parameter as a token of the grammar ----

// One C parameter after (user_data, call). str stands for any modkit_str (str, json, bytes);
// "&" is a const struct pointer of size record_size.
struct CParam {
   std::string token;
   size_t record_size = 0;
};

template <class T> struct CToken; // no match: a parameter type the grammar cannot express
template <> struct CToken<bool> { static CParam get() { return {"bool"}; } };
template <> struct CToken<int32_t> { static CParam get() { return {"i32"}; } };
template <> struct CToken<uint32_t> { static CParam get() { return {"u32"}; } };
template <> struct CToken<int64_t> { static CParam get() { return {"i64"}; } };
template <> struct CToken<uint64_t> { static CParam get() { return {"u64"}; } };
template <> struct CToken<double> { static CParam get() { return {"f64"}; } };
template <> struct CToken<modkit_str> { static CParam get() { return {"str"}; } };
template <> struct CToken<bool *> { static CParam get() { return {"*bool"}; } };
template <> struct CToken<int32_t *> { static CParam get() { return {"*i32"}; } };
template <> struct CToken<uint32_t *> { static CParam get() { return {"*u32"}; } };
template <> struct CToken<int64_t *> { static CParam get() { return {"*i64"}; } };
template <> struct CToken<uint64_t *> { static CParam get() { return {"*u64"}; } };
template <> struct CToken<double *> { static CParam get() { return {"*f64"}; } };
template <> struct CToken<modkit_buffer *> { static CParam get() { return {"*buf"}; } };
template <class S> struct CToken<const S *> {
   static CParam get() { return {"&", sizeof(S)}; }
};

// Only a callback of the shape every slot must have matches: it returns modkit_status and
// starts with (void *user_data, modkit_call *call).
template <class F> struct Proto;
template <class... A> struct Proto<modkit_status (*)(void *, modkit_call *, A...)> {
   static std::vector<CParam> params() { return {CToken<A>::get()...}; }
};

struct SlotDecl {
   const char *name;
   uint32_t offset;
   std::vector<CParam> params;
};

#define DECL(S, f)                                                                                \
   SlotDecl { #f, static_cast<uint32_t>(offsetof(S, f)), Proto<decltype(S::f)>::params() }

struct CategoryCase {
   const modkit_category *category;
   const char *id;
   uint32_t slot_count;     // the header's *_SLOT_COUNT
   size_t callbacks_size;   // sizeof the callbacks struct
   std::vector<SlotDecl> slots;
};

std::vector<CategoryCase> standard_categories() {
   using SC = modkit_spam_checker_callbacks;
   using TPR = modkit_third_party_rules_callbacks;
   using PR = modkit_presence_router_callbacks;
   using AV = modkit_account_validity_callbacks;
   using PAP = modkit_password_auth_provider_callbacks;
   using BUC = modkit_background_update_controller_callbacks;
   using AD = modkit_account_data_callbacks;
   using EUF = modkit_extra_unsigned_fields_callbacks;
   using MR = modkit_media_repository_callbacks;
   using RL = modkit_ratelimit_callbacks;
   using FED = modkit_federation_callbacks;
   return {
      {modkit_spam_checker_category(), MODKIT_SPAM_CHECKER_ID, MODKIT_SPAM_CHECKER_SLOT_COUNT,
       sizeof(SC),
       {DECL(SC, check_event_for_spam), DECL(SC, should_drop_federated_event),
        DECL(SC, user_may_join_room), DECL(SC, user_may_invite),
        DECL(SC, federated_user_may_invite), DECL(SC, user_may_send_3pid_invite),
        DECL(SC, user_may_create_room), DECL(SC, user_may_create_room_alias),
        DECL(SC, user_may_publish_room), DECL(SC, user_may_send_state_event),
        DECL(SC, check_username_for_spam), DECL(SC, check_registration_for_spam),
        DECL(SC, check_media_file_for_spam), DECL(SC, check_login_for_spam)}},
      {modkit_third_party_rules_category(), MODKIT_THIRD_PARTY_RULES_ID,
       MODKIT_THIRD_PARTY_RULES_SLOT_COUNT, sizeof(TPR),
       {DECL(TPR, check_event_allowed), DECL(TPR, on_create_room),
        DECL(TPR, check_threepid_can_be_invited), DECL(TPR, check_visibility_can_be_modified),
        DECL(TPR, on_new_event), DECL(TPR, check_can_shutdown_room),
        DECL(TPR, check_can_deactivate_user), DECL(TPR, on_profile_update),
        DECL(TPR, on_user_deactivation_status_changed), DECL(TPR, on_threepid_bind),
        DECL(TPR, on_add_user_third_party_identifier),
        DECL(TPR, on_remove_user_third_party_identifier)}},
      {modkit_presence_router_category(), MODKIT_PRESENCE_ROUTER_ID,
       MODKIT_PRESENCE_ROUTER_SLOT_COUNT, sizeof(PR),
       {DECL(PR, get_users_for_states), DECL(PR, get_interested_users)}},
      {modkit_account_validity_category(), MODKIT_ACCOUNT_VALIDITY_ID,
       MODKIT_ACCOUNT_VALIDITY_SLOT_COUNT, sizeof(AV),
       {DECL(AV, is_user_expired), DECL(AV, on_user_registration), DECL(AV, on_user_login),
        DECL(AV, on_legacy_send_mail), DECL(AV, on_legacy_renew),
        DECL(AV, on_legacy_admin_request)}},
      {modkit_password_auth_provider_category(), MODKIT_PASSWORD_AUTH_PROVIDER_ID,
       MODKIT_PASSWORD_AUTH_PROVIDER_SLOT_COUNT, sizeof(PAP),
       {DECL(PAP, get_supported_login_types), DECL(PAP, auth_checkers),
        DECL(PAP, check_3pid_auth), DECL(PAP, on_login_response), DECL(PAP, on_logged_out),
        DECL(PAP, get_username_for_registration), DECL(PAP, get_displayname_for_registration),
        DECL(PAP, is_3pid_allowed)}},
      {modkit_background_update_controller_category(), MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID,
       MODKIT_BACKGROUND_UPDATE_CONTROLLER_SLOT_COUNT, sizeof(BUC),
       {DECL(BUC, on_update), DECL(BUC, default_batch_size), DECL(BUC, min_batch_size)}},
      {modkit_account_data_category(), MODKIT_ACCOUNT_DATA_ID, MODKIT_ACCOUNT_DATA_SLOT_COUNT,
       sizeof(AD), {DECL(AD, on_account_data_updated)}},
      {modkit_extra_unsigned_fields_category(), MODKIT_EXTRA_UNSIGNED_FIELDS_ID,
       MODKIT_EXTRA_UNSIGNED_FIELDS_SLOT_COUNT, sizeof(EUF), {DECL(EUF, add_field_to_unsigned)}},
      {modkit_media_repository_category(), MODKIT_MEDIA_REPOSITORY_ID,
       MODKIT_MEDIA_REPOSITORY_SLOT_COUNT, sizeof(MR),
       {DECL(MR, get_media_config_for_user), DECL(MR, is_user_allowed_to_upload_media_of_size),
        DECL(MR, get_media_upload_limits_for_user), DECL(MR, on_media_upload_limit_exceeded)}},
      {modkit_ratelimit_category(), MODKIT_RATELIMIT_ID, MODKIT_RATELIMIT_SLOT_COUNT, sizeof(RL),
       {DECL(RL, get_ratelimit_override_for_user)}},
      {modkit_federation_category(), MODKIT_FEDERATION_ID, MODKIT_FEDERATION_SLOT_COUNT,
       sizeof(FED), {DECL(FED, on_event_delivered_over_federation)}},
   };
}

// ---- what the C declarations say about the structs passed by pointer ----

struct CField {
   std::string name;
   uint32_t offset;
   CParam c;
};

struct CStruct {
   size_t size;
   std::vector<CField> fields; // every field after struct_size
};

#define CFIELD(S, f)                                                                              \
   CField { #f, static_cast<uint32_t>(offsetof(S, f)), CToken<decltype(S::f)>::get() }

// Types-table names and the C struct each stands for; a name means the same struct in every
// category that lists it.
std::map<std::string, CStruct> domain_structs() {
   using E = modkit_event;
   using UP = modkit_user_profile;
   using MFI = modkit_media_file_info;
   using RQ = modkit_requester;
   using HR = modkit_http_request;
   using MUL = modkit_media_upload_limit;
   using FD = modkit_federation_delivery;
   return {
      {"event",
       {sizeof(E),
        {CFIELD(E, event_id), CFIELD(E, room_id), CFIELD(E, sender), CFIELD(E, type),
         CFIELD(E, state_key), CFIELD(E, content_json), CFIELD(E, unsigned_json),
         CFIELD(E, origin_server_ts)}}},
      {"user_profile",
       {sizeof(UP), {CFIELD(UP, user_id), CFIELD(UP, display_name), CFIELD(UP, avatar_url)}}},
      {"media_file_info",
       {sizeof(MFI),
        {CFIELD(MFI, server_name), CFIELD(MFI, media_id), CFIELD(MFI, upload_name),
         CFIELD(MFI, media_type), CFIELD(MFI, media_length), CFIELD(MFI, is_thumbnail)}}},
      {"requester",
       {sizeof(RQ),
        {CFIELD(RQ, user_id), CFIELD(RQ, device_id), CFIELD(RQ, authenticated_entity),
         CFIELD(RQ, app_service_id), CFIELD(RQ, is_guest), CFIELD(RQ, shadow_banned)}}},
      {"http_request",
       {sizeof(HR),
        {CFIELD(HR, method), CFIELD(HR, path), CFIELD(HR, query), CFIELD(HR, headers_json),
         CFIELD(HR, body), CFIELD(HR, user_id)}}},
      {"media_upload_limit", {sizeof(MUL), {CFIELD(MUL, max_bytes), CFIELD(MUL, time_period_ms)}}},
      {"federation_delivery",
       {sizeof(FD), {CFIELD(FD, server_name), CFIELD(FD, events_json), CFIELD(FD, method)}}},
   };
}

// A grammar type against the C parameter or field it describes: json and bytes are
// modkit_str too.
bool same_type(const std::string &grammar, const CParam &c) {
   if (grammar == "json" || grammar == "bytes") return c.token == "str";
   return c.token == grammar;
}

// ---- the signature grammar of docs/abi.md ----

const std::set<std::string> scalar_types = {"bool", "i32", "u32", "i64", "u64",
                                            "f64",  "str", "json", "bytes"};
const std::set<std::string> output_types = {"bool", "i32", "u32", "i64", "u64", "f64", "buf"};

bool is_identifier(std::string_view s) {
   if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
   for (char c : s) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
   }
   return true;
}

struct SigParam {
   std::string name;
   std::string type; // as written: "str", "&event", "*i32"
   bool output() const { return type[0] == '*'; }
   bool record() const { return type[0] == '&'; }
};

// Parses "name: type, name: type" strictly; on failure says why.
bool parse_signature(std::string_view text, std::vector<SigParam> &out, std::string &why) {
   out.clear();
   while (!text.empty()) {
      const size_t end = text.find(", ");
      const std::string_view item = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 2);
      if (end != std::string_view::npos && text.empty()) {
         why = "trailing ', '";
         return false;
      }
      const size_t colon = item.find(": ");
      if (colon == std::string_view::npos) {
         why = "'" + std::string(item) + "' is not 'name: type'";
         return false;
      }
      SigParam p{std::string(item.substr(0, colon)), std::string(item.substr(colon + 2))};
      if (!is_identifier(p.name)) {
         why = "'" + p.name + "' is not an identifier";
         return false;
      }
      const bool ok = p.record()   ? is_identifier(std::string_view(p.type).substr(1))
                      : p.output() ? output_types.count(p.type.substr(1)) == 1
                                   : scalar_types.count(p.type) == 1;
      if (!ok) {
         why = "'" + p.type + "' is not a type of the grammar";
         return false;
      }
      out.push_back(std::move(p));
   }
   return true;
}

size_t scalar_size(const std::string &type) {
   if (type == "bool") return sizeof(bool);
   if (type == "i32" || type == "u32") return 4;
   if (type == "i64" || type == "u64" || type == "f64") return 8;
   return sizeof(modkit_str); // str, json, bytes
}

const modkit_type_desc *find_type(const modkit_category &c, const std::string &name) {
   for (uint32_t i = 0; i < c.type_count; ++i) {
      if (name == c.types[i].name) return &c.types[i];
   }
   return nullptr;
}

bool is_slot(const modkit_category &c, const char *name) {
   for (uint32_t i = 0; name && i < c.slot_count; ++i) {
      if (std::strcmp(c.slots[i].name, name) == 0) return true;
   }
   return false;
}

// A struct type's fields: grammar scalars, after struct_size, aligned, inside the struct, not
// overlapping, uniquely named; and exactly the C struct's fields, at their offsets, with their
// types.
void check_type(const modkit_type_desc &t) {
   INFO("type " << t.name);
   CHECK(is_identifier(t.name));
   CHECK(t.size >= sizeof(uint32_t));
   REQUIRE((t.field_count == 0 || t.fields != nullptr));
   const std::map<std::string, CStruct> known = domain_structs();
   const auto it = known.find(t.name);
   REQUIRE_MESSAGE(it != known.end(), "no C struct is known under this name");
   const CStruct &cs = it->second;
   CHECK(t.size == cs.size);
   CHECK(t.field_count == cs.fields.size());
   std::set<std::string> names;
   std::vector<std::pair<uint32_t, uint32_t>> ranges;
   for (uint32_t i = 0; i < t.field_count; ++i) {
      const modkit_field_desc &f = t.fields[i];
      INFO("field " << f.name);
      CHECK(names.insert(f.name).second);
      REQUIRE(scalar_types.count(f.type) == 1);
      const uint32_t size = static_cast<uint32_t>(scalar_size(f.type));
      const uint32_t align = size >= 8 ? 8 : size;
      CHECK(f.offset >= sizeof(uint32_t));
      CHECK(f.offset % align == 0);
      CHECK(f.offset + size <= t.size);
      for (const auto &r : ranges) CHECK((f.offset + size <= r.first || r.second <= f.offset));
      ranges.emplace_back(f.offset, f.offset + size);
      const CField *cf = nullptr;
      for (const CField &candidate : cs.fields) {
         if (candidate.name == f.name) cf = &candidate;
      }
      REQUIRE_MESSAGE(cf != nullptr, "the C struct has no such field");
      CHECK(f.offset == cf->offset);
      CHECK_MESSAGE(same_type(f.type, cf->c), f.type << " describes a C " << cf->c.token);
   }
}

void check_slot(const modkit_category &c, uint32_t index, const SlotDecl &decl,
                std::set<std::string> &types_used) {
   const modkit_slot_desc &s = c.slots[index];
   INFO("slot " << index << " " << (s.name ? s.name : "(null)"));
   REQUIRE(s.name != nullptr);
   CHECK(std::string(s.name) == decl.name);
   // Slots are listed in struct order, one function pointer apart, after struct_size.
   CHECK(s.offset == decl.offset);
   CHECK(s.offset == 8 + 8 * index);
   CHECK(s.since_minor == 0);
   CHECK(s.reserved == 0);
   CHECK(s.reserved2 == 0);

   REQUIRE(s.signature != nullptr);
   const std::string signature = s.signature;
   INFO("signature \"" << signature << "\"");
   CHECK(!signature.empty());
   std::vector<SigParam> params;
   std::string why;
   REQUIRE_MESSAGE(parse_signature(signature, params, why), why);

   // The signature names every C parameter after (user_data, call), in order, with its type.
   REQUIRE(params.size() == decl.params.size());
   std::set<std::string> names;
   bool seen_output = false;
   for (size_t i = 0; i < params.size(); ++i) {
      const SigParam &p = params[i];
      const CParam &cp = decl.params[i];
      INFO("parameter " << p.name << ": " << p.type << " (C: " << cp.token << ")");
      CHECK(names.insert(p.name).second);
      // Outputs come after every input, so the first output is the answer.
      if (p.output()) seen_output = true;
      CHECK((p.output() || !seen_output));
      if (p.record()) {
         const std::string type = p.type.substr(1);
         const modkit_type_desc *t = find_type(c, type);
         REQUIRE_MESSAGE(t != nullptr, "&" << type << " is not in the category's types table");
         CHECK(cp.token == "&");
         CHECK(t->size == cp.record_size);
         types_used.insert(type);
      } else {
         CHECK(same_type(p.type, cp));
      }
   }

   // Combination and error policies.
   CHECK(s.combine >= MODKIT_COMBINE_FIRST_NON_ZERO);
   CHECK(s.combine <= MODKIT_COMBINE_CHAINED);
   CHECK(s.on_error >= MODKIT_ON_ERROR_FAIL_OPEN);
   CHECK(s.on_error <= MODKIT_ON_ERROR_PROPAGATE);
   if (s.combine == MODKIT_COMBINE_CHAINED) {
      CHECK_MESSAGE(is_slot(c, s.chain_to), "chain_to names no slot of the category");
      CHECK(std::strcmp(s.chain_to, s.name) != 0);
   } else {
      CHECK(s.chain_to == nullptr);
   }

   // The answer the combination reads, and the range an i32 answer may take.
   const SigParam *answer = nullptr;
   for (const SigParam &p : params) {
      if (p.output()) {
         answer = &p;
         break;
      }
   }
   const std::string answer_type = answer ? answer->type : "";
   switch (s.combine) {
   case MODKIT_COMBINE_ALL_TRUE: CHECK(answer_type == "*bool"); break;
   case MODKIT_COMBINE_RUN_ALL: CHECK(answer == nullptr); break;
   case MODKIT_COMBINE_MERGE: CHECK(answer != nullptr); break;
   case MODKIT_COMBINE_FIRST_NON_ZERO:
   case MODKIT_COMBINE_CHAINED: CHECK((answer_type == "*i32" || answer_type == "*bool")); break;
   default: break; // SINGLE and KEYED slots may be notifications
   }
   if (answer_type == "*i32") {
      // An enum answer declares its largest value; a deciding slot needs a non-zero one.
      CHECK(s.out_max >= -1);
      if (s.combine == MODKIT_COMBINE_FIRST_NON_ZERO || s.combine == MODKIT_COMBINE_CHAINED ||
          s.combine == MODKIT_COMBINE_KEYED)
         CHECK(s.out_max >= 1);
   } else if (answer_type == "*bool") {
      // -1, or 1: a bool's own range, which the spam checker spells out.
      CHECK((s.out_max == -1 || s.out_max == 1));
   } else {
      CHECK(s.out_max == -1);
   }
}

void check_category(const CategoryCase &cc) {
   const modkit_category &c = *cc.category;
   INFO("category " << cc.id);
   CHECK(c.struct_size == sizeof(modkit_category));
   REQUIRE(c.id != nullptr);
   CHECK(std::string(c.id) == cc.id);
   CHECK(std::string(c.id).rfind("modkit.", 0) == 0);
   CHECK(c.major == 1);
   CHECK(c.minor == 0);
   CHECK(c.reserved == 0);

   CHECK(c.callbacks_size == cc.callbacks_size);
   CHECK(c.callbacks_size == 8 + 8 * cc.slot_count);
   REQUIRE(c.slot_count == cc.slot_count);
   REQUIRE(c.slot_count == cc.slots.size());
   REQUIRE(c.slots != nullptr);

   std::set<std::string> slot_names;
   std::set<std::string> types_used;
   for (uint32_t i = 0; i < c.slot_count; ++i) {
      CHECK(slot_names.insert(c.slots[i].name).second);
      check_slot(c, i, cc.slots[i], types_used);
   }

   REQUIRE((c.type_count == 0 || c.types != nullptr));
   std::set<std::string> type_names;
   for (uint32_t i = 0; i < c.type_count; ++i) {
      CHECK(type_names.insert(c.types[i].name).second);
      check_type(c.types[i]);
      // A type no signature names is a table entry nobody can reach.
      CHECK_MESSAGE(types_used.count(c.types[i].name) == 1,
                    "type " << c.types[i].name << " is used by no slot");
   }
}

// Records what a typed registration helper passed to the host.
struct Registration {
   std::string category_id;
   uint16_t major = 0;
   uint16_t minor = 0;
   const void *callbacks = nullptr;
   void *user_data = nullptr;
};
Registration last_registration;

modkit_status MODKIT_ABI record_registration(modkit_host *, const char *category_id,
                                             uint16_t major, uint16_t minor,
                                             const void *callbacks, void *user_data) {
   last_registration = {category_id, major, minor, callbacks, user_data};
   return MODKIT_OK;
}

} // namespace

TEST_CASE("every standard category's descriptor matches its callbacks struct and the grammar") {
   const std::vector<CategoryCase> cases = standard_categories();
   CHECK(cases.size() == 11);
   std::set<std::string> ids;
   for (const CategoryCase &cc : cases) {
      CHECK_MESSAGE(ids.insert(cc.id).second, "category ID " << cc.id << " is given twice");
      check_category(cc);
   }
}

TEST_CASE("category descriptors are static data: every call returns the same table") {
   for (const CategoryCase &cc : standard_categories()) {
      INFO("category " << cc.id);
      const modkit_category *again = nullptr;
      for (const CategoryCase &other : standard_categories()) {
         if (std::strcmp(other.id, cc.id) == 0) again = other.category;
      }
      CHECK(again == cc.category);
   }
}

TEST_CASE("the slot policies are Synapse's") {
   // A few rules that are easy to get wrong and that hosts rely on.
   const modkit_category *tpr = modkit_third_party_rules_category();
   CHECK(tpr->slots[MODKIT_THIRD_PARTY_RULES_CHECK_EVENT_ALLOWED].combine ==
         MODKIT_COMBINE_FIRST_NON_ZERO);
   CHECK(tpr->slots[MODKIT_THIRD_PARTY_RULES_ON_CREATE_ROOM].on_error ==
         MODKIT_ON_ERROR_FAIL_CLOSED);
   CHECK(tpr->slots[MODKIT_THIRD_PARTY_RULES_CHECK_THREEPID_CAN_BE_INVITED].combine ==
         MODKIT_COMBINE_ALL_TRUE);
   CHECK(tpr->slots[MODKIT_THIRD_PARTY_RULES_CHECK_THREEPID_CAN_BE_INVITED].on_error ==
         MODKIT_ON_ERROR_FAIL_OPEN);
   CHECK(tpr->slots[MODKIT_THIRD_PARTY_RULES_ON_NEW_EVENT].combine == MODKIT_COMBINE_RUN_ALL);

   const modkit_category *pr = modkit_presence_router_category();
   for (uint32_t i = 0; i < pr->slot_count; ++i) {
      CHECK(pr->slots[i].combine == MODKIT_COMBINE_MERGE);
      CHECK(pr->slots[i].on_error == MODKIT_ON_ERROR_FAIL_OPEN);
   }

   const modkit_category *av = modkit_account_validity_category();
   CHECK(av->slots[MODKIT_ACCOUNT_VALIDITY_IS_USER_EXPIRED].out_max == MODKIT_EXPIRY_RESULT_MAX);
   for (uint32_t i = MODKIT_ACCOUNT_VALIDITY_ON_LEGACY_SEND_MAIL; i < av->slot_count; ++i)
      CHECK(av->slots[i].combine == MODKIT_COMBINE_SINGLE);

   const modkit_category *pap = modkit_password_auth_provider_category();
   CHECK(pap->slots[MODKIT_PASSWORD_AUTH_PROVIDER_AUTH_CHECKERS].combine == MODKIT_COMBINE_KEYED);
   CHECK(pap->slots[MODKIT_PASSWORD_AUTH_PROVIDER_AUTH_CHECKERS].on_error ==
         MODKIT_ON_ERROR_FAIL_OPEN);
   CHECK(pap->slots[MODKIT_PASSWORD_AUTH_PROVIDER_GET_USERNAME_FOR_REGISTRATION].on_error ==
         MODKIT_ON_ERROR_FAIL_CLOSED);
   CHECK(pap->slots[MODKIT_PASSWORD_AUTH_PROVIDER_IS_3PID_ALLOWED].combine ==
         MODKIT_COMBINE_ALL_TRUE);
   CHECK(pap->slots[MODKIT_PASSWORD_AUTH_PROVIDER_IS_3PID_ALLOWED].on_error ==
         MODKIT_ON_ERROR_FAIL_CLOSED);

   const modkit_category *buc = modkit_background_update_controller_category();
   for (uint32_t i = 0; i < buc->slot_count; ++i)
      CHECK(buc->slots[i].combine == MODKIT_COMBINE_SINGLE);

   const modkit_category *euf = modkit_extra_unsigned_fields_category();
   CHECK(euf->slots[0].combine == MODKIT_COMBINE_MERGE);
   CHECK(euf->slots[0].on_error == MODKIT_ON_ERROR_PROPAGATE);

   for (const modkit_category *c :
        {modkit_media_repository_category(), modkit_ratelimit_category()}) {
      for (uint32_t i = 0; i < c->slot_count; ++i)
         CHECK(c->slots[i].on_error == MODKIT_ON_ERROR_PROPAGATE);
   }
}

TEST_CASE("typed registration helpers pass the category's ID and version") {
   modkit_host_api api{};
   api.struct_size = sizeof api;
   api.register_callbacks = record_registration;
   int user_data = 0;

   auto expect = [&](const char *id, uint16_t major, uint16_t minor, const void *callbacks) {
      INFO("category " << id);
      CHECK(last_registration.category_id == id);
      CHECK(last_registration.major == major);
      CHECK(last_registration.minor == minor);
      CHECK(last_registration.callbacks == callbacks);
      CHECK(last_registration.user_data == &user_data);
   };

   modkit_third_party_rules_callbacks tpr{};
   CHECK(modkit_register_third_party_rules_callbacks(&api, nullptr, &tpr, &user_data) == MODKIT_OK);
   expect(MODKIT_THIRD_PARTY_RULES_ID, MODKIT_THIRD_PARTY_RULES_MAJOR,
          MODKIT_THIRD_PARTY_RULES_MINOR, &tpr);
   modkit_presence_router_callbacks pr{};
   CHECK(modkit_register_presence_router_callbacks(&api, nullptr, &pr, &user_data) == MODKIT_OK);
   expect(MODKIT_PRESENCE_ROUTER_ID, MODKIT_PRESENCE_ROUTER_MAJOR, MODKIT_PRESENCE_ROUTER_MINOR,
          &pr);
   modkit_account_validity_callbacks av{};
   CHECK(modkit_register_account_validity_callbacks(&api, nullptr, &av, &user_data) == MODKIT_OK);
   expect(MODKIT_ACCOUNT_VALIDITY_ID, MODKIT_ACCOUNT_VALIDITY_MAJOR,
          MODKIT_ACCOUNT_VALIDITY_MINOR, &av);
   modkit_password_auth_provider_callbacks pap{};
   CHECK(modkit_register_password_auth_provider_callbacks(&api, nullptr, &pap, &user_data) ==
         MODKIT_OK);
   expect(MODKIT_PASSWORD_AUTH_PROVIDER_ID, MODKIT_PASSWORD_AUTH_PROVIDER_MAJOR,
          MODKIT_PASSWORD_AUTH_PROVIDER_MINOR, &pap);
   modkit_background_update_controller_callbacks buc{};
   CHECK(modkit_register_background_update_controller_callbacks(&api, nullptr, &buc,
                                                                &user_data) == MODKIT_OK);
   expect(MODKIT_BACKGROUND_UPDATE_CONTROLLER_ID, MODKIT_BACKGROUND_UPDATE_CONTROLLER_MAJOR,
          MODKIT_BACKGROUND_UPDATE_CONTROLLER_MINOR, &buc);
   modkit_account_data_callbacks ad{};
   CHECK(modkit_register_account_data_callbacks(&api, nullptr, &ad, &user_data) == MODKIT_OK);
   expect(MODKIT_ACCOUNT_DATA_ID, MODKIT_ACCOUNT_DATA_MAJOR, MODKIT_ACCOUNT_DATA_MINOR, &ad);
   modkit_extra_unsigned_fields_callbacks euf{};
   CHECK(modkit_register_extra_unsigned_fields_callbacks(&api, nullptr, &euf, &user_data) ==
         MODKIT_OK);
   expect(MODKIT_EXTRA_UNSIGNED_FIELDS_ID, MODKIT_EXTRA_UNSIGNED_FIELDS_MAJOR,
          MODKIT_EXTRA_UNSIGNED_FIELDS_MINOR, &euf);
   modkit_media_repository_callbacks mr{};
   CHECK(modkit_register_media_repository_callbacks(&api, nullptr, &mr, &user_data) == MODKIT_OK);
   expect(MODKIT_MEDIA_REPOSITORY_ID, MODKIT_MEDIA_REPOSITORY_MAJOR,
          MODKIT_MEDIA_REPOSITORY_MINOR, &mr);
   modkit_ratelimit_callbacks rl{};
   CHECK(modkit_register_ratelimit_callbacks(&api, nullptr, &rl, &user_data) == MODKIT_OK);
   expect(MODKIT_RATELIMIT_ID, MODKIT_RATELIMIT_MAJOR, MODKIT_RATELIMIT_MINOR, &rl);
   modkit_federation_callbacks fed{};
   CHECK(modkit_register_federation_callbacks(&api, nullptr, &fed, &user_data) == MODKIT_OK);
   expect(MODKIT_FEDERATION_ID, MODKIT_FEDERATION_MAJOR, MODKIT_FEDERATION_MINOR, &fed);
}

TEST_CASE("federation delivery methods name their endpoint and only /send is acknowledged") {
   CHECK(std::string(modkit_federation_delivery_method_name(MODKIT_FEDERATION_DELIVERY_SEND)) ==
         "/send");
   CHECK(std::string(modkit_federation_delivery_method_name(
            MODKIT_FEDERATION_DELIVERY_GET_MISSING_EVENTS)) == "/get_missing_events");
   CHECK(std::string(modkit_federation_delivery_method_name(
            MODKIT_FEDERATION_DELIVERY_SEND_JOIN)) == "/send_join");
   // The enum is open-ended: a value from a newer host reads as "other".
   CHECK(std::string(modkit_federation_delivery_method_name(MODKIT_FEDERATION_DELIVERY_OTHER)) ==
         "other");
   CHECK(std::string(modkit_federation_delivery_method_name(42)) == "other");
   CHECK(modkit_federation_delivery_acknowledged(MODKIT_FEDERATION_DELIVERY_SEND));
   CHECK_FALSE(modkit_federation_delivery_acknowledged(MODKIT_FEDERATION_DELIVERY_BACKFILL));
   CHECK_FALSE(modkit_federation_delivery_acknowledged(42));
}
