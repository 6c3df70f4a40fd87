// layout_tests.cpp - pins the size and offset of every field of every published struct, so a
// change that would break modules built against ABI 1.0 fails the build. Pinned for LP64
// (x86-64, aarch64); these numbers may only ever grow at the end of a struct.
#include <modkit/all.h>
#include <modkit/loader.h>

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

#define PIN(type, field, off) static_assert(offsetof(type, field) == (off), #type "." #field " moved")
#define SIZE(type, size) static_assert(sizeof(type) == (size), #type " changed size")

static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "layout pins are for LP64 targets");

SIZE(modkit_str, 16);
PIN(modkit_str, data, 0);
PIN(modkit_str, size, 8);

SIZE(modkit_module, 64);
PIN(modkit_module, struct_size, 0);
PIN(modkit_module, abi_major, 4);
PIN(modkit_module, abi_minor, 6);
PIN(modkit_module, name, 8);
PIN(modkit_module, version, 16);
PIN(modkit_module, description, 24);
PIN(modkit_module, config_schema, 32);
PIN(modkit_module, parse_config, 40);
PIN(modkit_module, init, 48);
PIN(modkit_module, deinit, 56);

SIZE(modkit_host_api, 152); // 128 in ABI 1.0
PIN(modkit_host_api, struct_size, 0);
PIN(modkit_host_api, abi_major, 4);
PIN(modkit_host_api, abi_minor, 6);
PIN(modkit_host_api, report_error, 8);
PIN(modkit_host_api, buffer_append, 16);
PIN(modkit_host_api, log, 24);
PIN(modkit_host_api, call_request_id, 32);
PIN(modkit_host_api, call_deadline_ns, 40);
PIN(modkit_host_api, call_is_cancelled, 48);
PIN(modkit_host_api, register_callbacks, 56);
PIN(modkit_host_api, register_web_resource, 64);
PIN(modkit_host_api, register_cached_function, 72);
PIN(modkit_host_api, invalidate_cache, 80);
PIN(modkit_host_api, response_set_status, 88);
PIN(modkit_host_api, response_add_header, 96);
PIN(modkit_host_api, response_append, 104);
PIN(modkit_host_api, has_capability, 112);
PIN(modkit_host_api, get_extension, 120);

SIZE(modkit_http_request, 104);
PIN(modkit_http_request, method, 8);
PIN(modkit_http_request, path, 24);
PIN(modkit_http_request, query, 40);
PIN(modkit_http_request, headers_json, 56);
PIN(modkit_http_request, body, 72);
PIN(modkit_http_request, user_id, 88);

SIZE(modkit_slot_desc, 48);
PIN(modkit_slot_desc, name, 0);
PIN(modkit_slot_desc, offset, 8);
PIN(modkit_slot_desc, since_minor, 12);
PIN(modkit_slot_desc, signature, 16);
PIN(modkit_slot_desc, combine, 24);
PIN(modkit_slot_desc, on_error, 28);
PIN(modkit_slot_desc, chain_to, 32);
PIN(modkit_slot_desc, out_max, 40);

SIZE(modkit_field_desc, 24);
SIZE(modkit_type_desc, 24);
SIZE(modkit_category, 48);
PIN(modkit_category, major, 4);
PIN(modkit_category, minor, 6);
PIN(modkit_category, id, 8);
PIN(modkit_category, callbacks_size, 16);
PIN(modkit_category, slot_count, 20);
PIN(modkit_category, slots, 24);
PIN(modkit_category, type_count, 32);
PIN(modkit_category, types, 40);

SIZE(modkit_event, 128);
PIN(modkit_event, event_id, 8);
PIN(modkit_event, state_key, 72);
PIN(modkit_event, origin_server_ts, 120);
SIZE(modkit_user_profile, 56);
SIZE(modkit_media_file_info, 88);
PIN(modkit_media_file_info, media_length, 72);
PIN(modkit_media_file_info, is_thumbnail, 80);

SIZE(modkit_spam_checker_callbacks, 8 + 14 * 8);
PIN(modkit_spam_checker_callbacks, check_event_for_spam, 8);
PIN(modkit_spam_checker_callbacks, check_login_for_spam, 8 + 13 * 8);

// ABI 1.1 appended asynchronous completion.
PIN(modkit_host_api, call_can_suspend, 128);
PIN(modkit_host_api, call_complete, 136);
PIN(modkit_host_api, call_set_error, 144);

// ABI 1.1's standard services (modkit/services/*.h).
SIZE(modkit_timers_api, 32);
SIZE(modkit_tasks_api, 24);
SIZE(modkit_http_header, 32);
SIZE(modkit_http_client_request, 64);
PIN(modkit_http_client_request, body, 40);
PIN(modkit_http_client_request, max_response_bytes, 60);
SIZE(modkit_http_client_response, 40);
PIN(modkit_http_client_response, body, 24);
SIZE(modkit_http_api, 24);
SIZE(modkit_storage_api, 32);
SIZE(modkit_metric_desc, 56);
PIN(modkit_metric_desc, bucket_count, 48);
SIZE(modkit_metrics_api, 56);
static_assert(MODKIT_METRIC_COUNTER == 0 && MODKIT_METRIC_HISTOGRAM == 2 && MODKIT_HTTP_FOLLOW_REDIRECTS == 1);

// The host-side call handle is part of the loader's C API and pinned the same way (1.0: 40).
SIZE(modkit_call, 88);
PIN(modkit_call, request_id, 8);
PIN(modkit_call, deadline_ns, 24);
PIN(modkit_call, cancelled, 32);

// The constants are as much a part of the ABI as the layouts.
static_assert(MODKIT_OK == 0 && MODKIT_E_INVALID_ARGUMENT == 1 && MODKIT_E_DENIED == 12 && MODKIT_PENDING == 100);
static_assert(MODKIT_NOT_SPAM == 0 && MODKIT_SPAM_TOO_LARGE == 4);
static_assert(MODKIT_REGISTRATION_ALLOW == 0 && MODKIT_REGISTRATION_DENY == 2);
static_assert(MODKIT_COMBINE_FIRST_NON_ZERO == 0 && MODKIT_COMBINE_CHAINED == 6);
static_assert(MODKIT_ON_ERROR_FAIL_OPEN == 0 && MODKIT_ON_ERROR_PROPAGATE == 2);

TEST_CASE("the spam checker category's slot table matches its callbacks struct") {
   const modkit_category *c = modkit_spam_checker_category();
   CHECK(std::string(c->id) == "modkit.spam_checker");
   CHECK(c->callbacks_size == sizeof(modkit_spam_checker_callbacks));
   REQUIRE(c->slot_count == MODKIT_SPAM_CHECKER_SLOT_COUNT);
   CHECK(MODKIT_SPAM_CHECKER_SLOT_COUNT == 14);
   for (uint32_t i = 0; i < c->slot_count; ++i) {
      INFO("slot " << c->slots[i].name);
      // Slots are listed in struct order, one function pointer apart, after struct_size.
      CHECK(c->slots[i].offset == 8 + 8 * i);
      CHECK(c->slots[i].signature != nullptr);
   }
   CHECK(std::string(c->slots[MODKIT_SPAM_CHECKER_FEDERATED_USER_MAY_INVITE].chain_to) == "user_may_invite");
   CHECK(std::string(c->slots[MODKIT_SPAM_CHECKER_CHECK_LOGIN_FOR_SPAM].name) == "check_login_for_spam");
}

TEST_CASE("status names are stable") {
   CHECK(std::string(modkit_status_name(MODKIT_OK)) == "ok");
   CHECK(std::string(modkit_status_name(MODKIT_E_VERSION_MISMATCH)) == "version_mismatch");
   CHECK(std::string(modkit_status_name(MODKIT_PENDING)) == "pending");
   CHECK(std::string(modkit_status_name(12345)) == "unknown");
}

TEST_CASE("ABI compatibility: same major, module minor not newer than the host") {
   CHECK(modkit_abi_compatible(1, 0, 1, 0));
   CHECK(modkit_abi_compatible(1, 0, 1, 3));
   CHECK_FALSE(modkit_abi_compatible(1, 4, 1, 3));
   CHECK_FALSE(modkit_abi_compatible(2, 0, 1, 9));
}

TEST_CASE("MODKIT_HAS_FIELD reads the size a struct was built with") {
   modkit_host_api api{};
   api.struct_size = offsetof(modkit_host_api, invalidate_cache);
   CHECK(MODKIT_HAS_FIELD(&api, modkit_host_api, register_cached_function));
   CHECK_FALSE(MODKIT_HAS_FIELD(&api, modkit_host_api, invalidate_cache));
}
