// modkit/sdk/call.hpp - the per-call handle a callback may take as its first parameter.
#pragma once

#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>

#include <modkit/host.h>

#include <chrono>
#include <optional>
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

   // The host's table, for code that calls it directly.
   const modkit_host_api *api() const noexcept { return api_; }

   // The C handle, for code that calls the host table directly.
   modkit_call *get() const noexcept { return call_; }

private:
   const modkit_host_api *api_;
   modkit_call *call_;
};

} // namespace modkit
