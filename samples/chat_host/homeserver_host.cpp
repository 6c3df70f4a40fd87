// homeserver_host.cpp - the workers, the per-instance bookkeeping and the re-entry rule of
// chat.homeserver/1.
#include "homeserver_host.hpp"

#include "app.hpp"
#include "blocking.hpp"

#include <modkit/loader.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace chat {

HomeserverHost::HomeserverHost(App &app) : app_(app) {
   fill_homeserver_api(table_.api);
   table_.owner = this;
}

HomeserverHost::~HomeserverHost() { shutdown(); }

void HomeserverHost::start(size_t workers) {
   std::lock_guard<std::mutex> lock(mutex_);
   if (started_ || stopped_) return;
   started_ = true;
   for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i) workers_.emplace_back([this] { work(); });
}

void HomeserverHost::shutdown() {
   std::deque<Job> cancelled;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      cancelled.swap(queue_);
   }
   work_.notify_all();
   // The modules are all still loaded: their done may be called from here.
   for (Job &job : cancelled) {
      deliver(job, {MODKIT_E_CANCELLED, json(), "the host is shutting down"});
      std::lock_guard<std::mutex> lock(mutex_);
      --instances_[job.key].running;
   }
   for (std::thread &t : workers_) t.join();
   workers_.clear();
}

modkit_status HomeserverHost::submit(modkit_host *host, const char *what, chat_homeserver_done_fn done,
                                     void *user_data, Action action) {
   const std::string module = modkit_loader_host_module_name(host);
   const uint64_t instance = modkit_loader_host_instance_id(host);
   if (instance == 0) return MODKIT_E_INVALID_ARGUMENT; // not a module's handle
   // The chain of callbacks this call comes from; refused when its own callback is in it.
   CallChain chain = ActionScope::current();
   if (const ModuleFrame *frame = ModuleFrame::current()) {
      const std::pair<std::string, std::string> here{frame->module(), frame->callback()};
      if (std::find(chain.begin(), chain.end(), here) != chain.end()) {
         app_.log(MODKIT_LOG_WARNING,
                  fmt::format("module '{}' asked for {} from its {}, which an action it asked for from that same "
                              "callback is running: refused (MODKIT_E_STATE), as it would re-enter it without end",
                              module, what, here.second));
         return MODKIT_E_STATE;
      }
      chain.push_back(here);
   }
   const InstanceKey key{host, instance};
   {
      std::lock_guard<std::mutex> lock(mutex_);
      Instance &in = instances_[key];
      if (in.module.empty()) in.module = module;
      if (stopped_ || in.stopping) return MODKIT_E_STATE;
      ++in.running;
      queue_.push_back(Job{key, module, what, done, user_data, std::move(action), std::move(chain)});
   }
   work_.notify_one();
   return MODKIT_PENDING;
}

void HomeserverHost::work() {
   for (;;) {
      Job job;
      {
         std::unique_lock<std::mutex> lock(mutex_);
         work_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
         if (queue_.empty()) return; // stopped, and shutdown took what was queued
         job = std::move(queue_.front());
         queue_.pop_front();
      }
      run(job);
   }
}

void HomeserverHost::run(Job &job) {
   ActionResult r;
   {
      const ActionScope scope(job.chain);
      try {
         r = job.action(app_, job.module);
      } catch (const std::exception &e) {
         r = {MODKIT_E_INTERNAL, json(), e.what()};
      }
   }
   // closed is read, and delivering counted, under the lock; done runs outside it.
   // module_stopping waits for delivering to reach zero after it closes the instance, so a
   // done that started finishes before deinit.
   bool closed;
   {
      std::lock_guard<std::mutex> lock(mutex_);
      Instance &in = instances_[job.key];
      closed = in.closed;
      if (!closed) ++in.delivering;
   }
   if (!closed) deliver(job, r);
   else app_.log(MODKIT_LOG_WARNING, fmt::format("module '{}': its {} finished after it was unloaded; not told",
                                                job.module, job.what));
   {
      std::lock_guard<std::mutex> lock(mutex_);
      Instance &in = instances_[job.key];
      --in.running;
      if (!closed) --in.delivering;
   }
   idle_.notify_all();
}

void HomeserverHost::deliver(const Job &job, const ActionResult &r) {
   const std::string result = r.status == MODKIT_OK ? r.result.dump(-1, ' ', false, json::error_handler_t::replace)
                                                    : std::string();
   const modkit_str text = r.status == MODKIT_OK ? modkit_str{result.data(), result.size()} : modkit_str{nullptr, 0};
   job.done(job.user_data, r.status, text, r.status == MODKIT_OK ? "" : r.message.c_str());
}

void HomeserverHost::module_stopping(modkit_host *host, uint64_t wait_ms) {
   const InstanceKey key{host, modkit_loader_host_instance_id(host)};
   std::deque<Job> cancelled;
   std::unique_lock<std::mutex> lock(mutex_);
   auto it = instances_.find(key);
   if (it == instances_.end()) return; // it never asked for anything
   Instance &in = it->second;
   in.stopping = true;
   for (auto job = queue_.begin(); job != queue_.end();) {
      if (job->key == key) {
         cancelled.push_back(std::move(*job));
         job = queue_.erase(job);
      } else {
         ++job;
      }
   }
   lock.unlock();
   for (Job &job : cancelled) deliver(job, {MODKIT_E_CANCELLED, json(), "the module is being unloaded"});
   lock.lock();
   in.running -= cancelled.size();
   // Actions under way are waited for, bounded: one that outlives the bound is not told.
   const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
   if (in.running != 0 || in.delivering != 0) will_block();
   if (!idle_.wait_until(lock, deadline, [&] { return in.running == 0; }))
      app_.log(MODKIT_LOG_WARNING, fmt::format("module '{}': {} homeserver action(s) still running after {} ms; "
                                               "they finish without telling it",
                                               in.module, in.running, wait_ms));
   in.closed = true;
   // A done already under way runs module code: it finishes before deinit.
   idle_.wait(lock, [&] { return in.delivering == 0; });
}

size_t HomeserverHost::outstanding(const std::string &module) const {
   std::lock_guard<std::mutex> lock(mutex_);
   size_t n = 0;
   for (const auto &[key, in] : instances_)
      if (in.module == module && !in.closed) n += in.running;
   return n;
}

} // namespace chat
