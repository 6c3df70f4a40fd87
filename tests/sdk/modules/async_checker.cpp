// async_checker: a spam checker that asks a slow reputation service without holding the host's
// thread (ABI 1.1, C++20), and caches each sender's score. Quoted in docs/writing-a-module.md.
#include <modkit/sdk.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

// Stands in for any client that answers through a callback on its own thread (HTTP, LDAP, a
// database driver): senders whose ID contains "spam" score 90, others 10.
class ReputationService {
public:
   ReputationService() : worker_([this] { run(); }) {}
   ~ReputationService() {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         stopping_ = true;
      }
      wake_.notify_one();
      worker_.join();
   }

   void score(std::string user_id, std::function<void(int)> done) {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         queue_.emplace_back(std::move(user_id), std::move(done));
      }
      wake_.notify_one();
   }

private:
   void run() {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
         wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
         if (queue_.empty()) return;
         auto [user_id, done] = std::move(queue_.front());
         queue_.pop_front();
         lock.unlock();
         done(user_id.find("spam") != std::string::npos ? 90 : 10);
         lock.lock();
      }
   }

   std::mutex mutex_;
   std::condition_variable wake_;
   std::deque<std::pair<std::string, std::function<void(int)>>> queue_;
   bool stopping_ = false;
   std::thread worker_;
};

class AsyncChecker {
public:
   AsyncChecker(const nlohmann::json &, modkit::Api &api)
      : scores_(api, "sender_score", {}, this, &AsyncChecker::fetch_score) {
      modkit::SpamCheckerCallbacks callbacks;
      callbacks.check_event_for_spam =
         [this](const modkit::Event &event) -> modkit::task<modkit::SpamResult> {
         const int score = co_await scores_(event.sender());
         co_return score > 50 ? modkit::SpamResult::forbidden : modkit::SpamResult::not_spam;
      };
      api.register_spam_checker_callbacks(std::move(callbacks));
   }

private:
   // The slow lookup: a Completion turns the service's callback into something to co_await.
   modkit::task<int> fetch_score(std::string_view user_id) {
      modkit::Completion<int> score;
      service_.score(std::string(user_id), [score](int value) mutable { score.set_value(value); });
      co_return co_await score;
   }

   ReputationService service_; // destroyed last: its thread is joined after the cache is gone
   modkit::cached<modkit::task<int>(std::string_view)> scores_;
};

MODKIT_MODULE(AsyncChecker, "async_checker", "1.0.0", "Asks a slow reputation service, asynchronously",
              "modkit.spam_checker")
