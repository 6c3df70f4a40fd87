// http_server.cpp - connections and their requests on Boost.Asio, run by LoopThreads.
//
// Ownership and threads. Impl::io runs on whichever thread leads (loop_threads.hpp): every
// Connection, Server::connections, Server::parked and the acceptor are touched only by the
// handlers it runs, one at a time, so they need no lock. A complete request runs the router
// inline, on the thread that read it; the router takes the state's own locks. When the lead
// was passed on while the router ran (a module suspended its call, or the call was slow), the
// serialised answer is posted to the loop instead of written here. A connection reads its next
// request only after it has written the last response, so pipelined requests are answered in
// order, one at a time, and a connection never has more than one request running. Slow or idle
// clients hold no thread at all: they cost a socket, a timer and a buffer bounded by the head
// and body limits, until their deadline. A module that suspends (MODKIT_PENDING) keeps its
// request's thread waiting, holding no lock and no read section, for at most
// module_call_timeout_ms per callback, while another thread runs the loop (README.md says why).
#include "http_server.hpp"

#include "app.hpp"
#include "http_request.hpp"
#include "loop_threads.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string_view>

namespace chat {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const char *reason(int status) {
   switch (status) {
   case 100: return "Continue";
   case 200: return "OK";
   case 201: return "Created";
   case 204: return "No Content";
   case 301: return "Moved Permanently";
   case 302: return "Found";
   case 304: return "Not Modified";
   case 400: return "Bad Request";
   case 401: return "Unauthorized";
   case 403: return "Forbidden";
   case 404: return "Not Found";
   case 405: return "Method Not Allowed";
   case 408: return "Request Timeout";
   case 409: return "Conflict";
   case 413: return "Content Too Large";
   case 414: return "URI Too Long";
   case 429: return "Too Many Requests";
   case 431: return "Request Header Fields Too Large";
   case 500: return "Internal Server Error";
   case 502: return "Bad Gateway";
   case 503: return "Service Unavailable";
   case 505: return "HTTP Version Not Supported";
   default: return "Status";
   }
}

bool token_char(unsigned char c) {
   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool same_name(std::string_view a, std::string_view b) { // ASCII, case-insensitive
   if (a.size() != b.size()) return false;
   for (size_t i = 0; i < a.size(); ++i)
      if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
   return true;
}

// A header a module set can still not split the response: names are tokens, values have no
// line breaks, and framing headers are the server's alone.
bool safe_header(std::string_view name, std::string_view value) {
   if (name.empty()) return false;
   for (const char c : name)
      if (!token_char(static_cast<unsigned char>(c))) return false;
   if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
   for (const std::string_view framing : {"content-length", "transfer-encoding", "connection", "content-type"})
      if (same_name(name, framing)) return false;
   return true;
}

std::string serialize(const Response &r, bool keep_alive) {
   const int status = r.status >= 100 && r.status <= 599 ? r.status : 500;
   const bool type_ok = safe_header("x", r.content_type);
   std::string out;
   out.reserve(160 + r.body.size());
   out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason(status)).append("\r\n");
   out.append("Content-Type: ").append(type_ok ? r.content_type : std::string("application/octet-stream")).append("\r\n");
   for (const auto &[name, value] : r.headers)
      if (safe_header(name, value)) out.append(name).append(": ").append(value).append("\r\n");
   out.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
   out.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
   return out.append(r.body);
}

Response refusal_response(const HttpRefusal &refusal) {
   return json_response({{"errcode", refusal.errcode}, {"error", refusal.message}}, refusal.status);
}

class Connection;

// Everything the server shares with its connections (HttpServer::Impl, which is private).
struct Server {
   App &app;
   const Limits &limits;
   const bool admin_listener;
   // Several threads may run it (one leads; those that passed the lead on finish their
   // handler inside run_one), so it is built for more than one.
   asio::io_context io;
   tcp::acceptor acceptor{io};
   asio::steady_timer accept_retry{io};
   size_t connections = 0; // open connections; the loop's handlers only
   std::atomic<bool> stopped{false}, failed{false};
   std::set<Connection *> parked; // connections holding a long-polling request; the loop's handlers only
   // Up to worker_threads requests may wait on modules while one more thread runs the loop.
   LoopThreads threads{[this] { return run_one(); }, limits.worker_threads + 1, slow_request};

   // A request that holds the lead this long without saying it waits gives it up.
   static constexpr std::chrono::microseconds slow_request{2000};

   Server(App &a, bool admin) : app(a), limits(a.config().limits), admin_listener(admin) {}

   void accept();
   bool run_one() {
      try {
         io.run_one();
      } catch (const std::exception &e) { // the handlers catch their own errors: this is the loop's
         app.log(MODKIT_LOG_ERROR, std::string("HTTP server stopped: ") + e.what());
         failed = true;
         io.stop();
      }
      return !io.stopped();
   }
};

using Clock = std::chrono::steady_clock;

class Connection : public std::enable_shared_from_this<Connection> {
public:
   Connection(Server &server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(server.io), poll_timer_(server.io),
        reader_(server.limits, server.app.config().max_upload_size) {
      boost::system::error_code ec;
      const auto peer = socket_.remote_endpoint(ec);
      remote_ = ec ? "unknown" : peer.address().to_string();
      socket_.set_option(tcp::no_delay(true), ec); // else Nagle holds each kept-alive response ~40 ms
   }

   void start() { next_request(); }

private:
   // The connection's one deadline (the idle, request or write timeout of its current phase).
   // Setting it is a store: the timer is moved only when the new deadline is earlier than its
   // expiry, and it expires no later than the shortest timeout from when it was set, so a phase
   // that starts later never needs it moved. When it fires early, it is set again for what
   // remains. Kept-alive requests thus cost no timer system call each.
   void arm(uint64_t ms) {
      deadline_ = Clock::now() + std::chrono::milliseconds(ms);
      if (!timer_pending_ || deadline_ < expiry_) schedule();
   }
   void disarm() { deadline_ = Clock::time_point::max(); } // the router or a long poll has the request

   void schedule() {
      const auto &l = server_.limits;
      const uint64_t shortest = std::min({l.idle_timeout_ms, l.request_timeout_ms, l.write_timeout_ms});
      expiry_ = std::min(deadline_, Clock::now() + std::chrono::milliseconds(shortest));
      timer_pending_ = true;
      timer_.expires_at(expiry_);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
         if (ec) return; // moved or cancelled: a newer wait (if any) is pending
         self->timer_pending_ = false;
         if (self->closed_ || self->deadline_ == Clock::time_point::max()) return;
         if (Clock::now() >= self->deadline_) return self->close(); // the client is too slow or gone
         self->schedule();
      });
   }

   void next_request() {
      reader_.reset();
      deadline_armed_ = false;
      arm(server_.limits.idle_timeout_ms);
      parse();
   }

   void parse() {
      if (closed_) return;
      const auto progress = reader_.feed(buffer_);
      if (reader_.started() && !deadline_armed_) {
         deadline_armed_ = true; // from the first byte, the whole request must arrive in time
         arm(server_.limits.request_timeout_ms);
      }
      switch (progress) {
      case HttpRequestReader::Progress::need_more: return read();
      case HttpRequestReader::Progress::head_done:
         if (reader_.expects_continue()) return write("HTTP/1.1 100 Continue\r\n\r\n", After::parse);
         return parse();
      case HttpRequestReader::Progress::done: return handle();
      case HttpRequestReader::Progress::refused:
         return write(serialize(refusal_response(reader_.refusal()), false), After::drain);
      }
   }

   void read() {
      const size_t old = buffer_.size();
      buffer_.resize(old + 16 * 1024);
      socket_.async_read_some(asio::buffer(&buffer_[old], 16 * 1024),
                              [self = shared_from_this(), old](const boost::system::error_code &ec, size_t n) {
                                 self->buffer_.resize(old + n);
                                 if (ec) return self->close();
                                 self->parse();
                              });
   }

   void handle() {
      disarm();
      auto request = std::make_shared<Request>(reader_.request(remote_));
      request->admin_listener = server_.admin_listener;
      request->may_hold = true;
      request->traced = false; // nobody reads it here
      run(std::move(request), reader_.keep_alive());
   }

   // What the router made of a request: the bytes to write, or a long poll to park.
   struct Answer {
      std::string wire;
      std::optional<LongPoll> poll;
   };

   Answer respond(const Request &request, bool keep_alive) {
      Answer a;
      try {
         Response response = server_.app.router().handle(request);
         if (response.long_poll && response.long_poll->deadline_ms > now_ms()) a.poll = std::move(response.long_poll);
         else a.wire = serialize(response, keep_alive);
      } catch (...) { // the router answers every error itself; this is out of memory or worse
         a.wire = serialize(json_response({{"errcode", "M_UNKNOWN"}, {"error", "Internal server error"}}, 500), false);
      }
      return a;
   }

   // Runs the router here, on the thread that leads the loop. If the lead passed on meanwhile,
   // the connection belongs to the loop's new thread: the answer is posted there.
   void run(std::shared_ptr<Request> request, bool keep_alive) {
      LoopThreads::begin_request();
      Answer answer = respond(*request, keep_alive);
      if (LoopThreads::end_request()) return deliver(std::move(request), std::move(answer), keep_alive);
      asio::post(server_.io, [self = shared_from_this(), request, answer = std::move(answer), keep_alive]() mutable {
         self->deliver(std::move(request), std::move(answer), keep_alive);
      });
   }

   void deliver(std::shared_ptr<Request> request, Answer answer, bool keep_alive) {
      if (answer.poll) return park(std::move(request), *answer.poll, keep_alive);
      write(std::move(answer.wire), keep_alive ? After::next : After::close);
   }

   // Holds a long-polling request with no thread: a notifier waiter and a timer, whichever comes
   // first runs it again. The connection reads nothing meanwhile (HTTP/1.1 answers in order).
   void park(std::shared_ptr<Request> request, const LongPoll &poll, bool keep_alive) {
      if (closed_ || server_.stopped) return close();
      request->poll_deadline_ms = poll.deadline_ms;
      parked_ = request;
      parked_keep_alive_ = keep_alive;
      const int64_t wake = poll.recheck_ms ? std::min(poll.deadline_ms, poll.recheck_ms) : poll.deadline_ms;
      poll_timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, wake - now_ms())));
      poll_timer_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
         if (!ec) self->resume();
      });
      server_.parked.insert(this);
      // The wake runs under the notifier's lock, on whichever thread made the change: it only
      // posts. ~HttpServer cancels every waiter before the I/O context goes away.
      waiter_ = server_.app.state().notifier.wait(poll.user_id, poll.seen, [self = shared_from_this()] {
         asio::post(self->server_.io, [self] { self->resume(); });
      });
   }

   void resume() {
      if (!parked_) return;
      auto request = std::move(parked_);
      parked_.reset();
      unpark();
      if (closed_) return;
      run(std::move(request), parked_keep_alive_);
   }

public:
   // Forgets the notifier's waiter and the timer (the loop's handlers, or after the loop stopped).
   void unpark() {
      poll_timer_.cancel();
      if (waiter_) server_.app.state().notifier.cancel(waiter_);
      waiter_ = 0;
      server_.parked.erase(this);
   }

private:
   enum class After { parse, next, close, drain };

   void write(std::string wire, After after) {
      if (closed_) return;
      out_ = std::move(wire);
      if (after != After::parse) arm(server_.limits.write_timeout_ms);
      asio::async_write(socket_, asio::buffer(out_),
                        [self = shared_from_this(), after](const boost::system::error_code &ec, size_t) {
                           if (ec) return self->close();
                           switch (after) {
                           case After::parse: return self->parse();
                           case After::next: return self->next_request();
                           case After::close: return self->close();
                           case After::drain: return self->drain();
                           }
                        });
   }

   // After a refusal: stop sending, then read and drop what the client still sends for a moment,
   // so closing does not reset the connection before the client has read the answer.
   void drain() {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_send, ec);
      arm(std::min<uint64_t>(server_.limits.request_timeout_ms, 1000));
      buffer_.resize(16 * 1024);
      socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](const boost::system::error_code &e, size_t) {
         if (e) return self->close();
         self->drain_more();
      });
   }
   void drain_more() {
      if (closed_) return;
      socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](const boost::system::error_code &e, size_t) {
         if (e) return self->close();
         self->drain_more();
      });
   }

   void close() {
      if (closed_) return;
      closed_ = true;
      timer_.cancel();
      parked_.reset();
      unpark();
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
      --server_.connections;
   }

   Server &server_;
   tcp::socket socket_;
   asio::steady_timer timer_, poll_timer_;
   HttpRequestReader reader_;
   std::shared_ptr<Request> parked_; // a long-polling request waiting (the loop's handlers only)
   bool parked_keep_alive_ = false;
   uint64_t waiter_ = 0;
   std::string remote_, buffer_, out_;
   bool deadline_armed_ = false, closed_ = false;
   Clock::time_point deadline_ = Clock::time_point::max(), expiry_{}; // the loop's handlers only
   bool timer_pending_ = false;
};

void Server::accept() {
   acceptor.async_accept([this](const boost::system::error_code &ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) { // out of descriptors, most likely: wait a little rather than spin
         accept_retry.expires_after(std::chrono::milliseconds(50));
         accept_retry.async_wait([this](const boost::system::error_code &e) {
            if (!e) accept();
         });
         return;
      }
      if (connections >= limits.max_connections) {
         boost::system::error_code ignored;
         socket.close(ignored); // at the bound: refuse at once rather than queue
      } else {
         ++connections;
         std::make_shared<Connection>(*this, std::move(socket))->start();
      }
      accept();
   });
}

} // namespace

struct HttpServer::Impl : Server {
   using Server::Server;
};

HttpServer::HttpServer(App &app, bool admin_listener) : impl_(std::make_unique<Impl>(app, admin_listener)) {}

HttpServer::~HttpServer() {
   stop();
   impl_->threads.join();
   // The loop has stopped: no waiter may wake a connection of a server that is gone.
   while (!impl_->parked.empty()) (*impl_->parked.begin())->unpark();
}

int HttpServer::bind(const std::string &host, int port) {
   boost::system::error_code ec;
   const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
   if (ec) throw std::runtime_error("cannot listen on " + host + ": not an IP address");
   const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
   tcp::acceptor &a = impl_->acceptor;
   a.open(endpoint.protocol(), ec);
   if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
   if (!ec) a.bind(endpoint, ec);
   if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
   if (ec) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
   impl_->accept();
   return a.local_endpoint().port();
}

bool HttpServer::run() {
   impl_->threads.run();
   return !impl_->failed;
}

size_t HttpServer::threads() const { return impl_->threads.threads(); }

void HttpServer::stop() {
   if (!impl_ || impl_->stopped.exchange(true)) return;
   asio::post(impl_->io, [impl = impl_.get()] {
      boost::system::error_code ignored;
      impl->acceptor.close(ignored);
   });
   impl_->io.stop();
   impl_->threads.stop();
}

} // namespace chat
