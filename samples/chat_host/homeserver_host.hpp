// homeserver_host.hpp - the host side of chat.homeserver/1 (include/chat_host/homeserver.h):
// the function table modules get, the workers that run their actions, and what is kept per
// module instance so that unloading one cancels or waits for its actions.
//
// Ownership and threads. App owns one HomeserverHost, made before the modules are loaded (a
// module's init may ask for actions: they wait in the queue) and started once the App is whole.
// Actions run on the host's own workers, never on the thread that asked, so a module's
// callback that asks for one returns at once, and done is always called from a worker (or, for
// actions cancelled by unloading, from the thread that unloads). mutex_ guards the queue and
// the instances; work_ and idle_ are its condition variables. An action and its done run
// holding no lock of this class.
#pragma once

#include "call_frames.hpp"

#include <chat_host/homeserver.h>

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chat {

class App;
using json = nlohmann::json;

// What one action answers: status, and on MODKIT_OK the result object.
struct ActionResult {
   modkit_status status = MODKIT_OK;
   json result = json::object();
   std::string message;
};

// An action as the worker runs it, with the caller's module name.
using Action = std::function<ActionResult(App &, const std::string &module)>;

class HomeserverHost {
public:
   explicit HomeserverHost(App &app);
   ~HomeserverHost();
   HomeserverHost(const HomeserverHost &) = delete;
   HomeserverHost &operator=(const HomeserverHost &) = delete;

   // The table handed to modules; valid as long as this object.
   const chat_homeserver_api *api() const { return &table_.api; }
   // The host whose table self is (what every function of the table starts with).
   static HomeserverHost &of(const chat_homeserver_api *self) {
      return *reinterpret_cast<const Table *>(self)->owner; // api is Table's first member
   }
   App &app() { return app_; }

   // Starts the workers; actions accepted before wait in the queue.
   void start(size_t workers);
   // No new actions; queued ones get done(MODKIT_E_CANCELLED) here, running ones are waited for.
   // Called by App before the modules are unloaded. Idempotent.
   void shutdown();
   // The loader's module_stopping: the instance may not start actions any more; its queued
   // actions are cancelled (done on this thread), its running ones waited for, up to
   // wait_ms; past that they finish without calling done. Main thread, before deinit.
   void module_stopping(modkit_host *host, uint64_t wait_ms);

   // Accepts action for the module calling with host (what every asynchronous function of the
   // table does once its arguments are checked). Returns MODKIT_PENDING, or why not (done is
   // then never called): MODKIT_E_STATE when stopping or on re-entry.
   modkit_status submit(modkit_host *host, const char *what, chat_homeserver_done_fn done, void *user_data,
                        Action action);

   // Actions accepted and not yet answered, for one module's live instances (tests, /metrics).
   size_t outstanding(const std::string &module) const;

private:
   struct Instance {
      std::string module;
      bool stopping = false; // module_stopping began: nothing new is accepted
      bool closed = false;   // module_stopping returned: done is not called any more
      size_t running = 0;    // actions accepted and not yet answered (queued or under way)
      size_t delivering = 0; // dones being called now
   };
   using InstanceKey = std::pair<const modkit_host *, uint64_t>; // the handle and its instance ID
   struct Job {
      InstanceKey key;
      std::string module, what;
      chat_homeserver_done_fn done;
      void *user_data;
      Action action;
      CallChain chain;
   };

   void work();
   void run(Job &job);
   static void deliver(const Job &job, const ActionResult &r);

   // The table and its owner, so that a function finds this object from self.
   struct Table {
      chat_homeserver_api api;
      HomeserverHost *owner;
   };

   App &app_;
   Table table_{};
   mutable std::mutex mutex_;
   std::condition_variable work_, idle_;
   std::deque<Job> queue_;
   // Kept after an instance stopped (a few bytes each), so that its late calls stay refused.
   std::map<InstanceKey, Instance> instances_;
   std::vector<std::thread> workers_;
   bool started_ = false, stopped_ = false;
};

// Fills the function table (homeserver_api.cpp): every entry checks its arguments and hands
// an Action to HomeserverHost::of(self).submit.
void fill_homeserver_api(chat_homeserver_api &api);

} // namespace chat
