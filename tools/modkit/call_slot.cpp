#include "call_slot.hpp"

#include "output.hpp"
#include "standard_categories.hpp"

#include <modkit/loader.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

namespace modkit::cli {
namespace {

const char modkit_prefix[] = "modkit.";

std::string category_list() {
   std::string out;
   for (const modkit_category *c : standard_category_descriptors()) out += (out.empty() ? "" : ", ") + std::string(c->id);
   return out;
}

std::string slot_list(const modkit_category &c) {
   std::string out;
   for (uint32_t i = 0; i < c.slot_count; ++i) out += (out.empty() ? "" : ", ") + std::string(c.slots[i].name);
   return out;
}

const modkit_category *find_category(const std::string &id) {
   for (const modkit_category *c : standard_category_descriptors()) {
      if (id == c->id || modkit_prefix + id == c->id) return c;
   }
   return nullptr;
}

// Where the dispatch's done leaves its result for the thread that waits for it.
struct Waiter {
   std::mutex mutex;
   std::condition_variable finished;
   bool done = false;
   modkit_status status = MODKIT_OK;
   std::string result;
};

// modkit_loader_async_done_fn: runs once, on the thread that finished the dispatch (this one,
// the module's, or the loader's timer thread at the deadline). result_json is valid only now.
void on_done(void *user_data, modkit_status status, modkit_str result_json) {
   auto *waiter = static_cast<Waiter *>(user_data);
   std::string copy;
   try {
      copy.assign(result_json.data ? result_json.data : "", result_json.size);
   } catch (...) {
      status = MODKIT_E_NO_MEMORY;
   }
   const std::lock_guard<std::mutex> lock(waiter->mutex);
   waiter->status = status;
   waiter->result = std::move(copy);
   waiter->done = true;
   waiter->finished.notify_one();
}

} // namespace

std::string SlotTarget::name() const { return std::string(category->id) + "." + slot->name; }

SlotTarget resolve_target(const std::string &target) {
   // Category IDs contain dots and slot names do not, so the slot is what follows the last one.
   const size_t dot = target.rfind('.');
   if (dot == std::string::npos || dot == 0 || dot + 1 == target.size())
      throw UsageError("the callback must be named CATEGORY.SLOT, e.g. spam_checker.check_event_for_spam, not \"" +
                       target + "\"");
   const std::string category = target.substr(0, dot), slot = target.substr(dot + 1);
   SlotTarget out;
   out.category = find_category(category);
   if (out.category == nullptr)
      throw UsageError("no category \"" + category + "\"; the standard categories are " + category_list());
   for (uint32_t i = 0; i < out.category->slot_count; ++i) {
      if (slot == out.category->slots[i].name) out.slot = &out.category->slots[i];
   }
   if (out.slot == nullptr)
      throw UsageError("category " + std::string(out.category->id) + " has no slot \"" + slot + "\"; its slots are " +
                       slot_list(*out.category));
   return out;
}

void call_slot(Reporter &reporter, modkit::Loader &loader, const SlotTarget &target, const std::string &args_json,
               double deadline_seconds) {
   reporter.send({{"event", "phase"}, {"phase", "call"}});
   // Asynchronously, so that a module may suspend the call (ABI 1.1) and complete it from another
   // thread; the loader ends the dispatch at the deadline (MODKIT_E_TIMEOUT) if it has not.
   static const char request_id[] = "modkit-call";
   modkit_loader_async_options options{};
   options.struct_size = sizeof options;
   options.request_id = {request_id, sizeof request_id - 1};
   const auto timeout = std::chrono::nanoseconds(int64_t(deadline_seconds * 1e9));
   options.deadline_ns = int64_t(modkit_loader_now_ns()) + timeout.count();
   const auto deadline = std::chrono::steady_clock::now() + timeout; // the same clock (CLOCK_MONOTONIC)
   Waiter waiter;
   modkit_loader_async *async = nullptr;
   const modkit_status started = modkit_loader_dispatch_json_async(loader.get(), target.category->id, target.slot->name,
                                                                   args_json.data(), args_json.size(), &options,
                                                                   on_done, &waiter, &async);
   {
      std::unique_lock<std::mutex> lock(waiter.mutex);
      if (started != MODKIT_OK && !waiter.done) {
         // Nothing started and done was not called: the status is the whole answer.
         waiter.status = started;
         waiter.done = true;
      }
      // The loader's timer ends the dispatch at the deadline; cancelling a moment later is only
      // a backstop, so that this wait ends whatever happens.
      if (!waiter.finished.wait_until(lock, deadline + std::chrono::seconds(1), [&] { return waiter.done; })) {
         lock.unlock();
         modkit_loader_async_cancel(async); // done runs now, on this thread
         lock.lock();
         waiter.finished.wait(lock, [&] { return waiter.done; });
      }
   }
   modkit_loader_async_release(async);
   const modkit_status status = waiter.status;
   const std::string &text = waiter.result;
   nlohmann::json doc = nullptr;
   if (!text.empty()) {
      doc = nlohmann::json::parse(text, nullptr, false);
      if (doc.is_discarded()) doc = text; // shown as the loader wrote it
   }
   reporter.send({{"event", "called"}, {"status", modkit_status_name(status)}, {"code", status}, {"result", std::move(doc)}});
}

} // namespace modkit::cli
