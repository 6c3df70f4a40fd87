// modkit/sdk/detail/json_call.hpp - an asynchronous host call answered with
// (status, result JSON, message): what the storage service and host extensions shaped like it
// (the chat host's homeserver API) share. The C side is
//    void done(void *user_data, modkit_status status, modkit_str result_json, const char *message);
// called exactly once per accepted call, never inside the call that started it.
#pragma once

#include <modkit/sdk/detail/barrier.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>
#include <modkit/sdk/task.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace modkit::detail {

// (status, result, message): on MODKIT_OK result is the answer and message is empty; otherwise
// result is null and message says why.
using JsonHandler = std::function<void(modkit_status status, nlohmann::json result, std::string message)>;

// The host's user_data from the call until done, which frees it.
struct JsonSlot {
   HostContext context;
   JsonHandler on_done;
   const char *service; // "storage": a literal, named in messages
   std::string what;    // "storage callback": names the handler in the log when it throws
};

inline void MODKIT_ABI json_done(void *user_data, modkit_status status, modkit_str result_json,
                                 const char *message) noexcept {
   const std::unique_ptr<JsonSlot> slot(static_cast<JsonSlot *>(user_data));
   // The handler is called whatever happens here, or a coroutine awaiting the call would hang.
   nlohmann::json result;
   std::string text;
   try {
      text = message != nullptr ? message : "";
      if (status == MODKIT_OK) {
         result = nlohmann::json::parse(to_view(result_json), nullptr, false);
         if (result.is_discarded()) {
            result = nullptr;
            status = MODKIT_E_INTERNAL;
            text = fmt::format("the {} service answered with malformed JSON", slot->service);
         }
      }
   } catch (...) {
      result = nullptr;
      status = MODKIT_E_NO_MEMORY;
      text.clear();
   }
   barrier([&] { slot->on_done(status, std::move(result), std::move(text)); }, LogToHost{&slot->context, slot->what.c_str()});
}

// Starts one call: submit(user_data) makes the C call with &json_done and user_data. Throws
// Error for an empty handler or the host's refusal (handler never called then).
// service is a literal ("storage").
template <class Submit>
void start_json_call(const HostContext &context, const char *service, const char *what, JsonHandler handler,
                     Submit &&submit) {
   if (!handler) throw Error(MODKIT_E_INVALID_ARGUMENT, fmt::format("{}::{}: no handler", service, what));
   auto slot = std::make_unique<JsonSlot>(JsonSlot{context, std::move(handler), service, std::string(service) + " callback"});
   const modkit_status status = submit(static_cast<void *>(slot.get()));
   // MODKIT_OK is taken as accepted too, so that done never finds its slot freed.
   if (status != MODKIT_PENDING && status != MODKIT_OK)
      throw Error(status, fmt::format("{} {} was refused: {}", service, what, modkit_status_name(status)));
   slot.release(); // done frees it
}

#if MODKIT_SDK_HAS_COROUTINES
// What the handler hands the awaiting coroutine: a value, so that the Error is thrown on the
// coroutine's thread and no exception object is shared with the host's thread.
struct JsonAnswer {
   modkit_status status = MODKIT_OK;
   nlohmann::json result;
   std::string message;
};

// start(handler) begins the call (and may throw its refusal); the task resumes on the thread
// delivering the answer (or goes on without suspending when it came first) and returns the
// result, or throws Error(status, message). start is kept in the coroutine frame, so it holds
// copies of what it sends.
template <class Start>
task<nlohmann::json> await_json(Start start) {
   Completion<JsonAnswer> answered;
   start([answered](modkit_status status, nlohmann::json result, std::string message) mutable {
      answered.set_value(JsonAnswer{status, std::move(result), std::move(message)});
   });
   JsonAnswer a = co_await answered;
   if (a.status != MODKIT_OK)
      throw Error(a.status, a.message.empty() ? std::string(modkit_status_name(a.status)) : std::move(a.message));
   co_return std::move(a.result);
}
#endif

} // namespace modkit::detail
