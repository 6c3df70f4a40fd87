#include "run.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cli_test {

nlohmann::json Run::json() const {
   nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
   INFO("stdout: " << out);
   INFO("stderr: " << err);
   REQUIRE_FALSE(doc.is_discarded());
   return doc;
}

Run program(const std::vector<std::string> &argv, const Env &env) {
   int out[2], err[2];
   REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
   REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
   std::fflush(nullptr);
   const auto started = std::chrono::steady_clock::now();
   const pid_t pid = ::fork();
   REQUIRE(pid >= 0);
   if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      for (const auto &[name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
      std::vector<char *> args;
      for (const std::string &a : argv) args.push_back(const_cast<char *>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
   }
   ::close(out[1]);
   ::close(err[1]);
   Run run;
   pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
   std::string *into[2] = {&run.out, &run.err};
   while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      for (int i = 0; i < 2; ++i) {
         if (fds[i].fd < 0 || fds[i].revents == 0) continue;
         char buffer[8192];
         const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
         if (n > 0) {
            into[i]->append(buffer, size_t(n));
         } else if (n == 0 || errno != EINTR) {
            ::close(fds[i].fd);
            fds[i].fd = -1;
         }
      }
   }
   int status = 0;
   while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
   }
   run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
   run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
   return run;
}

Run run_modkit(const std::vector<std::string> &args, const Env &env) {
   std::vector<std::string> argv{MODKIT_CLI};
   argv.insert(argv.end(), args.begin(), args.end());
   return program(argv, env);
}

std::string work_dir(const std::string &name) {
   const std::filesystem::path dir = std::filesystem::path(CLI_WORK_DIR) / name;
   std::filesystem::remove_all(dir);
   std::filesystem::create_directories(dir);
   return dir.string();
}

std::string read_file(const std::string &path) {
   std::ifstream in(path, std::ios::binary);
   std::ostringstream text;
   text << in.rdbuf();
   return text.str();
}

void write_file(const std::string &path, const std::string &text) {
   std::ofstream out(path, std::ios::binary | std::ios::trunc);
   out << text;
   REQUIRE(out.good());
}

bool contains(const std::string &haystack, const std::string &needle) { return haystack.find(needle) != std::string::npos; }

std::string spam_c() {
#ifdef CLI_SPAM_C
   return CLI_SPAM_C;
#else
   return "";
#endif
}

std::string probe_a() {
#ifdef CLI_PROBE_A
   return CLI_PROBE_A;
#else
   return "";
#endif
}

std::string cli_fixture(const std::string &name) { return std::string(CLI_FIXTURE_DIR) + "/" + name + ".so"; }

} // namespace cli_test
