// fuzz_http_request.cpp - the chat host's input path over arbitrary bytes, without a socket: HTTP
// framing and its limits (HttpRequestReader, fed in pieces as a socket would), then the checks the
// router makes (UTF-8 of path, query and headers; identifier grammar) and the bounded JSON reader.
// Every input must end in a request or a refusal, never a crash; and whatever is accepted must
// serialise back as JSON, since the host hands it to modules that way.
#include "http_request.hpp"
#include "identifiers.hpp"
#include "json_limits.hpp"
#include "matrix_error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

// Small limits, so the fuzzer reaches them often.
chat::Limits limits() {
   chat::Limits l;
   l.max_request_line = 512;
   l.max_header_bytes = 2048;
   l.max_header_count = 20;
   l.max_body_size = 4096;
   l.max_json_size = 2048;
   l.max_json_depth = 16;
   return l;
}

void must_serialise(const nlohmann::json &value) {
   try {
      (void)value.dump(); // strict: throws on anything that is not UTF-8
   } catch (...) {
      __builtin_trap();
   }
}

void check(const chat::Request &request, const chat::Limits &l) {
   try {
      chat::check_request_text(request);
      must_serialise(request.path);
      for (const auto &[k, v] : request.headers) must_serialise(nlohmann::json{{k, v}});
   } catch (const chat::MatrixError &) {
   }
   // Every path segment, as each kind of parameter the routes have.
   size_t i = 1;
   while (i <= request.path.size()) {
      size_t slash = request.path.find('/', i);
      if (slash == std::string::npos) slash = request.path.size();
      const std::string segment = chat::percent_decode(request.path.substr(i, slash - i));
      for (const char *name : {"room_id", "room", "user_id", "event_type", "state_key", "txn_id", "server_name"}) {
         try {
            chat::check_path_param(name, segment, l);
            must_serialise(segment);
         } catch (const chat::MatrixError &) {
         }
      }
      i = slash + 1;
   }
   try {
      must_serialise(chat::parse_json_body(request.body, l));
   } catch (const chat::MatrixError &) {
   }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
   if (size == 0) return 0;
   static const chat::Limits l = limits();
   chat::HttpRequestReader reader(l, 8192);
   // The first byte picks how the rest arrives: in pieces of 1 to 256 bytes.
   const size_t piece = static_cast<size_t>(data[0]) + 1;
   std::string buffer;
   size_t offset = 1;
   for (int requests = 0; requests < 16;) {
      if (offset < size) {
         const size_t n = std::min(piece, size - offset);
         buffer.append(reinterpret_cast<const char *>(data) + offset, n);
         offset += n;
      }
      const auto progress = reader.feed(buffer);
      if (progress == chat::HttpRequestReader::Progress::refused) {
         if (reader.refusal().status < 400 || reader.refusal().errcode.empty()) __builtin_trap();
         break;
      }
      if (progress == chat::HttpRequestReader::Progress::done) {
         check(reader.request("127.0.0.1"), l);
         (void)reader.keep_alive();
         reader.reset();
         ++requests;
         continue;
      }
      if (progress == chat::HttpRequestReader::Progress::head_done) {
         (void)reader.expects_continue();
         continue;
      }
      if (offset >= size) break; // need_more, and nothing left
   }
   // What waits for the end of a line stays bounded by the head limit.
   if (buffer.size() > l.max_header_bytes + piece) __builtin_trap();
   return 0;
}
