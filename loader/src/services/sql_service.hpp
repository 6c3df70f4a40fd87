// sql_service.hpp - the storage service's thread: runs the modules' SQL on one SqlStore, each
// module's jobs in the order it submitted them, and answers each job through its done.
//
// Ownership and locking: mutex_ guards queue_, running_, stopping_ and the thread's start. The
// SqlStore, and the database it opens lazily, belong to the service thread alone. done is never
// called with mutex_ held, nor inside execute or batch: it runs on the service thread, except
// for the jobs drain() cancels, which it answers on the calling thread.
#pragma once

#include <modkit/status.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace modkit::loader::services {

class SqlStore;

class SqlService {
public:
   // path: the database file (":memory:" ok). The database opens lazily on the first job, on
   // the service's own thread; an open failure answers each job MODKIT_E_INTERNAL with the
   // message.
   explicit SqlService(std::string path);
   // Cancels the queued jobs (done with MODKIT_E_CANCELLED), finishes the running one, joins.
   // Not from a done.
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

   // Before a module's deinit: answers owner's queued jobs MODKIT_E_CANCELLED (done called, on
   // this thread) after its running job's done has returned. Afterwards nothing of owner runs,
   // unless submitted again. [any thread but the service's own]
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
   void perform(Job &job);
   static void answer(Job &job, modkit_status status, std::string_view json, const std::string &message);

   const std::string path_;
   std::mutex mutex_;
   std::condition_variable wake_;     // the thread: a job was queued, or stop
   std::condition_variable finished_; // drain: running_ changed
   std::deque<Job> queue_;
   const void *running_ = nullptr; // the owner of the job the thread runs, until its done returns
   bool stopping_ = false;
   std::thread thread_;

   // The service thread's alone.
   std::unique_ptr<SqlStore> store_;
   bool opened_ = false;
   std::string open_error_;
};

} // namespace modkit::loader::services
