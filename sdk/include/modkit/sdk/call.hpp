// modkit/sdk/call.hpp - the per-call handle a callback may take as its first parameter.
#pragma once

#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/host.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace modkit {

// One dispatch of a callback or web handler: its request ID, deadline and cancelled flag.
// Thread rule: valid only until the callback that received it returns (for a coroutine
// callback: until its coroutine ends); readable from any thread until then.
class Call {
public:
   Call(const modkit_host_api *api, modkit_call *call) noexcept : api_(api), call_(call) {}

   // The host's request ID, for logs and traces; may be empty.
   std::string_view request_id() const noexcept {
      return call_ ? to_view(api_->call_request_id(call_)) : std::string_view();
   }

   // The deadline on the monotonic clock (std::chrono::steady_clock, CLOCK_MONOTONIC on
   // Linux), or nullopt when the call has none.
   std::optional<std::chrono::steady_clock::time_point> deadline() const noexcept {
      const int64_t ns = call_ ? api_->call_deadline_ns(call_) : 0;
      if (ns == 0) return std::nullopt;
      return std::chrono::steady_clock::time_point(
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(ns)));
   }

   // True once the host has cancelled the call; a long callback should poll it.
   bool cancelled() const noexcept { return call_ != nullptr && api_->call_is_cancelled(call_); }

   // Throws Error(MODKIT_E_CANCELLED) once the host has cancelled the call.
   void throw_if_cancelled() const {
      if (cancelled()) throw Error(MODKIT_E_CANCELLED, "the host cancelled the call");
   }

   // True when the host accepts MODKIT_PENDING from the callback receiving this call (ABI 1.1):
   // the SDK then lets a coroutine callback suspend. False on a 1.0 host, for a call made the
   // 1.0 way, and once the callback has returned. Code that uses the raw protocol reads it
   // before returning MODKIT_PENDING.
   bool can_suspend() const noexcept {
      return call_ != nullptr && api_ != nullptr &&
             MODKIT_HAS_FIELD(api_, modkit_host_api, call_complete) &&
             api_->call_can_suspend != nullptr && api_->call_complete != nullptr &&
             api_->call_can_suspend(call_);
   }

   // Attaches an error to the answer this call gives (ABI 1.1), for a callback that denies:
   // errcode is a machine-readable code ("M_FORBIDDEN": [A-Z0-9_]+, at most 64 bytes), message
   // a sentence for the client, extra a JSON object of further fields ({"retry_after_ms": 500})
   // or null. A host that knows of it sends them with the denial, as Synapse does for a module
   // raising SynapseError; the callback's answer itself is unchanged. Returns the host's status,
   // never throws it: MODKIT_E_UNSUPPORTED when the host keeps no errors for this call (also on a
   // 1.0 host, whose table lacks call_set_error), MODKIT_E_INVALID_ARGUMENT for a malformed
   // errcode or an extra that is not an object. Richer answers are optional, so a module may
   // ignore the result. A later call replaces an earlier one; everything is copied.
   // [thread-safe]; before the callback answers (a suspended one: before its call completes)
   modkit_status set_error(std::string_view errcode, std::string_view message,
                           const nlohmann::json &extra = nullptr) const {
      if (call_ == nullptr || api_ == nullptr || !MODKIT_HAS_FIELD(api_, modkit_host_api, call_set_error) ||
          api_->call_set_error == nullptr)
         return MODKIT_E_UNSUPPORTED;
      if (!extra.is_null() && !extra.is_object()) return MODKIT_E_INVALID_ARGUMENT;
      // replace: invalid UTF-8 in a value becomes U+FFFD instead of an exception.
      const std::string extra_text =
         extra.is_null() ? std::string() : extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return api_->call_set_error(call_, to_modkit_str(errcode), to_modkit_str(message),
                                  extra.is_null() ? modkit_str{nullptr, 0} : to_modkit_str(extra_text));
   }

   // The host's table, for code that calls it directly.
   const modkit_host_api *api() const noexcept { return api_; }

   // The C handle, for code that calls the host table directly.
   modkit_call *get() const noexcept { return call_; }

private:
   const modkit_host_api *api_;
   modkit_call *call_;
};

} // namespace modkit
