// app.hpp - one chat server: its config, state, metrics, modules and router, plus the pieces
// several API areas share (sending an event, serving events, rate limiting, presence routing).
#pragma once

#include "homeserver_host.hpp"
#include "host_config.hpp"
#include "metrics.hpp"
#include "module_host.hpp"
#include "router.hpp"
#include "state.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace chat {

// A token bucket per (limiter, key); overrides come from the rate limit category.
class RateLimiter {
public:
   // True when the action is allowed now; otherwise retry_after_ms says when it would be.
   bool allow(const std::string &key, double per_second, int64_t burst, int64_t now_ms, int64_t &retry_after_ms);

private:
   struct Bucket {
      double tokens = 0;
      int64_t updated_ms = 0;
   };
   std::mutex mutex_;
   std::map<std::string, Bucket> buckets_;
};

class App {
public:
   using LogSink = std::function<void(modkit_log_level, const std::string &module, const std::string &line)>;
   // Loads the modules; throws StartupError or ConfigError with every problem.
   App(HostConfig config, LogSink log = {});
   // Stops the homeserver's workers (cancelling what is queued) before the modules are unloaded.
   ~App();

   const HostConfig &config() const { return config_; }
   State &state() { return state_; }
   Metrics &metrics() { return metrics_; }
   ModuleHost &modules() { return *modules_; }
   HomeserverHost &homeserver() { return *homeserver_; }
   Router &router() { return router_; }
   RateLimiter &ratelimiter() { return ratelimiter_; }
   std::string next_request_id();
   void log(modkit_log_level level, const std::string &line) const;

   // ---- shared by the API areas ----

   // A new local event through the modules: check_event_for_spam (non-member events, when
   // spam_check), check_event_allowed (a replacement may change the content), then stored,
   // on_new_event and delivery to the other servers in the room. Returns the event ID.
   // Throws MatrixError when refused.
   // Room creation's own events skip the shadow ban (the room must exist for its creator).
   struct SendOptions {
      bool spam_check = true;
      bool shadow_ban = true;
   };
   std::string send_event(Ctx &ctx, Event event, SendOptions options);
   // Throws MatrixError unless the event's names fit the Matrix grammar (M_INVALID_PARAM) and the
   // event as a PDU fits limits.max_event_size (413 M_TOO_LARGE). Called before any module sees it.
   void check_event(const Event &event) const;
   // Stores an already accepted event and notifies (on_new_event, federation delivery). arg:
   // the event as modules see it, when the caller has it already (else it is built).
   void commit_event(Ctx &ctx, Event event, const EventArg *arg = nullptr);
   // An event as clients see it, with the modules' unsigned fields. Throws on a module error.
   json serve_event(Ctx &ctx, const Event &event);
   EventArg event_arg(const Event &event) const;
   // Delivers a presence update to who should receive it; returns the recipients.
   std::vector<std::string> route_presence(Ctx &ctx, const std::string &user_id, const Presence &presence);
   // May viewer see user_id's presence?
   bool presence_visible(Ctx &ctx, const std::string &viewer, const std::string &user_id);
   // Fails the request when a module's error propagates.
   void check(const Done &done, const char *what) const;

private:
   HostConfig config_;
   LogSink log_;
   State state_;
   Metrics metrics_;
   std::unique_ptr<HomeserverHost> homeserver_; // before modules_: a module's init may reach it
   std::unique_ptr<ModuleHost> modules_;
   Router router_;
   RateLimiter ratelimiter_;
   std::atomic<uint64_t> requests_{0};
};

} // namespace chat
