// Web resources, host services and registration rules, through the "webby" test module (no
// parse_config, no categories) and the fake host.
#include "fake_host.hpp"
#include "module_library.hpp"
#include "test_extension.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using nlohmann::json;

namespace {
const std::string no_headers = "{}";
}

TEST_CASE("a module without parse_config receives its raw config") {
   ModuleLibrary library(MODKIT_TEST_WEBBY);
   const modkit_module *module = library.descriptor();
   REQUIRE(module != nullptr);
   CHECK_FALSE(is_set(module->parse_config));
   CHECK(module->config_schema == nullptr);

   FakeHost host;
   ModuleInstance instance(module, host, R"({"a": 1, "b": 2, "c": 3})");
   REQUIRE(instance.status() == MODKIT_OK);
   CHECK(host.logged(MODKIT_LOG_INFO, "webby starts with 3 config keys"));

   SUBCASE("config text that is not JSON is a config error") {
      FakeHost other;
      ModuleInstance broken(module, other, "not json");
      CHECK(broken.status() == MODKIT_E_CONFIG);
      REQUIRE(broken.errors().size() == 1);
      CHECK(broken.errors()[0].message == "the config is not valid JSON");
   }
}

TEST_CASE("web resources see the request and write the response through the host") {
   ModuleLibrary library(MODKIT_TEST_WEBBY);
   FakeHost host;
   ModuleInstance instance(library.descriptor(), host, "{}");
   REQUIRE(instance.status() == MODKIT_OK);
   CHECK(host.web_resources.size() == 5);

   SUBCASE("request fields, query parameters and headers") {
      modkit_http_response response;
      REQUIRE(host.serve("/_test/echo", "POST", "x=1&name=Ada+L%C3%B6vel%ZZ&name=second",
                         R"({"user-agent": "probe/1"})", "payload", response) == MODKIT_OK);
      CHECK(response.status == 201);
      REQUIRE(response.headers.size() == 1);
      CHECK(response.headers[0] == std::make_pair(std::string("content-type"), std::string("application/json")));
      const json body = json::parse(response.body);
      CHECK(body["method"] == "POST");
      CHECK(body["path"] == "/_test/echo");
      CHECK(body["name"] == "Ada L\xc3\xb6vel%ZZ"); // a malformed escape is kept as it is
      CHECK(body["agent"] == "probe/1");
      CHECK(body["user"] == "@ada:example.org");
      CHECK(body["body"] == "payload");
   }
   SUBCASE("an answer holding invalid UTF-8 is sent with the bad bytes replaced, not thrown") {
      modkit_http_response response;
      REQUIRE(host.serve("/_test/echo", "POST", "", no_headers, "bad \xff byte", response) == MODKIT_OK);
      CHECK(response.status == 201);
      CHECK(json::parse(response.body)["body"] == "bad \xef\xbf\xbd byte");
   }
   SUBCASE("absent query parameters and headers") {
      modkit_http_response response;
      REQUIRE(host.serve("/_test/echo", "GET", "", "not json", "", response) == MODKIT_OK);
      const json body = json::parse(response.body);
      CHECK(body["name"] == "(none)");
      CHECK(body["agent"] == "(none)");
   }
   SUBCASE("a handler may take the call handle") {
      modkit_call call;
      call.request_id = "req-7";
      call.deadline_ns = 123456789;
      modkit_http_response response;
      REQUIRE(host.serve("/_test/call", "GET", "", no_headers, "", response, &call) == MODKIT_OK);
      const json body = json::parse(response.body);
      CHECK(body["request_id"] == "req-7");
      CHECK(body["deadline_ns"] == 123456789);
      CHECK(body["cancelled"] == false);
   }
   SUBCASE("a cancelled call ends with MODKIT_E_CANCELLED") {
      modkit_call call;
      call.cancelled = true;
      modkit_http_response response;
      CHECK(host.serve("/_test/call", "GET", "", no_headers, "", response, &call) == MODKIT_E_CANCELLED);
      CHECK(host.logged(MODKIT_LOG_ERROR, "web resource /_test/call failed (cancelled)"));
   }
   SUBCASE("a call without a deadline") {
      modkit_call call;
      modkit_http_response response;
      REQUIRE(host.serve("/_test/call", "GET", "", no_headers, "", response, &call) == MODKIT_OK);
      CHECK(json::parse(response.body)["deadline_ns"] == 0);
   }
   SUBCASE("a header the host refuses becomes an error status") {
      modkit_http_response response;
      CHECK(host.serve("/_test/bad_header", "GET", "", no_headers, "", response) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(host.logged(MODKIT_LOG_ERROR, "could not add a response header"));
   }
   SUBCASE("a null request is refused") {
      const WebRegistration *web = host.find_web("/_test/echo");
      REQUIRE(web != nullptr);
      modkit_call call;
      modkit_http_response response;
      CHECK(web->handler(web->user_data, &call, nullptr, &response) == MODKIT_E_INVALID_ARGUMENT);
   }
}

TEST_CASE("capabilities and extensions come from the host") {
   ModuleLibrary library(MODKIT_TEST_WEBBY);
   FakeHost host;
   const test_extension extension{42};
   modkit_http_response response;

   SUBCASE("with the extension") {
      host.extensions[TEST_EXTENSION_ID] = &extension;
      ModuleInstance instance(library.descriptor(), host, "{}");
      REQUIRE(host.serve("/_test/services", "GET", "", no_headers, "", response) == MODKIT_OK);
      const json body = json::parse(response.body);
      CHECK(body["web"] == true);
      CHECK(body["missing"] == false);
      CHECK(body["answer"] == 42);
      CHECK(body["module"] == "webby");
   }
   SUBCASE("without it") {
      ModuleInstance instance(library.descriptor(), host, "{}");
      REQUIRE(host.serve("/_test/services", "GET", "", no_headers, "", response) == MODKIT_OK);
      CHECK(json::parse(response.body)["answer"].is_null());
   }
}

TEST_CASE("registration is refused outside init and outside the manifest") {
   ModuleLibrary library(MODKIT_TEST_WEBBY);

   SUBCASE("registering after init fails with MODKIT_E_STATE") {
      FakeHost host;
      ModuleInstance instance(library.descriptor(), host, "{}");
      modkit_http_response response;
      CHECK(host.serve("/_test/late", "GET", "", no_headers, "", response) == MODKIT_E_STATE);
      CHECK(host.find_web("/_test/later") == nullptr);
      CHECK(host.logged(MODKIT_LOG_ERROR, "webby: could not register web resource /_test/later: state; "
                                          "register only from the module's constructor"));
   }
   SUBCASE("a category the manifest does not list fails init with a hint") {
      FakeHost host;
      host.categories.clear(); // as the loader does for a module whose manifest lists none
      ModuleInstance instance(library.descriptor(), host, R"({"try_spam_checker": true})");
      CHECK(instance.status() == MODKIT_E_NOT_FOUND);
      REQUIRE(instance.errors().size() == 1);
      const std::string &message = instance.errors()[0].message;
      CHECK(message.find("could not register callbacks of category modkit.spam_checker: not_found") !=
            std::string::npos);
      CHECK(message.find("(registers: \"\"; name it in MODKIT_MODULE's last argument)") != std::string::npos);
      CHECK(host.web_resources.empty());
   }
   SUBCASE("a path another module serves is left to it, and init goes on") {
      FakeHost host;
      host.begin_init();
      host.web_resources.push_back({"/_test/echo", nullptr, nullptr});
      host.end_init(true);
      ModuleInstance instance(library.descriptor(), host, "{}");
      CHECK(instance.status() == MODKIT_OK);
      CHECK(host.logged(MODKIT_LOG_WARNING, "another module serves /_test/echo"));
      CHECK_FALSE(is_set(host.find_web("/_test/echo")->handler)); // still the first module's
      CHECK(host.find_web("/_test/call") != nullptr);
   }
   SUBCASE("a path the host refuses fails init") {
      FakeHost host;
      host.refused_web_prefix = "/_test/";
      ModuleInstance instance(library.descriptor(), host, "{}");
      CHECK(instance.status() == MODKIT_E_DENIED);
      REQUIRE(instance.errors().size() == 1);
      CHECK(instance.errors()[0].message == "webby: could not register web resource /_test/echo: denied");
      CHECK(host.web_resources.empty());
   }
}
