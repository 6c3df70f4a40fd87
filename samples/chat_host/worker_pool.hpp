// worker_pool.hpp - the threads that run the router's synchronous handlers for the HTTP server.
//
// A job goes to the worker that went idle last (a stack, not a queue of sleepers): under steady
// load the same one or two threads stay warm and each hand-off wakes at most one thread with one
// system call, where a pool whose idle threads all wait on one condition variable makes them
// contend for its mutex on every job.
//
// Threads and ownership. post() may be called from any thread; jobs run on the pool's threads in
// the order posted, each once. mutex_ guards the queue, the idle stack and stopping_; a worker
// sleeps on its own condition variable (with mutex_), so a wake reaches exactly that worker.
// join() (and the destructor) runs the jobs already posted, then joins every thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace chat {

class WorkerPool {
public:
   explicit WorkerPool(size_t threads);
   ~WorkerPool();
   WorkerPool(const WorkerPool &) = delete;
   WorkerPool &operator=(const WorkerPool &) = delete;

   void post(std::function<void()> job);
   // Runs what is posted already, then stops and joins the threads; later posts are dropped.
   // Idempotent. [not from a worker]
   void join();

private:
   struct Worker {
      std::condition_variable wake;
      bool has_job = false;
      std::function<void()> job;
   };
   void run(Worker &self);

   std::mutex mutex_;
   std::deque<std::function<void()>> queue_; // jobs no idle worker could take at once
   std::vector<Worker *> idle_;              // most recently idle last
   bool stopping_ = false;
   std::vector<std::unique_ptr<Worker>> workers_;
   std::vector<std::thread> threads_;
};

} // namespace chat
