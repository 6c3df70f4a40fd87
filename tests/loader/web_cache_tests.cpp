// web_cache_tests.cpp - web resources and cached functions modules register.
#include "support.hpp"

#include "registry.hpp"

using test::contains;
using test::Host;
using test::load_errors;

namespace {

std::string serve(Host &host, size_t index, const char *path) {
   const modkit_loader_web_resource *w = modkit_loader_web_resource_at(host.loader.get(), index);
   REQUIRE(w != nullptr);
   modkit_http_request request{};
   request.struct_size = sizeof request;
   request.method = modkit_str_from_cstr("GET");
   request.path = modkit_str_from_cstr(path);
   modkit_call call = modkit_call_make({"", 0});
   modkit_http_response *response = modkit_loader_response_create();
   REQUIRE(w->handler(w->user_data, &call, &request, response) == MODKIT_OK);
   const modkit_str body = modkit_loader_response_body(response);
   std::string out(body.data, body.size);
   modkit_str name, value;
   REQUIRE(modkit_loader_response_header_at(response, 0, &name, &value));
   CHECK(std::string(value.data, value.size) == "text/plain");
   CHECK(modkit_loader_response_status(response) == 200);
   modkit_loader_response_destroy(response);
   return out;
}

} // namespace

TEST_CASE("web resources: served by the module that registered them") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/_modkit/a/hello"]}}])");
   REQUIRE(modkit_loader_web_resource_count(host.loader.get()) == 1);
   const modkit_loader_web_resource *w = modkit_loader_web_resource_at(host.loader.get(), 0);
   CHECK(std::string(w->path) == "/_modkit/a/hello");
   CHECK(w->module_index == 0);
   CHECK(serve(host, 0, "/_modkit/a/hello") == "hello from a at /_modkit/a/hello");
}

TEST_CASE("web resources: the same path from two modules goes to the first, with a warning naming both") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/_modkit/shared"]}},
                 {"module": "probe_b", "config": {"tag": "b", "web": ["/_modkit/shared", "/_modkit/b"]}}])");
   REQUIRE(modkit_loader_web_resource_count(host.loader.get()) == 2);
   CHECK(serve(host, 0, "/_modkit/shared") == "hello from a at /_modkit/shared");
   CHECK(host.logged("web path \"/_modkit/shared\" is already served by module 'probe_a', which comes first"));
   CHECK(std::string(modkit_loader_web_resource_at(host.loader.get(), 1)->path) == "/_modkit/b");
}

TEST_CASE("web resources: reserved prefixes and unnormalised paths are refused at init") {
   Host host;
   SUBCASE("reserved") {
      auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/_matrix/client/x"]}}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "inside the host's reserved prefix \"/_matrix/\""));
   }
   SUBCASE("not normalised") {
      auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/a/../b"]}}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "is not a normalised absolute path"));
   }
   CHECK(modkit_loader_web_resource_count(host.loader.get()) == 0);
}

TEST_CASE("normalised web paths") {
   using modkit::loader::is_normalised_web_path;
   CHECK(is_normalised_web_path("/_modkit/x"));
   CHECK_FALSE(is_normalised_web_path("/"));
   CHECK_FALSE(is_normalised_web_path("relative"));
   CHECK_FALSE(is_normalised_web_path("/a//b"));
   CHECK_FALSE(is_normalised_web_path("/a/./b"));
   CHECK_FALSE(is_normalised_web_path("/a/"));
   CHECK_FALSE(is_normalised_web_path("/a b"));
   CHECK_FALSE(is_normalised_web_path("/a?b"));
}

TEST_CASE("cached functions: the host invalidates one key or all of them, by module and name") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "cache": "words"}}])");
   REQUIRE(modkit_loader_cache_count(host.loader.get()) == 1);
   CHECK(std::string(modkit_loader_cache_at(host.loader.get(), 0)->name) == "words");
   const modkit_str key = modkit_str_from_cstr(R"(["@alice:example.org"])");
   CHECK(modkit_loader_invalidate_cache(host.loader.get(), "probe_a", "words", &key) == MODKIT_OK);
   CHECK(modkit_loader_invalidate_cache(host.loader.get(), "probe_a", "words", nullptr) == MODKIT_OK);
   CHECK(host.calls() == std::vector<std::string>{R"(a:invalidate:["@alice:example.org"])", "a:invalidate:*"});

   SUBCASE("unknown caches and malformed keys are refused") {
      CHECK(modkit_loader_invalidate_cache(host.loader.get(), "probe_a", "nope", nullptr) == MODKIT_E_NOT_FOUND);
      CHECK(modkit_loader_invalidate_cache(host.loader.get(), "nobody", "words", nullptr) == MODKIT_E_NOT_FOUND);
      const modkit_str bad = modkit_str_from_cstr("[unterminated");
      CHECK(modkit_loader_invalidate_cache(host.loader.get(), "probe_a", "words", &bad) == MODKIT_E_INVALID_ARGUMENT);
   }
}
