// support.hpp - a test host: a loader with the spam checker and test categories whose log
// lines are captured, so tests can assert what modules were called and in which order.
#pragma once

#include "test_category.h"

#include <modkit/categories/spam_checker.h>
#include <modkit/loader.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace test {

inline std::string fixture_dir() { return MODKIT_FIXTURE_DIR; }
inline std::string fixture(const std::string &name) { return fixture_dir() + "/" + name + ".so"; }

struct Host {
   std::vector<std::string> log;    // module lines, "tag:what"
   std::vector<std::string> host_log; // the loader's own lines
   std::vector<std::string> failed_modules; // the module each ".decide failed with status" line names
   std::mutex mutex;
   modkit::Loader loader;

   explicit Host(std::vector<std::string> reserved = {"/_matrix/"}, uint32_t pending_wait_ms = 0)
      : loader(options(this, std::move(reserved), pending_wait_ms)) {}

   static modkit::Loader::Options options(Host *self, std::vector<std::string> reserved,
                                          uint32_t pending_wait_ms = 0) {
      modkit::Loader::Options o;
      o.pending_wait_ms = pending_wait_ms;
      o.categories = {modkit_spam_checker_category(), test_category(), undeclared_category()};
      o.reserved_web_prefixes = std::move(reserved);
      o.log = [self](modkit_log_level, const char *module, std::string_view line) {
         std::lock_guard<std::mutex> lock(self->mutex);
         (module ? self->log : self->host_log).emplace_back(line);
         if (module && line.find(".decide failed with status") != std::string_view::npos) self->failed_modules.emplace_back(module);
      };
      return o;
   }

   // Loads a config whose modules are given as a JSON array; module_path is the fixtures.
   void load(const std::string &modules_json) {
      loader.load("{\"module_path\": [\"" + fixture_dir() + "\"], \"modules\": " + modules_json + "}");
   }

   // Calls the probes traced ("a:decide(7)"), without init/deinit and other lines.
   std::vector<std::string> calls() {
      std::lock_guard<std::mutex> lock(mutex);
      std::vector<std::string> out;
      for (const auto &l : log) {
         const bool traced = l.size() > 2 && l[1] == ':';
         if (traced && l != std::string(1, l[0]) + ":init" && l != std::string(1, l[0]) + ":deinit") out.push_back(l);
      }
      return out;
   }

   bool logged(const std::string &text) {
      std::lock_guard<std::mutex> lock(mutex);
      for (const auto &l : log) if (l.find(text) != std::string::npos) return true;
      for (const auto &l : host_log) if (l.find(text) != std::string::npos) return true;
      return false;
   }
};

// Runs f, expecting a LoadError; returns its error items.
template <class F>
std::vector<modkit::LoadErrorItem> load_errors(F &&f) {
   try {
      f();
   } catch (const modkit::LoadError &e) {
      return e.errors();
   }
   FAIL("expected the load to fail");
   return {};
}

inline bool contains(const std::string &haystack, const std::string &needle) {
   return haystack.find(needle) != std::string::npos;
}

// A scratch directory removed at the end of the test.
struct TempDir {
   std::filesystem::path path;
   TempDir() {
      char tmpl[] = "/tmp/modkit-test-XXXXXX";
      path = ::mkdtemp(tmpl);
      std::filesystem::permissions(path, std::filesystem::perms::owner_all);
   }
   ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
   }
   std::string str() const { return path.string(); }
};

} // namespace test
