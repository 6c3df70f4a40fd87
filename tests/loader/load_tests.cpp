// load_tests.cpp - the pipeline end to end: what loads, and how each refusal is reported.
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

using test::contains;
using test::fixture;
using test::Host;
using test::load_errors;

TEST_CASE("a good module loads, gets its normalised config and is unloaded with deinit") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a", "ttl": "5s", "max_size": 3}}])");
   REQUIRE(host.loader.module_count() == 1);
   const modkit_loader_module &m = host.loader.module(0);
   CHECK(std::string(m.name) == "probe_a");
   CHECK(std::string(m.version) == "1.0.0");
   CHECK(std::string(m.path) == fixture("probe_a"));
   CHECK(m.position == 0);
   // parse_config normalised "5s" into milliseconds.
   const auto config = nlohmann::json::parse(m.config_json);
   CHECK(config["ttl_ms"] == 5000);
   CHECK_FALSE(config.contains("ttl"));
   CHECK(host.log == std::vector<std::string>{"a:init"});
}

TEST_CASE("modules can be named by absolute path, without module_path") {
   Host host;
   host.loader.load(R"({"modules": [{"module": ")" + fixture("probe_b") + R"(", "config": {"tag": "b"}}]})");
   CHECK(host.loader.module_count() == 1);
}

TEST_CASE("the host config's own shape is checked, with a pointer to every problem") {
   Host host;
   auto errors = load_errors([&] {
      host.loader.load(R"({"module_path": "not-a-list", "modules": [{"config": {}}, 7, {"module": "x", "extra": 1}], "other": 1})");
   });
   std::vector<std::string> pointers;
   for (const auto &e : errors) pointers.push_back(e.pointer);
   CHECK(pointers == std::vector<std::string>{"/other", "/module_path", "/modules/0/module", "/modules/1",
                                              "/modules/2/extra"});
   CHECK(contains(errors[1].message, "expected an array of directories, got string"));
   CHECK(errors[0].stage == "config");
}

TEST_CASE("invalid JSON in the host config is reported with its position") {
   Host host;
   auto errors = load_errors([&] { host.loader.load(R"({"modules": [)"); });
   REQUIRE(errors.size() == 1);
   CHECK(contains(errors[0].message, "host config is not valid JSON"));
}

TEST_CASE("a number too large for a double in the host config is an error, not an exception") {
   // Found by fuzz_host_config: nlohmann reports it as out_of_range, not as a parse error.
   Host host;
   auto errors = load_errors([&] { host.loader.load(R"({"modules": [], "module_path": 8E888})"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].stage == "config");
   CHECK(contains(errors[0].message, "host config is not valid JSON: number overflow parsing '8E888'"));
}

TEST_CASE("a config the module's schema rejects names the field, what was expected and what was found") {
   Host host;
   auto errors = load_errors([&] {
      host.load(R"([{"module": "probe_a", "config": {"tag": "a"}},
                    {"module": "probe_b", "config": {"tag": "b", "max_size": "big"}}])");
   });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].pointer == "/modules/1/config/max_size");
   CHECK(errors[0].message == "expected integer >= 1, got string \"big\"");
   CHECK(errors[0].stage == "configure");
   CHECK(errors[0].module == "probe_b");
   CHECK(errors[0].file == fixture("probe_b"));
   CHECK(errors[0].code == MODKIT_E_CONFIG);
   CHECK(errors[0].text ==
         "/modules/1/config/max_size: module 'probe_b' (" + fixture("probe_b") +
            "): configure: expected integer >= 1, got string \"big\"");
   // Nothing stays loaded: the module that was fine is unloaded again, without init.
   CHECK(host.loader.module_count() == 0);
   CHECK(host.log.empty());
}

TEST_CASE("a missing required property points at the property") {
   Host host;
   auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {}}])"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].pointer == "/modules/0/config/tag");
   CHECK(errors[0].message == "missing; expected string of at least 1 characters");
}

TEST_CASE("parse_config's own error path is prefixed with the module's position") {
   Host host;
   auto errors = load_errors([&] {
      host.load(R"([{"module": "probe_a", "config": {"tag": "a", "threshold": 9, "limit": 5}}])");
   });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].pointer == "/modules/0/config/threshold");
   CHECK(errors[0].message == "expected at most limit (5), got 9");
   CHECK(errors[0].code == MODKIT_E_CONFIG);
}

TEST_CASE("every module's static and config errors are reported together") {
   Host host;
   auto errors = load_errors([&] {
      host.load(R"([{"module": "probe_a", "config": {"tag": ""}},
                    {"module": "missing_module"},
                    {"module": "abi_major2"},
                    {"module": "probe_c", "config": {"tag": "c", "threshold": 2, "limit": 1}}])");
   });
   REQUIRE(errors.size() == 4);
   CHECK(errors[0].pointer == "/modules/0/config/tag");
   CHECK(errors[1].stage == "resolve");
   CHECK(errors[1].pointer == "/modules/1/module");
   CHECK(contains(errors[1].message, "no file \"missing_module.so\" in module_path"));
   CHECK(errors[2].stage == "inspect");
   CHECK(errors[3].pointer == "/modules/3/config/threshold");
}

TEST_CASE("init failing leaves nothing registered and unloads the modules before it") {
   Host host;
   auto errors = load_errors([&] {
      host.load(R"([{"module": "probe_a", "config": {"tag": "a", "web": ["/_modkit/a"], "cache": "words"}},
                    {"module": "probe_b", "config": {"tag": "b", "fail_init": true, "web": ["/_modkit/b"]}}])");
   });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].stage == "init");
   CHECK(errors[0].module == "probe_b");
   CHECK(errors[0].message == "init failed with status internal: the probe was told to fail");
   // The pointer the module reported is relative to its config, as for configure errors.
   CHECK(errors[0].pointer == "/modules/1/config/fail_init");
   CHECK(host.loader.module_count() == 0);
   CHECK(modkit_loader_web_resource_count(host.loader.get()) == 0);
   CHECK(modkit_loader_cache_count(host.loader.get()) == 0);
   auto slot = host.loader.slot<&test_callbacks::decide>(TEST_CATEGORY_ID);
   CHECK(slot.empty());
   // probe_a was initialised and is deinitialised again; probe_b never got an instance.
   CHECK(host.log == std::vector<std::string>{"a:init", "a:deinit"});
}

TEST_CASE("a file without the entry symbol is refused before any of its code runs") {
   Host host;
   auto errors = load_errors([&] { host.load(R"([{"module": "no_entry"}])"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].stage == "inspect");
   CHECK(contains(errors[0].message, "modkit_module_entry"));
}

TEST_CASE("ABI versions: another major, or a newer minor, are refused with both versions named") {
   Host host;
   SUBCASE("major") {
      auto errors = load_errors([&] { host.load(R"([{"module": "abi_major2"}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].code == MODKIT_E_VERSION_MISMATCH);
      CHECK(errors[0].message == "built for ABI 2.0, host provides 1.1 (the major versions must be equal)");
   }
   SUBCASE("minor newer than the host") {
      auto errors = load_errors([&] { host.load(R"([{"module": "abi_minor_newer"}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].code == MODKIT_E_VERSION_MISMATCH);
      CHECK(errors[0].message == "built for ABI 1.7, host provides 1.1");
   }
}

TEST_CASE("a module whose entry point declines is refused at link") {
   Host host;
   auto errors = load_errors([&] { host.load(R"([{"module": "declines"}])"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].stage == "link");
   CHECK(contains(errors[0].message, "declined ABI 1.1"));
}

TEST_CASE("files that are not modules are refused with what they are, not a raw dlerror") {
   test::TempDir dir;
   Host host;
   auto write = [&](const std::string &name, const std::string &bytes) {
      std::ofstream(dir.path / name, std::ios::binary) << bytes;
      return (dir.path / name).string();
   };
   SUBCASE("a text file named .so") {
      const std::string path = write("notes.so", "these are notes, not a module\n");
      auto errors = load_errors([&] { host.loader.load(R"({"modules": [{"module": ")" + path + R"("}]})"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "inspect");
      CHECK(contains(errors[0].message, "not an ELF file"));
   }
   SUBCASE("an empty file") {
      const std::string path = write("empty.so", "");
      auto errors = load_errors([&] { host.loader.load(R"({"modules": [{"module": ")" + path + R"("}]})"); });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "too short"));
   }
   SUBCASE("random bytes") {
      std::string bytes(4096, '\0');
      for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
      const std::string path = write("random.so", bytes);
      auto errors = load_errors([&] { host.loader.load(R"({"modules": [{"module": ")" + path + R"("}]})"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "inspect");
   }
}

TEST_CASE("an executable stack is refused by the hygiene checks") {
   Host host;
   auto errors = load_errors([&] { host.load(R"([{"module": "probe_execstack", "config": {"tag": "x"}}])"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].stage == "inspect");
   CHECK(errors[0].code == MODKIT_E_DENIED);
   CHECK(contains(errors[0].message, "stack"));
}

TEST_CASE("registrations the host cannot honour fail init with a clear reason, leaving nothing") {
   Host host;
   SUBCASE("unknown category") {
      auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {"tag": "a", "register_unknown": true}}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "init");
      CHECK(contains(errors[0].message, "the host does not provide category modkit.unknown_category"));
   }
   SUBCASE("category missing from the manifest") {
      auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {"tag": "a", "register_undeclared": true}}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "category modkit.undeclared is not declared in the module's manifest"));
   }
   SUBCASE("wrong category major") {
      auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {"tag": "a", "register_major": 2}}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].code == MODKIT_E_VERSION_MISMATCH);
      CHECK(contains(errors[0].message, "module registers version 2.0, host provides 1.0"));
   }
   SUBCASE("the same category twice") {
      auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {"tag": "a", "register_twice": true}}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].code == MODKIT_E_CONFLICT);
   }
   CHECK(host.loader.module_count() == 0);
}

TEST_CASE("a failed load leaves the loader empty and ready to try again") {
   Host host;
   auto errors = load_errors([&] { host.load(R"([{"module": "probe_a", "config": {}}])"); });
   CHECK(errors.size() == 1);
   host.load(R"([{"module": "probe_a", "config": {"tag": "a"}}])");
   CHECK(host.loader.module_count() == 1);
}

TEST_CASE("a loader loads one host config only") {
   Host host;
   host.load(R"([{"module": "probe_a", "config": {"tag": "a"}}])");
   auto errors = load_errors([&] { host.load(R"([])"); });
   REQUIRE(errors.size() == 1);
   CHECK(errors[0].code == MODKIT_E_STATE);
   CHECK(host.loader.module_count() == 1);
}

TEST_CASE("modules are initialised in config order and unloaded in reverse") {
   std::vector<std::string> lines;
   {
      modkit::Loader::Options options;
      // Every category the probes declare, or inspect refuses them.
      options.categories = {test_category(), modkit_spam_checker_category()};
      options.log = [&](modkit_log_level, const char *module, std::string_view l) {
         if (module) lines.emplace_back(l);
      };
      modkit::Loader loader(options);
      loader.load(R"({"module_path": [")" + test::fixture_dir() + R"("], "modules": [
         {"module": "probe_c", "config": {"tag": "c"}},
         {"module": "probe_a", "config": {"tag": "a"}},
         {"module": "probe_b", "config": {"tag": "b"}}]})");
      CHECK(std::string(loader.module(0).name) == "probe_c");
      CHECK(loader.module(2).position == 2);
   }
   CHECK(lines == std::vector<std::string>{"c:init", "a:init", "b:init", "b:deinit", "a:deinit", "c:deinit"});
}

TEST_CASE("environment checks: library search paths and needed libraries, before dlopen") {
   Host host;
   SUBCASE("a needed library found through $ORIGIN is fine") {
      host.load(R"([{"module": "uses_dep_origin"}])");
      CHECK(host.loader.module_count() == 1);
   }
   SUBCASE("a needed library the dynamic linker would not find is named") {
      auto errors = load_errors([&] { host.load(R"([{"module": "uses_dep_missing"}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].stage == "inspect");
      CHECK(errors[0].message == "needed libraries: expected libraries the dynamic linker can find, found "
                                 "libmodkit_fixture_dep.so (not loaded and not found in its search path)");
   }
   SUBCASE("a search path outside the module's directory is refused, and can be allowed with a reason") {
      auto errors = load_errors([&] { host.load(R"([{"module": "runpath_outside"}])"); });
      REQUIRE(errors.size() == 1);
      CHECK(contains(errors[0].message, "library search path (RPATH/RUNPATH): expected entries inside the module's "
                                        "directory ($ORIGIN), found /opt/modkit-elsewhere/lib"));
      Host relaxed;
      relaxed.load(R"([{"module": "runpath_outside", "hygiene_exceptions": {"runpath": "vendor layout"}}])");
      CHECK(relaxed.loader.module_count() == 1);
   }
}
