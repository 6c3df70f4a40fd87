// link_checker.cpp - the demo's suspending module: a spam checker that asks a link-reputation
// service about the domains in a message and answers when the service does.
//
//   {"module": "link_checker", "config": {"bad_domains": ["spam.example"], "delay_ms": 20}}
//
// The "service" is simulated by one thread that answers each question delay_ms after it was
// asked. check_event_for_spam decides at once what the service will say, returns MODKIT_PENDING
// and lets that thread write the answer and call call_complete (the raw ABI 1.1 protocol, no
// SDK). When the host's call cannot suspend (call_can_suspend false, or a 1.0 host), it answers
// before returning, as every 1.0 module does. A call the host cancels (its deadline passed) is
// completed at once with MODKIT_E_CANCELLED. deinit answers what is still queued and joins the
// thread.
#include <modkit/all.h>
#include <modkit/manifest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// One question to the service: the call and where its answer goes, both valid until completed.
struct Question {
   modkit_call *call;
   modkit_spam_result *result;
   modkit_spam_result verdict;
   Clock::time_point due;
};

struct LinkChecker {
   const modkit_host_api *api = nullptr;
   modkit_host *host = nullptr;
   std::vector<std::string> bad_domains;
   std::chrono::milliseconds delay{20};

   std::mutex mutex;
   std::condition_variable wake;
   std::deque<Question> queue; // in due order: every question waits the same delay
   bool stopping = false;
   std::thread service;

   void log(modkit_log_level level, const std::string &line) const { api->log(host, level, {line.data(), line.size()}); }

   modkit_spam_result judge(const modkit_event &event) const {
      const std::string content(event.content_json.data ? event.content_json.data : "", event.content_json.size);
      const json parsed = json::parse(content, nullptr, false);
      const std::string body = parsed.is_object() && parsed.value("body", json()).is_string() ? parsed["body"].get<std::string>() : "";
      for (const auto &domain : bad_domains)
         if (body.find(domain) != std::string::npos) return MODKIT_SPAM_FORBIDDEN;
      return MODKIT_NOT_SPAM;
   }

   // Writes the answer and completes the call, holding no lock: the host may call the next
   // module on this thread before call_complete returns.
   void answer(const Question &q, modkit_status status) const {
      if (status == MODKIT_OK) *q.result = q.verdict;
      const modkit_status s = api->call_complete(q.call, status);
      if (s != MODKIT_OK) log(MODKIT_LOG_WARNING, std::string("call_complete refused: ") + modkit_status_name(s));
   }

   // The service: answers each question when it is due, or at once when the host cancelled it.
   void run() {
      std::unique_lock<std::mutex> lock(mutex);
      for (;;) {
         if (queue.empty()) {
            if (stopping) return;
            wake.wait(lock);
            continue;
         }
         // Answered when due, cancelled or shutting down; polled every 5 ms for cancellation.
         const Question &head = queue.front();
         const bool cancelled = api->call_is_cancelled(head.call);
         if (!stopping && !cancelled && Clock::now() < head.due) {
            wake.wait_until(lock, std::min(head.due, Clock::now() + std::chrono::milliseconds(5)));
            continue;
         }
         const Question q = queue.front();
         queue.pop_front();
         lock.unlock();
         answer(q, cancelled ? modkit_status{MODKIT_E_CANCELLED} : modkit_status{MODKIT_OK});
         lock.lock();
      }
   }
};

LinkChecker &self(void *ud) { return *static_cast<LinkChecker *>(ud); }

modkit_status check_event_for_spam(void *ud, modkit_call *call, const modkit_event *event, modkit_spam_result *result) {
   LinkChecker &c = self(ud);
   try {
      // Everything the answer needs is read now: only the call and its outputs outlive the return.
      const modkit_spam_result verdict = c.judge(*event);
      const bool async = MODKIT_HAS_FIELD(c.api, modkit_host_api, call_complete) && c.api->call_can_suspend(call);
      if (!async) {
         *result = verdict;
         return MODKIT_OK;
      }
      {
         std::lock_guard<std::mutex> lock(c.mutex);
         c.queue.push_back({call, result, verdict, Clock::now() + c.delay});
      }
      c.wake.notify_one();
      return MODKIT_PENDING;
   } catch (const std::exception &e) {
      c.log(MODKIT_LOG_ERROR, std::string("check_event_for_spam: ") + e.what());
      return MODKIT_E_INTERNAL;
   }
}

const char schema[] = R"({
  "type": "object",
  "required": ["bad_domains"],
  "properties": {
    "bad_domains": {"type": "array", "items": {"type": "string", "minLength": 1}},
    "delay_ms": {"type": "integer", "minimum": 0, "maximum": 60000}
  },
  "additionalProperties": false
})";

modkit_status init(const modkit_host_api *api, modkit_host *host, modkit_str config_json, void **instance,
                   modkit_error_sink *err) {
   try {
      auto c = std::make_unique<LinkChecker>();
      c->api = api;
      c->host = host;
      const json config = json::parse(config_json.data, config_json.data + config_json.size);
      c->bad_domains = config.at("bad_domains").get<std::vector<std::string>>();
      c->delay = std::chrono::milliseconds(config.value("delay_ms", 20));
      modkit_spam_checker_callbacks callbacks{};
      callbacks.struct_size = sizeof callbacks;
      callbacks.check_event_for_spam = check_event_for_spam;
      const modkit_status s = modkit_register_spam_checker_callbacks(api, host, &callbacks, c.get());
      if (s != MODKIT_OK) return s;
      c->service = std::thread([p = c.get()] { p->run(); });
      c->log(MODKIT_LOG_INFO, "asking the link service about " + std::to_string(c->bad_domains.size()) +
                                 " domain(s), answers after " + std::to_string(c->delay.count()) + " ms");
      *instance = c.release();
      return MODKIT_OK;
   } catch (const std::exception &e) {
      api->report_error(err, MODKIT_E_INTERNAL, "", e.what());
      return MODKIT_E_INTERNAL;
   }
}

void deinit(void *instance) {
   auto *c = static_cast<LinkChecker *>(instance);
   {
      std::lock_guard<std::mutex> lock(c->mutex);
      c->stopping = true;
   }
   c->wake.notify_one();
   c->service.join();
   delete c;
}

const modkit_module descriptor = {
   sizeof(modkit_module), MODKIT_ABI_VERSION_MAJOR, MODKIT_ABI_VERSION_MINOR, "link_checker", "1.0.0",
   "Asks a (simulated) link-reputation service about each message; answers asynchronously", schema, nullptr, init,
   deinit,
};

} // namespace

MODKIT_DECLARE_MODULE(descriptor, "link_checker", "1.0.0", "modkit.spam_checker");
