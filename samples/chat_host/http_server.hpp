// http_server.hpp - serves the router (built-in endpoints, module web resources, /metrics) over
// HTTP with cpp-httplib.
#pragma once

#include <memory>
#include <string>

namespace chat {

class App;

class HttpServer {
public:
   explicit HttpServer(App &app);
   ~HttpServer();
   HttpServer(const HttpServer &) = delete;
   HttpServer &operator=(const HttpServer &) = delete;

   // Binds host:port; port 0 picks a free one. Returns the bound port; throws on failure.
   int bind(const std::string &host, int port);
   // Serves until stop(); returns false if the server failed.
   bool run();
   // Stops run() from another thread; in-flight requests finish first.
   void stop();

private:
   struct Impl;
   std::unique_ptr<Impl> impl_;
};

} // namespace chat
