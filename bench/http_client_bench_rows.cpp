// http_client_bench_rows.cpp - the HTTP client service against libcurl used directly:
//   BM_http_client_service    2,000 GETs of a 64-byte body from a cpp-httplib server on
//                             127.0.0.1, 64 in flight, through HttpClient: this thread submits as
//                             slots free up, answers arrive on the client's thread
//   BM_http_client_raw_multi  the same 2,000 GETs from one thread driving a curl multi handle
//                             with 64 reused easy handles and the client's transfer options; no
//                             grants, no address filter, no hand-off between threads
// Both keep their connections across iterations, so both measure kept-alive requests.
#include "services/http_client.hpp"

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <httplib.h>

#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using modkit::loader::services::HttpAnswer;
using modkit::loader::services::HttpClient;
using modkit::loader::services::HttpRequest;

constexpr int kRequests = 2000;
constexpr int kInFlight = 64;
constexpr size_t kBodySize = 64;

// One server for both rows, started on first use. A connection holds one of its threads, so
// the pool is larger than the requests in flight; TCP_NODELAY, or each kept-alive response
// would wait for the client's delayed acknowledgement (docs/benchmarks.md, the chat host).
struct BenchServer {
   httplib::Server http;
   std::string origin;
   std::thread thread;
   BenchServer() {
      http.set_tcp_nodelay(true);
      http.set_keep_alive_max_count(1000000);
      http.new_task_queue = [] { return new httplib::ThreadPool(kInFlight + 16); };
      http.Get("/bench", [](const httplib::Request &, httplib::Response &res) {
         res.set_content(std::string(kBodySize, 'b'), "text/plain");
      });
      // cpp-httplib is built with a listen backlog of 5; 64 connects at once would overflow it
      // and wait for SYN retries. listen() again on the bound socket raises it.
      int listener = -1;
      http.set_socket_options([&listener](socket_t sock) {
         httplib::default_socket_options(sock);
         if (listener < 0) listener = sock;
      });
      const int port = http.bind_to_any_port("127.0.0.1");
      ::listen(listener, 256);
      origin = "http://127.0.0.1:" + std::to_string(port);
      thread = std::thread([this] { http.listen_after_bind(); });
      while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
   }
   ~BenchServer() {
      http.stop();
      thread.join();
   }
};

BenchServer &bench_server() {
   static BenchServer server;
   return server;
}

void BM_http_client_service(benchmark::State &state) {
   BenchServer &server = bench_server();
   const std::vector<std::string> grants{server.origin + "/"};
   const std::string url = server.origin + "/bench";
   const char owner = 0;
   HttpClient client;

   std::mutex mutex;
   std::condition_variable cv;
   int in_flight = 0, answered = 0, failed = 0;
   const HttpClient::Done done = [&](HttpAnswer &a) {
      std::lock_guard<std::mutex> lock(mutex);
      --in_flight;
      ++answered;
      if (a.status != MODKIT_OK || a.code != 200 || a.body.size() != kBodySize) ++failed;
      cv.notify_one();
   };
   for (auto _ : state) {
      {
         std::lock_guard<std::mutex> lock(mutex);
         answered = 0;
      }
      for (int i = 0; i < kRequests; ++i) {
         {
            std::unique_lock<std::mutex> lock(mutex);
            cv.wait(lock, [&] { return in_flight < kInFlight; });
            ++in_flight;
         }
         HttpRequest r;
         r.url = url;
         if (client.submit(&owner, grants, std::move(r), done, nullptr) != MODKIT_PENDING) {
            state.SkipWithError("submit refused");
            return;
         }
      }
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return answered == kRequests; });
   }
   if (failed) state.SkipWithError("a request failed");
   state.SetItemsProcessed(state.iterations() * kRequests);
}
BENCHMARK(BM_http_client_service)->Unit(benchmark::kMillisecond)->UseRealTime();

struct RawSlot {
   CURL *easy = nullptr;
   std::string body;
   std::vector<std::pair<std::string, std::string>> headers;
};

size_t raw_body(char *data, size_t, size_t size, void *p) {
   static_cast<RawSlot *>(p)->body.append(data, size);
   return size;
}

size_t raw_header(char *data, size_t, size_t size, void *p) {
   std::string_view line(data, size);
   if (const size_t colon = line.find(':'); colon != line.npos)
      static_cast<RawSlot *>(p)->headers.emplace_back(std::string(line.substr(0, colon)),
                                                      std::string(line.substr(colon + 1)));
   return size;
}

void BM_http_client_raw_multi(benchmark::State &state) {
   BenchServer &server = bench_server();
   const std::string url = server.origin + "/bench";
   curl_global_init(CURL_GLOBAL_DEFAULT);
   CURLM *multi = curl_multi_init();
   curl_slist *no_expect = curl_slist_append(nullptr, "Expect:");
   std::vector<RawSlot> slots(kInFlight);
   for (RawSlot &s : slots) s.easy = curl_easy_init();

   auto start = [&](RawSlot &s) {
      CURL *e = s.easy;
      curl_easy_reset(e);
      s.body.clear();
      s.headers.clear();
      curl_easy_setopt(e, CURLOPT_URL, url.c_str());
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
      curl_easy_setopt(e, CURLOPT_PROXY, "");
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(8u << 20));
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &raw_body);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void *>(&s));
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &raw_header);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void *>(&s));
      curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void *>(&s));
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, no_expect);
      curl_multi_add_handle(multi, e);
   };

   int failed = 0;
   for (auto _ : state) {
      int started = 0, answered = 0;
      for (RawSlot &s : slots) {
         start(s);
         ++started;
      }
      while (answered < kRequests) {
         int running = 0;
         curl_multi_perform(multi, &running);
         int left = 0;
         while (CURLMsg *msg = curl_multi_info_read(multi, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            char *p = nullptr;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            RawSlot &s = *reinterpret_cast<RawSlot *>(p);
            if (msg->data.result != CURLE_OK || code != 200 || s.body.size() != kBodySize) ++failed;
            curl_multi_remove_handle(multi, s.easy);
            ++answered;
            if (started < kRequests) {
               start(s);
               ++started;
            }
         }
         if (answered < kRequests) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
      }
   }
   for (RawSlot &s : slots) curl_easy_cleanup(s.easy);
   curl_multi_cleanup(multi);
   curl_slist_free_all(no_expect);
   if (failed) state.SkipWithError("a request failed");
   state.SetItemsProcessed(state.iterations() * kRequests);
}
BENCHMARK(BM_http_client_raw_multi)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
