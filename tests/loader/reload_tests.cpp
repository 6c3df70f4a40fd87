// reload_tests.cpp - replacing or removing one module while the others stay.
#include "support.hpp"

#include "link.hpp"

#include <thread>

using test::contains;
using test::fixture;
using test::Host;
using test::load_errors;
using test::TempDir;

namespace {

std::vector<std::string> decide_order(Host &host) {
   auto slot = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
   std::vector<std::string> names;
   for (const auto &e : slot) names.emplace_back(host.loader.module(e.module_index).name);
   return names;
}

// Copies a fixture to path, replacing what is there with a new file (a new inode).
void install(const std::string &fixture_name, const std::filesystem::path &path) {
   const auto tmp = path.string() + ".new";
   std::filesystem::copy_file(fixture(fixture_name), tmp, std::filesystem::copy_options::overwrite_existing);
   std::filesystem::permissions(tmp, std::filesystem::perms(0755));
   std::filesystem::rename(tmp, path);
}

} // namespace

TEST_CASE("reload swaps a new instance in at the module's position") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a"}}, {"module": "probe_b", "config": {"tag": "b"}},
                 {"module": "probe_c", "config": {"tag": "c"}}])");
   CHECK(modkit_loader_reload_module(host.loader.get(), "probe_b") == MODKIT_OK);
   CHECK(decide_order(host) == std::vector<std::string>{"probe_a", "probe_b", "probe_c"});
   CHECK(host.log == std::vector<std::string>{"a:init", "b:init", "c:init", "b:init", "b:deinit"});
   CHECK(host.logged("reloaded module 'probe_b'"));
}

TEST_CASE("reload picks up a new build of the file at the same path") {
   TempDir dir;
   install("probe_b", dir.path / "probe_b.so");
   Host host;
   host.loader.load(R"({"module_path": [")" + dir.str() + R"("], "modules": [{"module": "probe_b", "config": {"tag": "b"}}]})");
   auto before = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID).begin()->fn;
   install("probe_b", dir.path / "probe_b.so"); // same bytes, new file
   REQUIRE(modkit_loader_reload_module(host.loader.get(), "probe_b") == MODKIT_OK);
   auto after = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID).begin()->fn;
   // A new object was mapped for the new file, so its functions live elsewhere.
   CHECK(reinterpret_cast<uintptr_t>(before) != reinterpret_cast<uintptr_t>(after));
   CHECK(decide_order(host) == std::vector<std::string>{"probe_b"});
}

TEST_CASE("a failed reload keeps the running instance") {
   TempDir dir;
   install("probe_b", dir.path / "probe_b.so");
   Host host;
   host.loader.load(R"({"module_path": [")" + dir.str() + R"("], "modules": [
                        {"module": ")" + fixture("probe_a") + R"(", "config": {"tag": "a"}},
                        {"module": "probe_b", "config": {"tag": "b"}}]})");
   auto before = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
   SUBCASE("the new file fails a check") {
      std::filesystem::permissions(dir.path / "probe_b.so", std::filesystem::perms(0777));
      CHECK(modkit_loader_reload_module(host.loader.get(), "probe_b") == MODKIT_E_DENIED);
      const modkit_loader_error *e = modkit_loader_error_at(host.loader.get(), 0);
      REQUIRE(e != nullptr);
      CHECK(std::string(e->stage) == "trust");
   }
   SUBCASE("the file now holds another module") {
      install("probe_c", dir.path / "probe_b.so");
      CHECK(modkit_loader_reload_module(host.loader.get(), "probe_b") == MODKIT_E_INVALID_ARGUMENT);
      CHECK(contains(modkit_loader_error_at(host.loader.get(), 0)->message,
                     "the file now holds module 'probe_c', not 'probe_b'"));
   }
   CHECK(host.logged("reload of module 'probe_b' failed; the running instance is kept"));
   CHECK(decide_order(host) == std::vector<std::string>{"probe_a", "probe_b"});
   // The old instance still answers.
   modkit_call call = modkit_call_make({"", 0});
   int32_t r = 0;
   const auto &e = *(before.begin() + 1);
   CHECK(before.fn(e)(e.user_data, &call, 9, &r) == MODKIT_OK);
   CHECK(host.calls().back() == "b:decide(9)");
}

TEST_CASE("unloading one module keeps the others in order") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/_modkit/a"]}},
                 {"module": "probe_b", "config": {"tag": "b", "web": ["/_modkit/b"]}},
                 {"module": "probe_c", "config": {"tag": "c", "web": ["/_modkit/c"]}}])");
   CHECK(modkit_loader_unload_module(host.loader.get(), "probe_b") == MODKIT_OK);
   CHECK(host.loader.module_count() == 2);
   CHECK(decide_order(host) == std::vector<std::string>{"probe_a", "probe_c"});
   REQUIRE(modkit_loader_web_resource_count(host.loader.get()) == 2);
   CHECK(modkit_loader_web_resource_at(host.loader.get(), 1)->module_index == 1);
   CHECK(host.log.back() == "b:deinit");
   CHECK(modkit_loader_unload_module(host.loader.get(), "probe_b") == MODKIT_E_NOT_FOUND);
   // A reload after the gap closed still finds the right module.
   CHECK(modkit_loader_reload_module(host.loader.get(), "probe_c") == MODKIT_OK);
   CHECK(decide_order(host) == std::vector<std::string>{"probe_a", "probe_c"});
}

TEST_CASE("a module that leaves a thread running after deinit stays mapped and is reported") {
   TempDir dir;
   install("probe_c", dir.path / "probe_c.so");
   Host host;
   host.loader.load(R"({"module_path": [")" + dir.str() + R"("], "modules": [
                        {"module": "probe_c", "config": {"tag": "c", "leak_thread": true}}]})");
   // Unmapping it now would crash this process as soon as its thread runs again.
   host.loader.unload_module("probe_c");
   std::this_thread::sleep_for(std::chrono::milliseconds(20));
   CHECK(host.logged("module 'probe_c' left 1 thread(s) running after deinit"));
   CHECK(host.logged("it stays mapped instead of being closed"));
}

TEST_CASE("a well-behaved module is unmapped on unload") {
   TempDir dir;
   install("probe_c", dir.path / "probe_c.so");
   const std::string path = (dir.path / "probe_c.so").string();
   Host host;
   host.loader.load(R"({"module_path": [")" + dir.str() + R"("], "modules": [{"module": "probe_c", "config": {"tag": "c"}}]})");
   CHECK(modkit::loader::still_mapped(path));
   host.loader.unload_module("probe_c");
   CHECK_FALSE(modkit::loader::still_mapped(path));
   CHECK_FALSE(host.logged("stays mapped"));
}
