// tests/invoke/recorder.hpp - what a test callback received, as text, for exact comparisons.
#pragma once

#include <modkit/all.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace modkit::invoke::test {

// A callback's user_data: what it answers with and what it saw, one "name=value" per value.
// Strings are shown as "text" (their exact bytes) or absent; the outputs as name@entry=value,
// to prove the host zeroed them before the call.
struct Recorder {
   modkit_status status = MODKIT_OK; // returned by the callback
   std::int32_t answer = 0;          // written to an i32 output
   bool flag = false;                // written to a bool output

   const modkit_call *call = nullptr;
   std::vector<std::string> seen;

   void str(const char *name, modkit_str s) {
      seen.push_back(fmt::format("{}={}", name,
                                 s.data == nullptr ? std::string("absent")
                                                   : '"' + std::string(s.data, s.size) + '"'));
   }
   template <class T>
   void value(const char *name, T v) {
      seen.push_back(fmt::format("{}={}", name, v));
   }
   void event(const char *name, const modkit_event *e) {
      value(fmt::format("{}.struct_size", name).c_str(), e->struct_size);
      str("event_id", e->event_id);
      str("room_id", e->room_id);
      str("sender", e->sender);
      str("type", e->type);
      str("state_key", e->state_key);
      str("content_json", e->content_json);
      str("unsigned_json", e->unsigned_json);
      value("origin_server_ts", e->origin_server_ts);
   }
   void profile(const char *name, const modkit_user_profile *p) {
      value(fmt::format("{}.struct_size", name).c_str(), p->struct_size);
      str("user_id", p->user_id);
      str("display_name", p->display_name);
      str("avatar_url", p->avatar_url);
   }
   void file_info(const char *name, const modkit_media_file_info *f) {
      value(fmt::format("{}.struct_size", name).c_str(), f->struct_size);
      str("server_name", f->server_name);
      str("media_id", f->media_id);
      str("upload_name", f->upload_name);
      str("media_type", f->media_type);
      value("media_length", f->media_length);
      value("is_thumbnail", f->is_thumbnail);
   }
   // Records an i32 output as found on entry, then answers.
   modkit_status answer_i32(const char *name, std::int32_t *out) {
      seen.push_back(fmt::format("{}@entry={}", name, *out));
      *out = answer;
      return status;
   }
   modkit_status answer_bool(const char *name, bool *out) {
      seen.push_back(fmt::format("{}@entry={}", name, *out));
      *out = flag;
      return status;
   }
};

// The recorder behind user_data, noting the call handle the callback got.
inline Recorder &recorder(void *user_data, modkit_call *call) {
   auto &r = *static_cast<Recorder *>(user_data);
   r.call = call;
   return r;
}

} // namespace modkit::invoke::test

// Shows a record one value per line when a comparison fails.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
   static doctest::String convert(const std::vector<std::string> &values) {
      std::string text = "\n";
      for (const std::string &v : values) {
         text += "  ";
         for (char c : v) {
            const auto byte = static_cast<unsigned char>(c);
            text += byte < 0x20 ? fmt::format("\\x{:02x}", byte) : std::string(1, c);
         }
         text += "\n";
      }
      return text.c_str();
   }
};
