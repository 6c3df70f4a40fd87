// module_services.hpp - what one module instance holds in the standard services: its grants,
// its timers, its tasks, its metrics, and the count that lets unload wait for them.
//
// Ownership: one per modkit_host, created with it, destroyed after the module's deinit. mutex
// guards every member but grants, limits, prefix and name (fixed before init). The
// module may start work from its init until the drain before its deinit (open). `active` counts
// the runs that will call into the module (a timer firing, a task queued or running, a
// completion on its way); drain() waits for it to reach 0 under mutex, so once drained no
// service thread can enter the module. `submitting` counts requests on their way into an engine
// (Submission): drain() waits for them before it drains the engines, so none slips in after.
#pragma once

#include "settings.hpp"

#include <modkit/modkit.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace modkit::loader::services {

struct TimerRun;
struct TaskRun;
struct MetricFamily;

struct ModuleServices {
   std::string name;   // the module's descriptor name, for logs
   std::string prefix; // its storage table prefix and metric name part
   ModuleGrants grants;

   std::mutex mutex;
   std::condition_variable idle; // notified when active drops to 0
   bool open = false;            // from init until drain: work may start only meanwhile
   uint32_t active = 0;
   uint32_t submitting = 0;      // Submissions under way; idle is notified when it drops to 0
   uint64_t next_id = 1;

   std::map<uint64_t, std::shared_ptr<TimerRun>> timers; // armed or running
   std::map<uint64_t, std::shared_ptr<TaskRun>> tasks;   // waiting or running
   std::deque<std::shared_ptr<TaskRun>> waiting;         // beyond the concurrency limit, in order
   uint32_t running_tasks = 0;

   std::vector<std::shared_ptr<MetricFamily>> metrics; // shared_ptr: complete only in its own file
   uint32_t series = 0;

   ModuleServices();
   ~ModuleServices();
};

// One request on its way into an engine (HTTP, storage), admitted only while the module is
// open and counted until the engine has queued it. Without the count, a request checked just
// before the drain could reach the engine just after it drained the module's requests, and
// complete into a module already closed. [any thread; takes mutex]
class Submission {
public:
   explicit Submission(ModuleServices &m);
   ~Submission();
   Submission(const Submission &) = delete;
   Submission &operator=(const Submission &) = delete;
   // MODKIT_OK when admitted; MODKIT_E_STATE once the module is being drained.
   modkit_status status() const { return admitted_ ? MODKIT_OK : MODKIT_E_STATE; }

private:
   ModuleServices &m_;
   bool admitted_;
};

// Ends a run counted in active. [any thread; takes mutex]
void leave(ModuleServices &m);

} // namespace modkit::loader::services
