// inspect_api_tests.cpp - the one manifest grammar and ABI rule (manifest.hpp) and the public
// inspection API over them (modkit/inspect.h): what the loader refuses at inspect, the API
// reports, with the same message.
#include "support.hpp"

#include "environment_checks.hpp"
#include "manifest.hpp"

#include <modkit/inspect.h>

#include <nlohmann/json.hpp>

#include <memory>

namespace {

using modkit::loader::AbiVersion;
using test::fixture;
using test::load_errors;

using Buffer = std::unique_ptr<modkit_buffer, void (*)(modkit_buffer *)>;
Buffer buffer() { return Buffer(modkit_loader_buffer_create(), modkit_loader_buffer_destroy); }

nlohmann::json parsed(const Buffer &b) {
   const modkit_str text = modkit_loader_buffer_data(b.get());
   return nlohmann::json::parse(std::string(text.data, text.size));
}

nlohmann::json inspect(const std::string &path, const modkit_inspect_options *options = nullptr) {
   Buffer out = buffer();
   REQUIRE(modkit_inspect_file(path.c_str(), options, out.get()) == MODKIT_OK);
   return parsed(out);
}

modkit_inspect_options with_categories(const std::vector<const char *> &ids) {
   modkit_inspect_options o{};
   o.struct_size = sizeof o;
   o.judge = MODKIT_INSPECT_CATEGORIES;
   o.categories = ids.data();
   o.category_count = ids.size();
   return o;
}

} // namespace

TEST_CASE("the manifest and the ABI version have one grammar") {
   std::vector<modkit::elf::Finding> findings;
   auto m = modkit::loader::parse_manifest(
      R"({"name":"x","version":"1.0.0","abi":"1.2","sdk":"c-1.0","compiler":"12","registers":"a, b,,c "})", findings);
   REQUIRE(m);
   CHECK(findings.empty());
   CHECK(m->name == "x");
   CHECK(m->abi_version->major == 1);
   CHECK(m->abi_version->minor == 2);
   CHECK(m->registers == std::vector<std::string>{"a", "b", "c"});

   m = modkit::loader::parse_manifest(R"({"name":"x","version":"1","abi":"one"})", findings);
   REQUIRE(m);
   CHECK_FALSE(m->abi_version);
   REQUIRE(findings.size() == 1);
   CHECK(findings[0].message() == "manifest abi: expected MAJOR.MINOR, e.g. \"1.0\", found \"one\"");

   for (const char *bad : {"[1,2]", "{\"name\":", R"({"name":"x","abi":"1.0"})"}) {
      findings.clear();
      INFO(bad);
      CHECK_FALSE(modkit::loader::parse_manifest(bad, findings));
      REQUIRE(findings.size() == 1);
      CHECK(findings[0].check == "manifest.invalid");
   }
   CHECK(findings[0].found == "an object without a non-empty \"name\", \"version\" or \"abi\" string");

   CHECK(modkit::loader::parse_abi_version("1.10")->minor == 10);
   for (const char *bad : {"1", "1.0.0", "1.x", "", ".1", "1.", "1.65536"}) CHECK_FALSE(modkit::loader::parse_abi_version(bad));

   CHECK(modkit::loader::abi_refusal(AbiVersion{1, 0}, AbiVersion{1, 0}).empty());
   CHECK(modkit::loader::abi_refusal(AbiVersion{1, 2}, AbiVersion{1, 4}).empty());
   CHECK(modkit::loader::abi_refusal(AbiVersion{1, 7}, AbiVersion{1, 5}) == "built for ABI 1.7, host provides 1.5");
   CHECK(modkit::loader::abi_refusal(AbiVersion{1, 0}, AbiVersion{2, 0}) ==
         "built for ABI 1.0, host provides 2.0 (the major versions must be equal)");
}

TEST_CASE("a declared category the host lacks is a finding naming it and what the host provides") {
   const auto none = modkit::loader::check_declared_categories({"a", "b"}, {"a", "b", "c"});
   CHECK(none.empty());
   const auto one = modkit::loader::check_declared_categories({"a", "x"}, {"a", "b"});
   REQUIRE(one.size() == 1);
   CHECK(one[0].check == "manifest.registers");
   CHECK(one[0].message() == "declared category: expected one the host provides (a, b), found x");
   const auto empty_host = modkit::loader::check_declared_categories({"x"}, {});
   REQUIRE(empty_host.size() == 1);
   CHECK(empty_host[0].message() == "declared category: expected none: the host provides no categories, found x");
}

TEST_CASE("library search paths must stay in the module's directory") {
   modkit::elf::Facts facts;
   const std::string dir = "/opt/modules";
   CHECK(modkit::loader::check_search_path(facts, dir).empty());
   facts.runpath = "$ORIGIN:$ORIGIN/lib:${ORIGIN}/deps/./x:/opt/modules/lib";
   CHECK(modkit::loader::check_search_path(facts, dir).empty());
   for (const char *outside : {"$ORIGIN/../lib", "/opt/lib", "$ORIGINAL", "/opt/modules-old", "lib"}) {
      facts.runpath = outside;
      const auto findings = modkit::loader::check_search_path(facts, dir);
      INFO(outside);
      REQUIRE(findings.size() == 1);
      CHECK(findings[0].check == "hygiene.runpath");
      CHECK(findings[0].found == outside);
   }
}

TEST_CASE("the loader and modkit_inspect_file give one verdict on a declared category the host lacks") {
   const std::string path = fixture("declares_missing_category");
   test::Host host;
   const auto errors = load_errors([&] { host.loader.load(R"({"modules": [{"module": ")" + path + R"("}]})"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].stage == "inspect");
   CHECK(errors[0].code == MODKIT_E_NOT_FOUND);

   // Not judged unless asked: the file alone declares what it likes.
   const nlohmann::json plain = inspect(path);
   CHECK(plain["findings"].empty());
   CHECK(plain["manifest"]["registers"] == nlohmann::json::array({"modkit.spam_checker", "modkit.nonexistent"}));

   const std::vector<const char *> ids = {"modkit.spam_checker", "modkit.test", "modkit.undeclared"};
   const modkit_inspect_options options = with_categories(ids);
   const nlohmann::json judged = inspect(path, &options);
   REQUIRE(judged["findings"].size() == 1);
   const auto &f = judged["findings"][0];
   CHECK(f["check"] == "manifest.registers");
   CHECK(f["found"] == "modkit.nonexistent");
   CHECK(f["loader_refuses"] == true);
   CHECK(f["message"] == errors[0].message);

   // A module whose declared categories the host all provides passes the same check.
   CHECK(inspect(fixture("probe_a"), &options)["findings"].empty());
}

TEST_CASE("modkit_inspect_file judges the ABI version by the loader's rule, against any host") {
   const nlohmann::json own = inspect(fixture("abi_minor_newer"));
   CHECK(own["abi"]["compatible"] == false);
   CHECK(own["abi"]["host"] == std::to_string(MODKIT_ABI_VERSION_MAJOR) + "." + std::to_string(MODKIT_ABI_VERSION_MINOR));
   CHECK(own["abi"]["reason"] == "built for ABI 1.7, host provides 1.1");
   modkit_inspect_options o{};
   o.struct_size = sizeof o;
   o.judge = MODKIT_INSPECT_ABI;
   o.abi = "1.7";
   const nlohmann::json newer = inspect(fixture("abi_minor_newer"), &o);
   CHECK(newer["abi"]["compatible"] == true);
   CHECK(newer["abi"]["reason"].is_null());
}

TEST_CASE("modkit_inspect_file reports unreadable files and refuses bad arguments") {
   const nlohmann::json missing = inspect("/no/such/module.so");
   CHECK(missing["error"]["kind"] == "io");
   CHECK(missing["elf"].is_null());

   Buffer out = buffer();
   CHECK(modkit_inspect_file(nullptr, nullptr, out.get()) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(modkit_inspect_file("/x", nullptr, nullptr) == MODKIT_E_INVALID_ARGUMENT);
   modkit_inspect_options o{};
   o.struct_size = 8;
   CHECK(modkit_inspect_file("/x", &o, out.get()) == MODKIT_E_INVALID_ARGUMENT);
   o.struct_size = sizeof o;
   o.judge = MODKIT_INSPECT_ABI;
   o.abi = "1.x";
   CHECK(modkit_inspect_file("/x", &o, out.get()) == MODKIT_E_INVALID_ARGUMENT);
   o.judge = MODKIT_INSPECT_CATEGORIES;
   o.category_count = 1; // but no array
   CHECK(modkit_inspect_file("/x", &o, out.get()) == MODKIT_E_INVALID_ARGUMENT);
   CHECK(modkit_loader_buffer_data(out.get()).size == 0); // left as it was
   CHECK(modkit_inspect_host(nullptr) == MODKIT_E_INVALID_ARGUMENT);
}

TEST_CASE("modkit_inspect_host describes this process") {
   Buffer out = buffer();
   REQUIRE(modkit_inspect_host(out.get()) == MODKIT_OK);
   const nlohmann::json host = parsed(out);
   CHECK(host["abi"]["major"] == MODKIT_ABI_VERSION_MAJOR);
   CHECK(host["abi"]["minor"] == MODKIT_ABI_VERSION_MINOR);
   CHECK(host["target"]["pointer_size"] == sizeof(void *));
   bool glibc = false;
   for (const auto &r : host["runtime"]) glibc = glibc || r["family"] == "GLIBC";
   CHECK(glibc);
   // Checked against itself, this test program needs no runtime newer than it runs on.
   modkit_inspect_runtime runtime[8];
   size_t count = 0;
   for (const auto &r : host["runtime"]) {
      REQUIRE(count < 8);
      runtime[count++] = {r["family"].get_ref<const std::string &>().c_str(), r["highest"].get_ref<const std::string &>().c_str()};
   }
   modkit_inspect_options o{};
   o.struct_size = sizeof o;
   o.judge = MODKIT_INSPECT_RUNTIME;
   o.runtime = runtime;
   o.runtime_count = count;
   const nlohmann::json self = inspect("/proc/self/exe", &o);
   CHECK(self["runtime"]["reasons"].empty());
   runtime[0].highest = "1.0";
   const nlohmann::json old = inspect("/proc/self/exe", &o);
   REQUIRE(old["runtime"]["reasons"].size() >= 1);
   CHECK(old["runtime"]["reasons"][0].get<std::string>().find(", host has 1.0") != std::string::npos);
}
