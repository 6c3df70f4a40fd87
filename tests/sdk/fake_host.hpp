// A host written for the SDK's tests: every modkit_host_api function, recording what modules do,
// so the SDK's trampolines and thunks are driven without the loader.
#pragma once

#include <modkit/modkit.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

// The opaque host types, as this fake host defines them.
struct modkit_host {
   class FakeHost *owner;
};
struct modkit_buffer {
   std::string data;
   bool full = false; // when true, buffer_append fails with MODKIT_E_NO_MEMORY
};
struct modkit_error_sink;
struct modkit_http_response {
   int32_t status = 200;
   std::vector<std::pair<std::string, std::string>> headers;
   std::string body;
};
// The per-call handle, with the completion protocol of ABI 1.1 under the loader's state rules:
// arm() makes the call suspendable (ARMED); the callback's return goes through returned(), as
// a host passes it through modkit_loader_call_returned. ARMED -> SUSPENDED (the callback
// returned MODKIT_PENDING) -> IDLE (call_complete), or ARMED -> COMPLETED (call_complete before
// the return) -> IDLE (returned() gives the completion's status). A completion in any other
// state is refused and counted as a misuse.
struct modkit_call {
   enum : uint32_t { idle = 0, armed = 1, suspended = 2, completed = 3 };

   std::string request_id;
   int64_t deadline_ns = 0;
   std::atomic<bool> cancelled{false};

   std::atomic<bool> suspendable{false}; // armed at least once: call_complete is allowed
   std::atomic<uint32_t> state{idle};
   std::atomic<modkit_status> early_status{MODKIT_OK}; // a completion that beat the return
   std::atomic<int> completions{0};     // accepted call_complete calls
   std::atomic<int> misuses{0};         // refused ones: double, unsuspended, PENDING as status
   std::atomic<int> early_completions{0}; // returned() found the call completed already

   // Makes the call accept MODKIT_PENDING from the next callback. [host thread]
   void arm() {
      suspendable = true;
      state = armed;
   }
   // Takes what the callback returned: MODKIT_PENDING when it is now suspended, the early
   // completion's status, or status itself. [host thread, once per armed invocation]
   modkit_status returned(modkit_status status);
   // Waits until a suspended call is completed; its status, or nullopt after timeout.
   std::optional<modkit_status> wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
   // The status a suspended call was completed with, if it was.
   std::optional<modkit_status> final_status();

   // Used by FakeHost::call_complete.
   void finish(modkit_status status);

private:
   std::mutex mutex_;
   std::condition_variable done_;
   std::optional<modkit_status> final_;
};

// True when a function pointer is set; doctest cannot print function pointers itself.
template <class F>
bool is_set(F *f) {
   return f != nullptr;
}

struct ReportedError {
   modkit_status code;
   std::string pointer;
   std::string message;
};

struct modkit_error_sink {
   std::vector<ReportedError> errors;
};

struct LogLine {
   modkit_log_level level;
   std::string message;
};

struct Registration {
   std::string category;
   uint16_t major, minor;
   std::vector<unsigned char> callbacks; // a copy of the module's struct, as a host keeps it
   void *user_data;

   template <class T>
   T as() const {
      T t{};
      std::copy(callbacks.begin(), callbacks.begin() + std::min(callbacks.size(), sizeof t),
                reinterpret_cast<unsigned char *>(&t));
      return t;
   }
};

struct WebRegistration {
   std::string path;
   modkit_web_handler handler;
   void *user_data;
};

struct CacheRegistration {
   std::string name;
   modkit_cache_invalidate_fn invalidate;
   void *user_data;
};

class FakeHost {
public:
   FakeHost();
   FakeHost(const FakeHost &) = delete;
   FakeHost &operator=(const FakeHost &) = delete;

   const modkit_host_api *api() const { return &api_; }
   modkit_host *host() { return &handle_; }

   // Registration is accepted only between begin_init and end_init, as the loader does; a
   // failed init discards what it registered.
   void begin_init() { in_init_ = true; pending_mark_ = marks(); }
   void end_init(bool succeeded);

   // What modules may register and what the host offers.
   std::set<std::string> categories{"modkit.spam_checker"};
   std::set<std::string> capabilities{"modkit.spam_checker/1", "modkit.web_resources/1"};
   std::map<std::string, const void *> extensions;
   std::string module_name = "module"; // the name invalidate_cache answers to besides NULL
   std::string refused_web_prefix = "/_reserved/"; // web paths under it are MODKIT_E_DENIED

   std::vector<Registration> registrations;
   std::vector<WebRegistration> web_resources;
   std::vector<CacheRegistration> caches;

   std::vector<LogLine> log_lines() const;
   bool logged(modkit_log_level level, const std::string &fragment) const;

   const Registration *find_registration(const std::string &category) const;
   const WebRegistration *find_web(const std::string &path) const;

   // Calls a registered web handler; returns its status and fills response.
   modkit_status serve(const std::string &path, const std::string &method, const std::string &query,
                       const std::string &headers_json, const std::string &body,
                       modkit_http_response &response, modkit_call *call = nullptr);

private:
   struct Marks {
      size_t registrations, web, caches;
   };
   Marks marks() const { return {registrations.size(), web_resources.size(), caches.size()}; }

   static void report_error(modkit_error_sink *, modkit_status, const char *, const char *);
   static modkit_status buffer_append(modkit_buffer *, const char *, size_t);
   static void log(modkit_host *, modkit_log_level, modkit_str);
   static modkit_str call_request_id(const modkit_call *);
   static int64_t call_deadline_ns(const modkit_call *);
   static bool call_is_cancelled(const modkit_call *);
   static bool call_can_suspend(const modkit_call *);
   static modkit_status call_complete(modkit_call *, modkit_status);
   static modkit_status register_callbacks(modkit_host *, const char *, uint16_t, uint16_t,
                                           const void *, void *);
   static modkit_status register_web_resource(modkit_host *, const char *, modkit_web_handler, void *);
   static modkit_status register_cached_function(modkit_host *, const char *,
                                                 modkit_cache_invalidate_fn, void *);
   static modkit_status invalidate_cache(modkit_host *, const char *, const char *, const modkit_str *);
   static void response_set_status(modkit_http_response *, int32_t);
   static modkit_status response_add_header(modkit_http_response *, modkit_str, modkit_str);
   static modkit_status response_append(modkit_http_response *, const char *, size_t);
   static bool has_capability(modkit_host *, const char *);
   static const void *get_extension(modkit_host *, const char *);

   modkit_host_api api_{};
   modkit_host handle_{this};
   bool in_init_ = false;
   Marks pending_mark_{};
   mutable std::mutex log_mutex_;
   std::vector<LogLine> log_;
};

// A string as the ABI's modkit_str, borrowing s (which must outlive its use).
inline modkit_str str(const std::string &s) { return {s.data(), s.size()}; }
inline modkit_str str(const char *literal) { return modkit_str_from_cstr(literal); } // no temporary
// And back: a copy of what s points to (empty for NULL).
inline std::string str(modkit_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }
