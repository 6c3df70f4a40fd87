// child.hpp - runs a piece of work in a forked child process under a time and memory limit, and
// reports how it ended, so that whatever the work does (crash, abort, exit, hang, exhaust
// memory) cannot take the tool down. The child reports through a pipe of JSON lines; what it
// writes to stdout and stderr is captured separately, so it cannot corrupt the report.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace modkit::cli {

// The child's side of the report pipe. Thread-safe: each event is one write of one line.
class Reporter {
public:
   explicit Reporter(int fd) : fd_(fd) {}
   void send(const nlohmann::json &event) noexcept;

private:
   int fd_;
   std::mutex mutex_;
};

struct ChildLimits {
   double timeout_seconds = 10; // the parent kills the child (SIGKILL) after this
   unsigned memory_mib = 2048;  // RLIMIT_AS in the child; 0: none
};

struct ChildResult {
   enum class End {
      finished,      // the work returned and the child reported "done"
      exited,        // the child called exit() (or _exit) before it was done: exit_code
      signaled,      // killed by a signal it raised or received: signal
      timed_out,     // still running at the deadline; the parent killed it
      out_of_memory, // an allocation failed under the memory limit
   };
   End end = End::finished;
   int exit_code = 0;
   int signal = 0;
   double seconds = 0;
   std::vector<nlohmann::json> events; // every line the child reported, in order
   std::string output;                 // the child's stdout and stderr, at most output_limit bytes
   bool output_truncated = false;
   bool memory_limited = false;        // the memory limit was applied
   static constexpr size_t output_limit = 64 * 1024;
};

// Forks; the child applies the limits, runs work(reporter), reports {"event": "done"} and ends
// with _exit(0). stdio is flushed before the fork so that nothing buffered is written twice.
// Throws UsageError when the pipes or the process cannot be created.
ChildResult run_in_child(const ChildLimits &limits, const std::function<void(Reporter &)> &work);

// "SIGSEGV", "SIGABRT", ...; "signal <n>" for others.
std::string signal_name(int signal);

} // namespace modkit::cli
