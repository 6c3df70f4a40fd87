// modkit-chat-host - a small Matrix-like chat server whose behaviour modules change, loaded and
// called as Synapse loads and calls its modules.
//
//   modkit-chat-host --config FILE [--listen ADDR:PORT]   serve until SIGINT/SIGTERM; SIGHUP reloads
//   modkit-chat-host --config FILE --scenario FILE        replay requests, print a transcript
#include "app.hpp"
#include "http_server.hpp"
#include "scenario.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <thread>

namespace {

void usage() {
   std::fprintf(stderr,
                "usage: modkit-chat-host --config FILE [--scenario FILE] [--listen ADDR:PORT]\n"
                "  --config FILE      the host config (server_name, listen, admins, modkit: {module_path, modules})\n"
                "  --scenario FILE    replay a JSON list of requests and print a transcript, then exit\n"
                "                     (exit 1 when a step's \"expect\" does not hold)\n"
                "  --listen ADDR:PORT serve here instead of the config's \"listen\" (default 127.0.0.1:8008)\n");
}

void log_line(modkit_log_level level, const std::string &module, const std::string &line) {
   static const char *const levels[] = {"debug", "info", "warning", "error"};
   if (level < MODKIT_LOG_INFO) return;
   std::fprintf(stderr, "%-7s [%s] %s\n", levels[level > 3 ? 3 : level], module.empty() ? "host" : module.c_str(),
                line.c_str());
}

// Serves until SIGINT or SIGTERM; SIGHUP reloads every module, one by one.
int serve(chat::App &app, const std::string &listen) {
   std::string host;
   int port = 0;
   if (!chat::split_listen(listen, host, port)) {
      std::fprintf(stderr, "modkit-chat-host: --listen: expected ADDR:PORT, got \"%s\"\n", listen.c_str());
      return 2;
   }
   chat::HttpServer server(app);
   // The admin listener: /metrics and the admin API, on loopback only (host_config checks it).
   std::unique_ptr<chat::HttpServer> admin;
   std::string admin_host;
   int admin_port = 0;
   try {
      port = server.bind(host, port);
      if (!app.config().admin_listen.empty() && chat::split_listen(app.config().admin_listen, admin_host, admin_port)) {
         admin = std::make_unique<chat::HttpServer>(app, true);
         admin_port = admin->bind(admin_host, admin_port);
      }
   } catch (const std::exception &e) {
      std::fprintf(stderr, "modkit-chat-host: %s\n", e.what());
      return 1;
   }
   std::fprintf(stderr, "modkit-chat-host: %s serving on http://%s:%d\n", app.config().server_name.c_str(),
                host.c_str(), port);
   if (admin) std::fprintf(stderr, "modkit-chat-host: admin API and /metrics on http://%s:%d\n", admin_host.c_str(), admin_port);
   std::thread worker([&] { server.run(); });
   std::thread admin_worker([&] {
      if (admin) admin->run();
   });
   sigset_t signals;
   sigemptyset(&signals);
   sigaddset(&signals, SIGINT);
   sigaddset(&signals, SIGTERM);
   sigaddset(&signals, SIGHUP);
   for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig != SIGHUP) break;
      for (size_t i = 0; i < app.modules().module_count(); ++i) {
         const std::string name = app.modules().module_name(static_cast<uint32_t>(i));
         const auto errors = app.modules().reload(name);
         if (errors.empty()) app.log(MODKIT_LOG_INFO, "SIGHUP: reloaded module '" + name + "'");
         for (const auto &e : errors) app.log(MODKIT_LOG_ERROR, "SIGHUP: reload of '" + name + "' failed: " + e);
      }
   }
   std::fprintf(stderr, "modkit-chat-host: shutting down\n");
   server.stop();
   if (admin) admin->stop();
   worker.join();
   admin_worker.join();
   return 0; // the App's destructor unloads the modules in reverse order
}

} // namespace

int main(int argc, char **argv) {
   std::string config_path, scenario_path, listen;
   for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&](std::string &into) {
         if (i + 1 >= argc) {
            std::fprintf(stderr, "modkit-chat-host: %s needs a value\n", arg.c_str());
            return false;
         }
         into = argv[++i];
         return true;
      };
      bool ok = true;
      if (arg == "--config") ok = value(config_path);
      else if (arg == "--scenario") ok = value(scenario_path);
      else if (arg == "--listen") ok = value(listen);
      else if (arg == "--help" || arg == "-h") {
         usage();
         return 0;
      } else {
         std::fprintf(stderr, "modkit-chat-host: unknown argument %s\n", arg.c_str());
         ok = false;
      }
      if (!ok) {
         usage();
         return 2;
      }
   }
   if (config_path.empty()) {
      usage();
      return 2;
   }
   // Signals go to the main thread's sigwait only: every thread started later inherits the mask.
   sigset_t signals;
   sigemptyset(&signals);
   sigaddset(&signals, SIGINT);
   sigaddset(&signals, SIGTERM);
   sigaddset(&signals, SIGHUP);
   if (scenario_path.empty()) pthread_sigmask(SIG_BLOCK, &signals, nullptr);
   std::signal(SIGPIPE, SIG_IGN);

   try {
      chat::HostConfig config = chat::load_host_config(config_path);
      nlohmann::json scenario;
      if (!scenario_path.empty()) scenario = chat::load_scenario(scenario_path); // refuse a bad file before loading modules
      chat::App app(std::move(config), log_line);
      if (scenario_path.empty()) return serve(app, listen.empty() ? app.config().listen : listen);
      const chat::ScenarioResult result = chat::run_scenario(app, scenario, std::cout);
      std::cout.flush();
      return result.failures == 0 ? 0 : 1;
   } catch (const chat::ConfigError &e) {
      std::fprintf(stderr, "modkit-chat-host: %s: invalid config:\n", config_path.c_str());
      for (const auto &line : e.errors()) std::fprintf(stderr, "  %s\n", line.c_str());
      return 1;
   } catch (const chat::StartupError &e) {
      std::fprintf(stderr, "modkit-chat-host: startup refused, %zu error(s):\n", e.errors().size());
      for (const auto &line : e.errors()) std::fprintf(stderr, "  %s\n", line.c_str());
      return 1;
   } catch (const chat::ScenarioError &e) {
      std::fprintf(stderr, "modkit-chat-host: scenario: %s\n", e.what());
      return 2;
   } catch (const std::exception &e) {
      std::fprintf(stderr, "modkit-chat-host: %s\n", e.what());
      return 1;
   }
}
