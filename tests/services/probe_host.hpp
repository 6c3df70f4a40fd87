// probe_host.hpp - drives the services_a / services_b fixture modules (tests/fixtures/
// services_probe.cpp) through a test host: loads them with a "services" section, asks them
// questions through the test category's decide, and waits for their log lines.
#pragma once

#include "support.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

namespace test {

// Loads modules_json (an array) with services (an object) beside module_path.
inline void load_with_services(Host &host, const std::string &modules_json, const std::string &services = "{}") {
   host.loader.load("{\"module_path\": [\"" + fixture_dir() + "\"], \"services\": " + services +
                    ", \"modules\": " + modules_json + "}");
}

// decide(op) of one module, answered at once.
inline int32_t ask(Host &host, const char *module, int32_t op) {
   modkit_buffer *out = modkit_loader_buffer_create();
   const std::string args = "{\"input\": " + std::to_string(op) + "}";
   const modkit_status s = modkit_loader_call_json(host.loader.get(), module, TEST_CATEGORY_ID, "decide", args.data(),
                                                   args.size(), nullptr, out);
   const modkit_str text = modkit_loader_buffer_data(out);
   const auto doc = nlohmann::json::parse(std::string(text.data, text.size));
   modkit_loader_buffer_destroy(out);
   REQUIRE_MESSAGE(s == MODKIT_OK, doc.dump());
   return doc["outputs"]["result"].get<int32_t>();
}

// Waits up to ms for pred; true when it held.
template <class Pred>
bool eventually(Pred &&pred, int ms = 5000) {
   const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
   while (!pred()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
   }
   return true;
}

// The first module log line that starts with prefix, once one arrives ("" after ms).
inline std::string line_starting(Host &host, const std::string &prefix, int ms = 5000) {
   std::string found;
   eventually(
      [&] {
         std::lock_guard<std::mutex> lock(host.mutex);
         for (const auto &l : host.log) {
            if (l.rfind(prefix, 0) == 0) {
               found = l;
               return true;
            }
         }
         return false;
      },
      ms);
   return found;
}

} // namespace test
