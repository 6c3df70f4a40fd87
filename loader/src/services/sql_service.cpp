#include "sql_service.hpp"

#include "sql_store.hpp"

#include <algorithm>
#include <iterator>
#include <new>
#include <system_error>
#include <utility>
#include <vector>

namespace modkit::loader::services {

SqlService::SqlService(std::string path) : path_(std::move(path)) {}

SqlService::~SqlService() {
   {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
   }
   wake_.notify_one();
   if (thread_.joinable()) thread_.join();
}

modkit_status SqlService::execute(const void *owner, std::string prefix, std::string sql, std::string params_json,
                                  Done done) {
   return submit(Job{owner, false, std::move(prefix), std::move(sql), std::move(params_json), std::move(done)});
}

modkit_status SqlService::batch(const void *owner, std::string prefix, std::string statements_json, Done done) {
   return submit(Job{owner, true, std::move(prefix), std::move(statements_json), {}, std::move(done)});
}

modkit_status SqlService::submit(Job job) {
   if (!job.done) return MODKIT_E_INVALID_ARGUMENT;
   // The callers are C entry points: nothing may unwind into them.
   try {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return MODKIT_E_STATE;
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
      queue_.push_back(std::move(job));
   } catch (const std::bad_alloc &) {
      return MODKIT_E_NO_MEMORY;
   } catch (const std::system_error &) {
      return MODKIT_E_INTERNAL;
   }
   wake_.notify_one();
   return MODKIT_PENDING;
}

void SqlService::drain(const void *owner) {
   std::vector<Job> cancelled;
   {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto theirs = std::stable_partition(queue_.begin(), queue_.end(),
                                                [owner](const Job &job) { return job.owner != owner; });
      std::move(theirs, queue_.end(), std::back_inserter(cancelled));
      queue_.erase(theirs, queue_.end());
      if (std::find(taken_.begin(), taken_.end(), owner) != taken_.end()) {
         draining_.push_back(owner);
         drains_.store(draining_.size(), std::memory_order_release);
         if (thread_.get_id() == std::this_thread::get_id()) {
            drained_here_.push_back(owner); // waiting here would wait for ourselves
         } else {
            // The taken jobs answer first, so the owner sees its answers in submission order.
            finished_.wait(lock, [&] { return std::find(taken_.begin(), taken_.end(), owner) == taken_.end(); });
            draining_.erase(std::find(draining_.begin(), draining_.end(), owner));
            drains_.store(draining_.size(), std::memory_order_release);
         }
      }
   }
   for (Job &job : cancelled) answer(job, MODKIT_E_CANCELLED, {}, "cancelled: the module is being unloaded");
}

bool SqlService::draining(const void *owner) {
   if (drains_.load(std::memory_order_acquire) == 0) return false;
   std::lock_guard<std::mutex> lock(mutex_);
   return std::find(draining_.begin(), draining_.end(), owner) != draining_.end();
}

void SqlService::run() {
   std::vector<Job> batch;
   std::unique_lock<std::mutex> lock(mutex_);
   for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      batch.swap(queue_); // queue_ gets the batch's emptied vector, with its capacity
      for (const Job &job : batch) taken_.push_back(job.owner);
      lock.unlock();
      for (Job &job : batch) {
         if (draining(job.owner)) answer(job, MODKIT_E_CANCELLED, {}, "cancelled: the module is being unloaded");
         else perform(job);
         job = Job{}; // done's captures go before drain() may return
      }
      batch.clear();
      lock.lock();
      taken_.clear();
      for (const void *owner : drained_here_) draining_.erase(std::find(draining_.begin(), draining_.end(), owner));
      drained_here_.clear();
      drains_.store(draining_.size(), std::memory_order_release);
      finished_.notify_all();
   }
   std::vector<Job> rest = std::move(queue_);
   queue_.clear();
   lock.unlock();
   for (Job &job : rest) answer(job, MODKIT_E_CANCELLED, {}, "cancelled: the storage service is shutting down");
   store_.reset();
}

void SqlService::perform(Job &job) {
   SqlResult result;
   try {
      if (!opened_) {
         opened_ = true;
         try {
            store_ = std::make_unique<SqlStore>(path_);
         } catch (const std::exception &e) {
            open_error_ = e.what();
         }
      }
      if (!store_)
         result = SqlResult{MODKIT_E_INTERNAL, {}, open_error_};
      else if (job.batch)
         result = store_->batch(job.prefix, job.text);
      else
         result = store_->execute(job.prefix, job.text, job.params);
   } catch (const std::bad_alloc &) {
      result = SqlResult{MODKIT_E_NO_MEMORY, {}, "out of memory"};
   } catch (const std::exception &e) {
      result = SqlResult{MODKIT_E_INTERNAL, {}, e.what()};
   }
   answer(job, result.status, result.json, result.message);
}

void SqlService::answer(Job &job, modkit_status status, std::string_view json, const std::string &message) {
   // A throwing done must not end the service thread (the loader's never throws).
   try {
      job.done(status, json, message);
   } catch (...) {
   }
}

} // namespace modkit::loader::services
