// sql_service.hpp - the storage service's thread: runs the modules' SQL on one SqlStore, each
// module's jobs in the order it submitted them, and answers each job through its done.
//
// The thread takes every queued job at once (a batch) and runs them without the lock: a busy
// module's statements then cost the thread one lock per batch, not two per statement, and the
// queue is a vector swapped with the thread's, so queuing allocates no nodes.
//
// Ownership and locking: mutex_ guards queue_, taken_, draining_, stopping_ and the thread's
// start; drains_ mirrors draining_.size() so the thread reads it without the lock (acquire, set
// under the lock with release). The SqlStore, the database it opens lazily and the batch belong
// to the service thread alone. done is never called with mutex_ held, nor inside execute or
// batch: it runs on the service thread, except for the queued jobs drain() cancels, which it
// answers on the calling thread.
#pragma once

#include <modkit/status.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace modkit::loader::services {

class SqlStore;

class SqlService {
public:
   // path: the database file (":memory:" ok). The database opens lazily on the first job, on
   // the service's own thread; an open failure answers each job MODKIT_E_INTERNAL with the
   // message.
   explicit SqlService(std::string path);
   // Cancels the queued jobs (done with MODKIT_E_CANCELLED), finishes those the thread has
   // taken, joins. Not from a done.
   ~SqlService();
   SqlService(const SqlService &) = delete;
   SqlService &operator=(const SqlService &) = delete;

   // json is the answer on MODKIT_OK and empty otherwise; message says what failed. Both are
   // valid during the call only.
   using Done = std::function<void(modkit_status, std::string_view json, const std::string &message)>;

   // Queue a job for owner (an opaque key, one per module instance) and return MODKIT_PENDING.
   // Jobs of one owner run in submission order; the thread starts on first use. Otherwise done
   // is never called, and the result is MODKIT_E_INVALID_ARGUMENT (no done), MODKIT_E_STATE
   // (the service is being destroyed), MODKIT_E_NO_MEMORY or MODKIT_E_INTERNAL (no thread).
   // [thread-safe]
   modkit_status execute(const void *owner, std::string prefix, std::string sql, std::string params_json, Done done);
   modkit_status batch(const void *owner, std::string prefix, std::string statements_json, Done done);

   // Before a module's deinit: owner's jobs the thread has taken are answered MODKIT_E_CANCELLED
   // there (but one already running, which ends), then its queued jobs are, on this thread, so
   // owner sees its answers in submission order. Afterwards nothing of owner runs, unless
   // submitted again. [any thread; on the service's own (a done), it does not wait]
   void drain(const void *owner);

private:
   struct Job {
      const void *owner;
      bool batch;
      std::string prefix, text, params;
      Done done;
   };

   modkit_status submit(Job job);
   void run();
   // True when owner is being drained: its taken jobs are cancelled, not run. [service thread]
   bool draining(const void *owner);
   void perform(Job &job);
   static void answer(Job &job, modkit_status status, std::string_view json, const std::string &message);

   const std::string path_;
   std::mutex mutex_;
   std::condition_variable wake_;     // the thread: a job was queued, or stop
   std::condition_variable finished_; // drain: a batch ended (taken_ emptied)
   std::vector<Job> queue_;
   std::vector<const void *> taken_;    // the owners of the batch's jobs, until its last done returned
   std::vector<const void *> draining_; // owners whose taken jobs are cancelled; one entry per drain
   std::atomic<size_t> drains_{0};      // draining_.size()
   bool stopping_ = false;
   std::thread thread_;

   // The service thread's alone.
   std::unique_ptr<SqlStore> store_;
   bool opened_ = false;
   std::string open_error_;
   std::vector<const void *> drained_here_; // drains from a done: left in draining_ until the batch ends
};

} // namespace modkit::loader::services
