// http_server.hpp - serves the router (built-in endpoints, module web resources, /metrics) over
// HTTP/1.1: one event loop (Boost.Asio) reads and writes every connection and runs each request
// where it was read; a request that waits on a module passes the loop to another thread
// (loop_threads.hpp). docs/chat-host.md says why it is built so.
#pragma once

#include <memory>
#include <string>

namespace chat {

class App;

class HttpServer {
public:
   // admin_listener: requests are marked as arriving on the loopback admin listener
   // (host_config: admin_listen), where /metrics needs no token.
   explicit HttpServer(App &app, bool admin_listener = false);
   ~HttpServer();
   HttpServer(const HttpServer &) = delete;
   HttpServer &operator=(const HttpServer &) = delete;

   // Binds host:port; port 0 picks a free one. Returns the bound port; throws on failure.
   int bind(const std::string &host, int port);
   // Serves until stop(), on the calling thread and up to limits.worker_threads more; returns
   // false if the server failed.
   bool run();
   // Stops run() from another thread; requests already running finish first (the destructor
   // waits for them).
   void stop();

   // Threads that have run the loop so far: at most limits.worker_threads + 1. [any thread]
   size_t threads() const;

private:
   struct Impl;
   std::unique_ptr<Impl> impl_;
};

} // namespace chat
