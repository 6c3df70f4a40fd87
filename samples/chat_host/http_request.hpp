// http_request.hpp - bytes in, one Request out: HTTP/1.1 framing with every limit of Limits
// checked as the bytes arrive. The server feeds it what a socket gives; the fuzz harness feeds it
// arbitrary bytes. Boost.Beast's parser does the framing, behind this header.
#pragma once

#include "limits.hpp"
#include "request.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace chat {

// Why a request was refused before it reached the router. The connection is closed after the
// answer: once framing is in doubt, nothing after it on the connection can be trusted.
struct HttpRefusal {
   int status = 400;
   std::string errcode = "M_UNKNOWN";
   std::string message;
};

class HttpRequestReader {
public:
   enum class Progress {
      need_more, // feed more bytes
      head_done, // the head is in and acceptable (once per request); the body may follow
      done,      // request() is ready
      refused,   // refusal() says why; read no more from this connection
   };

   // upload_limit: the largest body of a media upload (the config's max_upload_size).
   HttpRequestReader(const Limits &limits, uint64_t upload_limit);
   ~HttpRequestReader();
   HttpRequestReader(const HttpRequestReader &) = delete;
   HttpRequestReader &operator=(const HttpRequestReader &) = delete;

   // Parses from the front of buffer and erases what it used; bytes of a pipelined next request
   // stay in buffer. Call again after head_done, and after need_more once more bytes arrived.
   Progress feed(std::string &buffer);
   // True once any byte of the current request was taken (the request deadline runs).
   bool started() const;
   // After head_done: the client waits for "100 Continue" before it sends the body.
   bool expects_continue() const;
   // After done: the request, and whether the connection may carry another one.
   Request request(const std::string &remote_addr) const;
   bool keep_alive() const;
   const HttpRefusal &refusal() const;
   // Ready for the next request on the same connection.
   void reset();

private:
   struct Impl;
   std::unique_ptr<Impl> impl_;
};

// The largest body the target may carry: uploads up to upload_limit, anything else max_body_size.
uint64_t body_limit_for(const std::string &target, const Limits &limits, uint64_t upload_limit);

} // namespace chat
