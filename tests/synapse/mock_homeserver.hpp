// mock_homeserver.hpp - an original test suite's mocked ModuleApi as a chat.homeserver/1 table
// for the FakeHost's extensions. A test derives from it and sets the functions it needs; their
// answers are queued and delivered by deliver(), never inside the call that asked, as a host
// answers. Answers may be queued from any thread (a module's coroutine resumed on a task thread).
#pragma once

#include <chat_host/homeserver.h>

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

namespace port {

class MockHomeserver {
public:
   MockHomeserver() {
      table_.api.struct_size = sizeof table_.api;
      table_.owner = this;
   }
   MockHomeserver(const MockHomeserver &) = delete;
   MockHomeserver &operator=(const MockHomeserver &) = delete;

   chat_homeserver_api &api() { return table_.api; }
   const chat_homeserver_api *table() const { return &table_.api; }

   // The mock a table function was called on.
   template <class Mock>
   static Mock &of(const chat_homeserver_api *self) {
      return static_cast<Mock &>(*reinterpret_cast<const Table *>(self)->owner);
   }

   // Queues a successful answer (a JSON object) or a failure.
   modkit_status answer(chat_homeserver_done_fn done, void *user_data, nlohmann::json result) {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back([done, user_data, text = result.dump()] { done(user_data, MODKIT_OK, {text.data(), text.size()}, ""); });
      return MODKIT_PENDING;
   }
   modkit_status fail(chat_homeserver_done_fn done, void *user_data, modkit_status status, std::string message) {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back([=] { done(user_data, status, {nullptr, 0}, message.c_str()); });
      return MODKIT_PENDING;
   }

   // Runs the queued answers, and any their handlers queue, until none is left.
   void deliver() {
      for (;;) {
         std::function<void()> next;
         {
            std::lock_guard<std::mutex> lock(mutex_);
            if (pending_.empty()) return;
            next = std::move(pending_.front());
            pending_.pop_front();
         }
         next();
      }
   }
   bool pending() const {
      std::lock_guard<std::mutex> lock(mutex_);
      return !pending_.empty();
   }

private:
   struct Table {
      chat_homeserver_api api{}; // first: a table pointer is the Table's
      MockHomeserver *owner = nullptr;
   };
   Table table_;
   mutable std::mutex mutex_;                  // guards pending_
   std::deque<std::function<void()>> pending_;
};

} // namespace port
