// modkit/sdk/detail/barrier.hpp - the exception barrier: C++ failures become modkit statuses.
//
// Every function the host calls (trampolines, callback thunks, web handlers, cache
// invalidation) runs its body inside barrier(), so no exception crosses the boundary and
// nothing reaches std::terminate. What was thrown decides the status:
//   modkit::ConfigError -> MODKIT_E_CONFIG, with its JSON pointer
//   modkit::Error       -> its code
//   std::bad_alloc      -> MODKIT_E_NO_MEMORY
//   anything else       -> MODKIT_E_INTERNAL, with what() when there is one
#pragma once

#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/error.hpp>

#include <fmt/format.h>

#include <exception>
#include <new>
#include <utility>

namespace modkit::detail {

// Calls body() and returns MODKIT_OK, or hands the translated failure to
// sink(code, json_pointer, message) and returns its code. sink must not throw; the strings it
// receives are valid only during the call. Messages are passed as what() returns them, so
// reporting an out-of-memory failure does not itself allocate.
template <class Body, class Sink>
modkit_status barrier(Body &&body, Sink &&sink) noexcept {
   try {
      std::forward<Body>(body)();
      return MODKIT_OK;
   } catch (const ConfigError &e) {
      sink(MODKIT_E_CONFIG, e.json_pointer().c_str(), e.what());
      return MODKIT_E_CONFIG;
   } catch (const Error &e) {
      // A module that throws Error(MODKIT_OK, ...) still failed.
      const modkit_status code = e.code() == MODKIT_OK ? MODKIT_E_INTERNAL : e.code();
      sink(code, "", e.what());
      return code;
   } catch (const std::bad_alloc &) {
      sink(MODKIT_E_NO_MEMORY, "", "out of memory");
      return MODKIT_E_NO_MEMORY;
   } catch (const std::exception &e) {
      sink(MODKIT_E_INTERNAL, "", e.what());
      return MODKIT_E_INTERNAL;
   } catch (...) {
      sink(MODKIT_E_INTERNAL, "", "unknown exception (not derived from std::exception)");
      return MODKIT_E_INTERNAL;
   }
}

// A sink that records the failure in the host's error sink (parse_config and init).
struct ReportToSink {
   const modkit_host_api *api;
   modkit_error_sink *sink;

   void operator()(modkit_status code, const char *pointer, const char *message) const noexcept {
      if (api != nullptr && sink != nullptr) api->report_error(sink, code, pointer, message);
   }
};

// A sink that logs the failure through the host, prefixed with where it happened (callbacks,
// web handlers, deinit: calls that have no error sink of their own).
struct LogToHost {
   const HostContext *context;
   const char *where;

   void operator()(modkit_status code, const char *pointer, const char *message) const noexcept {
      if (context == nullptr || context->api == nullptr) return;
      // A fixed buffer: formatting must not allocate while reporting an allocation failure.
      char line[512];
      try {
         const auto result =
            fmt::format_to_n(line, sizeof line, "{} failed ({}){}{}: {}", where,
                             modkit_status_name(code), *pointer ? " at " : "", pointer, message);
         const size_t size = result.size < sizeof line ? result.size : sizeof line;
         context->api->log(context->host, MODKIT_LOG_ERROR, modkit_str{line, size});
      } catch (...) {
         context->api->log(context->host, MODKIT_LOG_ERROR, modkit_str_from_cstr(message));
      }
   }
};

} // namespace modkit::detail
