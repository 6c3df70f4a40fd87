// Every exception type through every trampoline the SDK generates (parse_config, init, deinit)
// and through a callback thunk, driven with the fake host and the "thrower" test module.
#include "fake_host.hpp"
#include "module_library.hpp"

#include <modkit/categories/spam_checker.h>

#include <doctest/doctest.h>

#include <string>

namespace {

struct Expected {
   const char *kind;
   modkit_status code;
   const char *pointer;
   const char *message; // a fragment of the message
};

// What each KIND of the thrower module must become, given where it was thrown.
const Expected kinds[] = {
   {"config_error", MODKIT_E_CONFIG, "/limits/0", " refused"},
   {"error", MODKIT_E_DENIED, "", " denied"},
   {"error_ok", MODKIT_E_INTERNAL, "", " threw with MODKIT_OK"},
   {"bad_alloc", MODKIT_E_NO_MEMORY, "", "out of memory"},
   {"std", MODKIT_E_INTERNAL, "", " broke"},
   {"unknown", MODKIT_E_INTERNAL, "", "unknown exception"},
};

std::string config_with(const char *key, const char *kind) {
   return std::string("{\"") + key + "\": \"" + kind + "\"}";
}

modkit_event message_event() {
   modkit_event event{};
   event.struct_size = sizeof event;
   event.type = MODKIT_STR_LIT("m.room.message");
   event.content_json = MODKIT_STR_LIT("{\"body\": \"hi\"}");
   return event;
}

} // namespace

TEST_CASE("the descriptor describes the module") {
   ModuleLibrary library(MODKIT_TEST_THROWER);
   const modkit_module *module = library.descriptor();
   REQUIRE(module != nullptr);
   CHECK(module->struct_size == sizeof(modkit_module));
   CHECK(module->abi_major == MODKIT_ABI_VERSION_MAJOR);
   CHECK(module->abi_minor == MODKIT_ABI_VERSION_MINOR);
   CHECK(std::string(module->name) == "thrower");
   CHECK(std::string(module->version) == "0.1.0");
   CHECK(std::string(module->description) == "Throws where its config says");
   CHECK(module->config_schema == nullptr);
   CHECK(is_set(module->parse_config));
   CHECK(is_set(module->init));
   CHECK(is_set(module->deinit));

   SUBCASE("the same descriptor on every call") { CHECK(library.descriptor() == module); }
   SUBCASE("another ABI major is declined") {
      CHECK(library.descriptor(MODKIT_ABI_VERSION_MAJOR + 1, 0) == nullptr);
   }
}

TEST_CASE("parse_config turns every exception into a status and a structured error") {
   ModuleLibrary library(MODKIT_TEST_THROWER);
   const modkit_module *module = library.descriptor();
   FakeHost host;

   for (const Expected &e : kinds) {
      CAPTURE(e.kind);
      const ParseResult result = parse_config(module, host, config_with("parse", e.kind));
      CHECK(result.status == e.code);
      CHECK(result.output.empty());
      REQUIRE(result.errors.size() == 1);
      CHECK(result.errors[0].code == e.code);
      CHECK(result.errors[0].pointer == e.pointer);
      CHECK(result.errors[0].message.find(e.message) != std::string::npos);
   }

   SUBCASE("a JSON type error while reading the config is a config error") {
      const ParseResult result = parse_config(module, host, config_with("parse", "json"));
      CHECK(result.status == MODKIT_E_CONFIG);
      REQUIRE(result.errors.size() == 1);
      CHECK(result.errors[0].message.find("type_error") != std::string::npos);
   }
   SUBCASE("text that is not JSON is a config error") {
      const ParseResult result = parse_config(module, host, "{\"parse\": ");
      CHECK(result.status == MODKIT_E_CONFIG);
      REQUIRE(result.errors.size() == 1);
      CHECK(result.errors[0].message == "the config is not valid JSON");
   }
   SUBCASE("without a to_json for Config, the raw config is passed on") {
      const std::string raw = "{\"parse\": \"none\", \"extra\": [1, 2]}";
      const ParseResult result = parse_config(module, host, raw);
      CHECK(result.status == MODKIT_OK);
      CHECK(result.errors.empty());
      CHECK(result.output == raw);
   }
   SUBCASE("a host buffer that cannot grow fails the call") {
      modkit_buffer full;
      full.full = true;
      modkit_error_sink sink;
      const std::string raw = "{}";
      CHECK(module->parse_config(host.api(), {raw.data(), raw.size()}, &full, &sink) == MODKIT_E_NO_MEMORY);
      REQUIRE(sink.errors.size() == 1);
      CHECK(sink.errors[0].code == MODKIT_E_NO_MEMORY);
   }
   SUBCASE("a host table of another ABI major is refused before any module code runs") {
      modkit_host_api other = *host.api();
      other.abi_major = MODKIT_ABI_VERSION_MAJOR + 1;
      modkit_buffer out;
      modkit_error_sink sink;
      const std::string raw = "{\"parse\": \"std\"}";
      CHECK(module->parse_config(&other, {raw.data(), raw.size()}, &out, &sink) == MODKIT_E_VERSION_MISMATCH);
      CHECK(sink.errors.empty());
   }
}

TEST_CASE("init turns every exception into a status, and a failed init keeps nothing") {
   ModuleLibrary library(MODKIT_TEST_THROWER);
   const modkit_module *module = library.descriptor();

   for (const Expected &e : kinds) {
      CAPTURE(e.kind);
      FakeHost host;
      ModuleInstance instance(module, host, config_with("init", e.kind));
      CHECK(instance.status() == e.code);
      CHECK(instance.instance() == nullptr);
      REQUIRE(instance.errors().size() == 1);
      CHECK(instance.errors()[0].code == e.code);
      CHECK(instance.errors()[0].pointer == e.pointer);
      CHECK(instance.errors()[0].message.find(e.message) != std::string::npos);
      CHECK(host.registrations.empty()); // the module had registered before throwing
   }

   SUBCASE("a JSON exception in the constructor is an internal error, not a config error") {
      FakeHost host;
      ModuleInstance instance(module, host, config_with("init", "json"));
      CHECK(instance.status() == MODKIT_E_INTERNAL);
      REQUIRE(instance.errors().size() == 1);
      CHECK(instance.errors()[0].message.find("type_error") != std::string::npos);
   }
   SUBCASE("init runs parse_config again on a raw config, so its config errors surface there") {
      FakeHost host;
      ModuleInstance instance(module, host, config_with("parse", "config_error"));
      CHECK(instance.status() == MODKIT_E_CONFIG);
      REQUIRE(instance.errors().size() == 1);
      CHECK(instance.errors()[0].pointer == "/limits/0");
   }
   SUBCASE("a null instance pointer is refused") {
      FakeHost host;
      modkit_error_sink sink;
      const std::string raw = "{}";
      CHECK(module->init(host.api(), host.host(), {raw.data(), raw.size()}, nullptr, &sink) ==
            MODKIT_E_INVALID_ARGUMENT);
   }
   SUBCASE("a successful init registers and returns an instance") {
      FakeHost host;
      ModuleInstance instance(module, host, "{}");
      CHECK(instance.status() == MODKIT_OK);
      CHECK(instance.instance() != nullptr);
      CHECK(instance.errors().empty());
      REQUIRE(host.registrations.size() == 1);
      CHECK(host.registrations[0].category == "modkit.spam_checker");
      CHECK(host.registrations[0].major == MODKIT_SPAM_CHECKER_MAJOR);
      CHECK(host.registrations[0].minor == MODKIT_SPAM_CHECKER_MINOR);
   }
}

TEST_CASE("deinit logs what a throwing destructor threw") {
   ModuleLibrary library(MODKIT_TEST_THROWER);
   const modkit_module *module = library.descriptor();

   for (const Expected &e : kinds) {
      CAPTURE(e.kind);
      FakeHost host;
      ModuleInstance instance(module, host, config_with("deinit", e.kind));
      REQUIRE(instance.status() == MODKIT_OK);
      instance.deinit();
      CHECK(host.logged(MODKIT_LOG_ERROR, std::string("deinit failed (") + modkit_status_name(e.code) + ")"));
      CHECK(host.logged(MODKIT_LOG_ERROR, e.message));
   }
   SUBCASE("a destructor that does not throw logs nothing") {
      FakeHost host;
      ModuleInstance instance(module, host, "{}");
      instance.deinit();
      CHECK(host.log_lines().empty());
   }
}

TEST_CASE("a callback thunk returns a status for every exception and never lets one escape") {
   ModuleLibrary library(MODKIT_TEST_THROWER);
   const modkit_module *module = library.descriptor();
   const modkit_event event = message_event();

   for (const Expected &e : kinds) {
      CAPTURE(e.kind);
      FakeHost host;
      ModuleInstance instance(module, host, config_with("callback", e.kind));
      REQUIRE(instance.status() == MODKIT_OK);
      const Registration *r = host.find_registration(MODKIT_SPAM_CHECKER_ID);
      REQUIRE(r != nullptr);
      const auto callbacks = r->as<modkit_spam_checker_callbacks>();
      REQUIRE(is_set(callbacks.check_event_for_spam));
      modkit_call call;
      modkit_spam_result result = MODKIT_NOT_SPAM;
      CHECK(callbacks.check_event_for_spam(r->user_data, &call, &event, &result) == e.code);
      CHECK(result == MODKIT_NOT_SPAM); // the output is untouched when the callback failed
      const std::string prefix = std::string("check_event_for_spam failed (") + modkit_status_name(e.code) + ")";
      CHECK(host.logged(MODKIT_LOG_ERROR, prefix));
      CHECK(host.logged(MODKIT_LOG_ERROR, e.message));
      if (*e.pointer) CHECK(host.logged(MODKIT_LOG_ERROR, prefix + " at /limits/0:"));
   }

   SUBCASE("a callback that returns writes its answer") {
      FakeHost host;
      ModuleInstance instance(module, host, "{}");
      const auto callbacks = host.find_registration(MODKIT_SPAM_CHECKER_ID)->as<modkit_spam_checker_callbacks>();
      modkit_call call;
      modkit_spam_result result = MODKIT_NOT_SPAM;
      CHECK(callbacks.check_event_for_spam(host.registrations[0].user_data, &call, &event, &result) == MODKIT_OK);
      CHECK(result == MODKIT_SPAM_LIMIT_EXCEEDED);
   }
   SUBCASE("a null object or output pointer from the host is refused without calling the module") {
      FakeHost host;
      ModuleInstance instance(module, host, config_with("callback", "std"));
      const auto callbacks = host.find_registration(MODKIT_SPAM_CHECKER_ID)->as<modkit_spam_checker_callbacks>();
      modkit_call call;
      modkit_spam_result result = MODKIT_NOT_SPAM;
      void *user_data = host.registrations[0].user_data;
      CHECK(callbacks.check_event_for_spam(user_data, &call, &event, nullptr) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(callbacks.check_event_for_spam(user_data, &call, nullptr, &result) == MODKIT_E_INVALID_ARGUMENT);
      CHECK_FALSE(host.logged(MODKIT_LOG_ERROR, "broke"));
   }
}
