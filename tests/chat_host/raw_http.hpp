// raw_http.hpp - the chat host's HTTP server on loopback, and a client on a bare socket, for the
// cases where framing is the point: slow, smuggled, pipelined and oversized requests.
#pragma once

#include "support.hpp"

#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace test {

// The server on 127.0.0.1 (a port the kernel picks), stopped at the end of the test.
struct Served {
   chat::HttpServer server;
   int port;
   std::thread thread;
   explicit Served(chat::App &app, bool admin_listener = false)
      : server(app, admin_listener), port(server.bind("127.0.0.1", 0)), thread([this] { server.run(); }) {}
   ~Served() {
      server.stop();
      thread.join();
   }
};

struct Reply {
   int status = 0;
   std::map<std::string, std::string> headers; // lower-case names
   std::string body;
   json json_body() const { return json::parse(body, nullptr, false); }
   std::string errcode() const {
      const json b = json_body();
      return b.is_object() ? b.value("errcode", "") : "";
   }
};

// One TCP connection, written and read byte for byte.
class Raw {
public:
   explicit Raw(int port) {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      REQUIRE(fd_ >= 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
      const int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
   }
   ~Raw() { ::close(fd_); }
   Raw(const Raw &) = delete;
   Raw &operator=(const Raw &) = delete;

   // False when the server closed or reset the connection first.
   bool send(const std::string &bytes) {
      size_t sent = 0;
      while (sent < bytes.size()) {
         const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
         if (n <= 0) return false;
         sent += static_cast<size_t>(n);
      }
      return true;
   }

   // The next response, within timeout_ms; status 0 when none came (closed or too slow).
   Reply read(int timeout_ms = 5000) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      for (;;) {
         const auto end = pending_.find("\r\n\r\n");
         if (end != std::string::npos) {
            Reply r = parse_head(pending_.substr(0, end));
            const size_t length = std::stoul(r.headers.count("content-length") ? r.headers["content-length"] : "0");
            if (pending_.size() >= end + 4 + length) {
               r.body = pending_.substr(end + 4, length);
               pending_.erase(0, end + 4 + length);
               if (r.status == 100) continue; // an interim answer
               return r;
            }
         }
         if (!fill(until)) return {};
      }
   }

   // True when the server closes the connection within timeout_ms (what it sent is dropped).
   bool closed_within(int timeout_ms) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      while (fill(until)) {
      }
      return eof_;
   }

private:
   // Reads what is there; false at end of stream, on error or at the deadline.
   bool fill(std::chrono::steady_clock::time_point until) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
         eof_ = true;
         return false;
      }
      pending_.append(chunk, static_cast<size_t>(n));
      return true;
   }

   static Reply parse_head(const std::string &head) {
      Reply r;
      const auto line_end = head.find("\r\n");
      const std::string status_line = head.substr(0, line_end);
      if (status_line.size() >= 12) r.status = std::atoi(status_line.c_str() + 9);
      size_t i = line_end == std::string::npos ? head.size() : line_end + 2;
      while (i < head.size()) {
         size_t e = head.find("\r\n", i);
         if (e == std::string::npos) e = head.size();
         const std::string line = head.substr(i, e - i);
         const auto colon = line.find(':');
         if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (char &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1) == std::string::npos ? line.size() : line.find_first_not_of(' ', colon + 1));
         }
         i = e + 2;
      }
      return r;
   }

   int fd_ = -1;
   std::string pending_;
   bool eof_ = false;
};

// One request on a fresh connection.
inline Reply round_trip(int port, const std::string &bytes, int timeout_ms = 5000) {
   Raw c(port);
   c.send(bytes);
   return c.read(timeout_ms);
}

inline std::string get(const std::string &path, const std::string &token = "") {
   return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
}

inline std::string with_body(const std::string &method, const std::string &path, const std::string &body,
                             const std::string &token = "") {
   return method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "Content-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body;
}

// The server still serves an ordinary request.
inline bool healthy(int port) { return round_trip(port, get("/_matrix/client/versions")).status == 200; }

// This process's resident set (the server runs in it), in KiB, from /proc.
inline long resident_kib(const char *field = "VmRSS:") {
   std::ifstream status("/proc/self/status");
   std::string line;
   while (std::getline(status, line))
      if (line.compare(0, std::strlen(field), field) == 0) return std::atol(line.c_str() + std::strlen(field));
   return -1;
}

} // namespace test
