// modkit/sdk/error.hpp - the exceptions a module throws to report a failure.
//
// Every trampoline and callback thunk of the SDK catches what a module throws and turns it into
// a status the host understands (see detail/barrier.hpp); nothing crosses the boundary.
#pragma once

#include <modkit/status.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace modkit {

// A failure with a modkit status code, e.g. Error(MODKIT_E_CANCELLED, "gave up").
// Thread rule: an immutable value; safe to share between threads.
class Error : public std::runtime_error {
public:
   Error(modkit_status code, const std::string &message)
      : std::runtime_error(message), code_(code) {}

   modkit_status code() const noexcept { return code_; }

private:
   modkit_status code_;
};

// A refused configuration. json_pointer (RFC 6901) locates the offending value relative to
// the module's own config ("" for the whole config); the host prefixes the module's position.
// Thread rule: an immutable value; safe to share between threads.
class ConfigError : public Error {
public:
   explicit ConfigError(const std::string &message, std::string json_pointer = {})
      : Error(MODKIT_E_CONFIG, message), pointer_(std::move(json_pointer)) {}

   const std::string &json_pointer() const noexcept { return pointer_; }

private:
   std::string pointer_;
};

} // namespace modkit
