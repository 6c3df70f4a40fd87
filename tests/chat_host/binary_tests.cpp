// binary_tests.cpp - modkit-chat-host itself: startup refusal and exit codes, the scenario mode,
// and serving until SIGTERM with a SIGHUP reload in between. Every wait is bounded.
#include "support.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

using json = nlohmann::json;
using test::probe;

namespace {

struct TempDir {
   std::filesystem::path path;
   TempDir() {
      char tmpl[] = "/tmp/chat-host-test-XXXXXX";
      path = ::mkdtemp(tmpl);
   }
   ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
   }
   std::string write(const std::string &name, const json &content) const {
      const auto file = path / name;
      std::ofstream(file) << content.dump(2);
      return file.string();
   }
};

json config(std::initializer_list<json> modules) {
   return {{"server_name", "example.org"}, {"modkit", {{"module_path", {test::fixture_dir()}}, {"modules", json(std::vector<json>(modules))}}}};
}

// Runs the binary with args, stdout and stderr together; gives up after timeout_s.
struct Run {
   int status = -1;
   std::string output;
};
Run run(const std::vector<std::string> &args, int timeout_s = 30) {
   int fds[2];
   REQUIRE(pipe(fds) == 0);
   posix_spawn_file_actions_t actions;
   posix_spawn_file_actions_init(&actions);
   posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
   posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
   posix_spawn_file_actions_addclose(&actions, fds[0]);
   std::vector<std::string> all = {CHAT_HOST_BINARY};
   all.insert(all.end(), args.begin(), args.end());
   std::vector<char *> argv;
   for (auto &a : all) argv.push_back(a.data());
   argv.push_back(nullptr);
   pid_t pid = 0;
   REQUIRE(posix_spawn(&pid, CHAT_HOST_BINARY, &actions, nullptr, argv.data(), environ) == 0);
   posix_spawn_file_actions_destroy(&actions);
   close(fds[1]);
   Run r;
   const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
   char buf[4096];
   for (;;) {
      pollfd p{fds[0], POLLIN, 0};
      if (std::chrono::steady_clock::now() > deadline) {
         kill(pid, SIGKILL);
         break;
      }
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      r.output.append(buf, static_cast<size_t>(n));
   }
   close(fds[0]);
   int wstatus = 0;
   waitpid(pid, &wstatus, 0);
   r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
   return r;
}

} // namespace

TEST_CASE("modkit-chat-host refuses to start on a broken config, listing every error, and exits 1") {
   TempDir dir;
   const std::string file = dir.write("broken.json", config({probe("chat_a", "a"), {{"module", "missing_module"}},
                                                             {{"module", "chat_b"}, {"config", {{"tag", 3}}}}}));
   const Run r = run({"--config", file, "--scenario", dir.write("s.json", json::array())});
   CHECK(r.status == 1);
   CHECK(r.output.find("startup refused, 2 error(s)") != std::string::npos);
   CHECK(r.output.find("/modkit/modules/1") != std::string::npos);
   CHECK(r.output.find("missing_module") != std::string::npos);
   CHECK(r.output.find("/modkit/modules/2/config/tag") != std::string::npos);
}

TEST_CASE("modkit-chat-host: usage, config and scenario errors have their own exit codes") {
   TempDir dir;
   CHECK(run({}).status == 2);
   CHECK(run({"--config"}).status == 2);
   const Run bad_config = run({"--config", dir.write("c.json", {{"modkit", {{"modules", 5}}}, {"listen", "x"}})});
   CHECK(bad_config.status == 1);
   CHECK(bad_config.output.find("/listen") != std::string::npos);
   const std::string good = dir.write("good.json", config({probe("chat_a", "a")}));
   const Run bad_scenario = run({"--config", good, "--scenario", dir.write("s.json", json::array({{{"path", 3}}}))});
   CHECK(bad_scenario.status == 2);
   CHECK(bad_scenario.output.find("step 1: \"path\" must be an absolute path") != std::string::npos);
}

TEST_CASE("modkit-chat-host --scenario exits 0 when every expectation holds, 1 otherwise") {
   TempDir dir;
   const std::string file = dir.write("c.json", config({probe("chat_a", "a")}));
   const json ok = json::array({{{"path", "/_matrix/client/versions"}, {"expect", {{"status", 200}}}}});
   const Run passed = run({"--config", file, "--scenario", dir.write("ok.json", ok)});
   CHECK(passed.status == 0);
   CHECK(passed.output.find("[1] GET /_matrix/client/versions") != std::string::npos);
   const json wrong = json::array({{{"path", "/_matrix/client/versions"}, {"expect", {{"status", 404}}}}});
   CHECK(run({"--config", file, "--scenario", dir.write("wrong.json", wrong)}).status == 1);
}

TEST_CASE("modkit-chat-host serves until SIGTERM, reloads on SIGHUP, and shuts down cleanly") {
   TempDir dir;
   const std::string file = dir.write("c.json", config({probe("chat_a", "a"), probe("chat_b", "b")}));
   int fds[2];
   REQUIRE(pipe(fds) == 0);
   posix_spawn_file_actions_t actions;
   posix_spawn_file_actions_init(&actions);
   posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
   posix_spawn_file_actions_addclose(&actions, fds[0]);
   std::vector<std::string> args = {CHAT_HOST_BINARY, "--config", file, "--listen", "127.0.0.1:0"};
   std::vector<char *> argv;
   for (auto &a : args) argv.push_back(a.data());
   argv.push_back(nullptr);
   pid_t pid = 0;
   REQUIRE(posix_spawn(&pid, CHAT_HOST_BINARY, &actions, nullptr, argv.data(), environ) == 0);
   posix_spawn_file_actions_destroy(&actions);
   close(fds[1]);
   std::string output;
   auto wait_for = [&](const std::string &text) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      char buf[1024];
      while (output.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
         pollfd p{fds[0], POLLIN, 0};
         if (poll(&p, 1, 100) <= 0) continue;
         const ssize_t n = read(fds[0], buf, sizeof buf);
         if (n <= 0) break;
         output.append(buf, static_cast<size_t>(n));
      }
      return output.find(text) != std::string::npos;
   };
   CHECK(wait_for("serving on http://127.0.0.1:"));
   kill(pid, SIGHUP);
   CHECK(wait_for("SIGHUP: reloaded module 'chat_b'"));
   kill(pid, SIGTERM);
   CHECK(wait_for("shutting down"));
   int wstatus = 0;
   for (int i = 0; i < 200 && waitpid(pid, &wstatus, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
   if (waitpid(pid, &wstatus, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      FAIL("the host did not exit after SIGTERM");
   }
   close(fds[0]);
   CHECK(WIFEXITED(wstatus));
   CHECK(WEXITSTATUS(wstatus) == 0);
   CHECK(output.find("SIGHUP: reloaded module 'chat_a'") != std::string::npos);
}

TEST_CASE("modules are unloaded in reverse config order") {
   test::Host host({probe("chat_a", "a"), probe("chat_b", "b"), probe("chat_c", "c")});
   host.app.reset();
   CHECK(host.calls("deinit") == std::vector<std::string>{"c:deinit", "b:deinit", "a:deinit"});
}
