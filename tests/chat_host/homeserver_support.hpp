// homeserver_support.hpp - a chat host with the hs_probe fixture, and the call that runs one
// chat.homeserver/1 function through it (fixtures/hs_probe.cpp).
#pragma once

#include "support.hpp"

#include <chrono>
#include <functional>
#include <thread>

namespace test {

inline json hs_probe(const json &config = json::object()) { return {{"module", "hs_probe"}, {"config", config}}; }

// {"status": "ok" | status name, "result": ..., "message": ..., "refused": bool}
inline json hs_call(Host &h, const std::string &fn, const json &args = json::object()) {
   const auto r = h.request("POST", "/_hs_probe/call", {{"fn", fn}, {"args", args}});
   REQUIRE_MESSAGE(r.status == 200, r.body);
   return Host::body(r);
}

// Polls until done() or 10 s passed; true when done.
inline bool eventually(const std::function<bool()> &done) {
   for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
   }
   return done();
}

inline std::string membership(Host &h, const std::string &room, const std::string &user) {
   std::lock_guard<std::mutex> lock(h.app->state().mutex);
   return h.app->state().membership(room, user).value_or("");
}

} // namespace test
