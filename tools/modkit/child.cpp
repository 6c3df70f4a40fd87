// The fork, the limits and the watch. Pitfalls this avoids (research/abi-tooling-security.md
// section 2.6): stdio is flushed before fork, or a child calling exit() would print the parent's
// buffered lines a second time; the child ends with _exit, never exit; a child that exits on its
// own before reporting "done" has failed, whatever its exit code.
#include "child.hpp"

#include "output.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#   define MODKIT_CLI_ASAN 1
#elif defined(__has_feature)
#   if __has_feature(address_sanitizer)
#      define MODKIT_CLI_ASAN 1
#   endif
#endif

namespace modkit::cli {
namespace {

// The child's exit status after an allocation failed; the parent also needs the event.
constexpr int out_of_memory_exit = 86;
int report_fd_for_new_handler = -1;

void write_all(int fd, const char *data, size_t size) noexcept {
   while (size > 0) {
      const ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      data += n;
      size -= size_t(n);
   }
}

// operator new's last resort in the child: the address space limit was hit. Nothing may
// allocate here, so the line is fixed text.
void out_of_memory() {
   static const char line[] = "{\"event\":\"out_of_memory\"}\n";
   write_all(report_fd_for_new_handler, line, sizeof line - 1);
   _exit(out_of_memory_exit);
}

[[noreturn]] void child_main(const ChildLimits &limits, int report_fd, int output_fd, pid_t parent,
                             const std::function<void(Reporter &)> &work) {
   ::setpgid(0, 0); // its own group, so the parent can kill whatever it starts
   ::prctl(PR_SET_PDEATHSIG, SIGKILL);
   if (::getppid() != parent) _exit(127); // the parent died before prctl took effect
   const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
   if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
   ::dup2(output_fd, STDOUT_FILENO);
   ::dup2(output_fd, STDERR_FILENO);
   // A backstop for a parent that cannot kill us in time; the parent's deadline comes first.
   ::alarm(static_cast<unsigned>(std::ceil(limits.timeout_seconds)) + 2);
   if (limits.memory_mib > 0) {
      const rlim_t bytes = rlim_t(limits.memory_mib) << 20;
      const rlimit limit{bytes, bytes};
      ::setrlimit(RLIMIT_AS, &limit);
   }
   report_fd_for_new_handler = report_fd;
   std::set_new_handler(out_of_memory);
   Reporter reporter(report_fd);
   try {
      work(reporter);
   } catch (const std::exception &e) {
      reporter.send({{"event", "error"}, {"message", e.what()}});
   } catch (...) {
      reporter.send({{"event", "error"}, {"message", "an unknown exception"}});
   }
   reporter.send({{"event", "done"}});
   _exit(0);
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads what is available; false once the pipe is at end of file.
bool drain(int fd, std::string &into, size_t limit, bool *truncated) {
   char buffer[16384];
   for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK; // nothing more for now
      if (n == 0) return false;
      const size_t room = into.size() < limit ? limit - into.size() : 0;
      into.append(buffer, std::min(room, size_t(n)));
      if (truncated != nullptr && size_t(n) > room) *truncated = true;
   }
}

std::vector<nlohmann::json> parse_events(const std::string &text) {
   std::vector<nlohmann::json> events;
   size_t start = 0;
   while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) break; // a line cut short by the child's death
      nlohmann::json event = nlohmann::json::parse(text.begin() + long(start), text.begin() + long(end), nullptr, false);
      if (!event.is_discarded() && event.is_object()) events.push_back(std::move(event));
      start = end + 1;
   }
   return events;
}

bool has_event(const std::vector<nlohmann::json> &events, const char *name) {
   for (const auto &e : events) {
      if (e.value("event", "") == name) return true;
   }
   return false;
}

} // namespace

void Reporter::send(const nlohmann::json &event) noexcept {
   try {
      const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::lock_guard<std::mutex> lock(mutex_);
      write_all(fd_, line.data(), line.size());
   } catch (...) {
      // Out of memory while reporting: the parent sees the child end without "done".
   }
}

ChildResult run_in_child(const ChildLimits &limits, const std::function<void(Reporter &)> &work) {
   int report[2], output[2];
   if (::pipe2(report, O_CLOEXEC) != 0) throw UsageError(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
   if (::pipe2(output, O_CLOEXEC) != 0) {
      const int e = errno;
      ::close(report[0]);
      ::close(report[1]);
      throw UsageError(fmt::format("cannot create a pipe: {}", std::strerror(e)));
   }
   ChildLimits applied = limits;
#ifdef MODKIT_CLI_ASAN
   applied.memory_mib = 0; // AddressSanitizer reserves terabytes of address space
#endif
   std::fflush(nullptr);
   const pid_t parent = ::getpid();
   const auto started = std::chrono::steady_clock::now();
   const pid_t pid = ::fork();
   if (pid < 0) {
      const int e = errno;
      for (int fd : {report[0], report[1], output[0], output[1]}) ::close(fd);
      throw UsageError(fmt::format("cannot fork: {}", std::strerror(e)));
   }
   if (pid == 0) {
      ::close(report[0]);
      ::close(output[0]);
      child_main(applied, report[1], output[1], parent, work);
   }
   ::setpgid(pid, pid); // also done by the child; whichever runs first wins the race
   ::close(report[1]);
   ::close(output[1]);
   set_nonblocking(report[0]);
   set_nonblocking(output[0]);

   ChildResult result;
   result.memory_limited = applied.memory_mib > 0;
   std::string report_text;
   const auto deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(limits.timeout_seconds));
   pollfd fds[2] = {{report[0], POLLIN, 0}, {output[0], POLLIN, 0}};
   int status = 0;
   bool reaped = false, timed_out = false;
   while (!reaped) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
         ::kill(-pid, SIGKILL);
         ::kill(pid, SIGKILL);
         timed_out = true;
         while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
         }
         break;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      // Short slices: a child that exits while its pipes are held open by a grandchild must
      // still be noticed.
      ::poll(fds, 2, int(std::min<long long>(left + 1, 50)));
      if (fds[0].fd >= 0 && !drain(fds[0].fd, report_text, size_t(64) << 20, nullptr)) fds[0].fd = -1;
      if (fds[1].fd >= 0 && !drain(fds[1].fd, result.output, ChildResult::output_limit, &result.output_truncated))
         fds[1].fd = -1;
      const pid_t done = ::waitpid(pid, &status, WNOHANG);
      reaped = done == pid;
   }
   // What the child wrote before it ended; a grandchild may keep the pipes open, so do not wait.
   drain(report[0], report_text, size_t(64) << 20, nullptr);
   drain(output[0], result.output, ChildResult::output_limit, &result.output_truncated);
   ::kill(-pid, SIGKILL); // anything the module started in the child's group
   ::close(report[0]);
   ::close(output[0]);
   result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
   result.events = parse_events(report_text);

   if (timed_out || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)) {
      result.end = ChildResult::End::timed_out;
   } else if (WIFSIGNALED(status)) {
      result.end = ChildResult::End::signaled;
      result.signal = WTERMSIG(status);
   } else if (WIFEXITED(status) && WEXITSTATUS(status) == out_of_memory_exit && has_event(result.events, "out_of_memory")) {
      result.end = ChildResult::End::out_of_memory;
   } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && has_event(result.events, "done")) {
      result.end = ChildResult::End::finished;
   } else {
      result.end = ChildResult::End::exited;
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
   }
   return result;
}

std::string signal_name(int signal) {
   static const struct {
      int number;
      const char *name;
   } names[] = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
      {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
      {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
      {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"},
      {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
   };
   for (const auto &n : names) {
      if (n.number == signal) return n.name;
   }
   return "signal " + std::to_string(signal);
}

} // namespace modkit::cli
