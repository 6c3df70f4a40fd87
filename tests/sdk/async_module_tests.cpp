// The guide's asynchronous example (modules/async_checker.cpp, built as C++20), opened as a host
// opens it: a first check of a sender suspends while the module's service thread answers; the
// next is served from the cache and answers at once; a host that cannot suspend still gets
// its answer.
#include "fake_host.hpp"
#include "module_library.hpp"

#include <modkit/all.h>

#include <doctest/doctest.h>

#include <string>

namespace {

struct SenderEvent {
   std::string sender;
   modkit_event c{};

   explicit SenderEvent(std::string who) : sender(std::move(who)) {
      c.struct_size = sizeof c;
      c.sender = {sender.data(), sender.size()};
      c.event_id = modkit_str_from_cstr("$e");
      c.room_id = modkit_str_from_cstr("!r:example.org");
      c.type = modkit_str_from_cstr("m.room.message");
      c.content_json = modkit_str_from_cstr("{}");
   }
};

} // namespace

TEST_CASE("the guide's async_checker suspends, completes, and caches each sender's score") {
   ModuleLibrary library(MODKIT_TEST_ASYNC_CHECKER);
   const modkit_module *module = library.descriptor();
   REQUIRE(module != nullptr);
   CHECK(module->abi_minor == MODKIT_ABI_VERSION_MINOR);
   FakeHost host;
   ModuleInstance instance(module, host, "{}");
   REQUIRE(instance.status() == MODKIT_OK);
   REQUIRE(host.caches.size() == 1);
   CHECK(host.caches[0].name == "sender_score");
   const Registration *r = host.find_registration(MODKIT_SPAM_CHECKER_ID);
   REQUIRE(r != nullptr);
   const auto callbacks = r->as<modkit_spam_checker_callbacks>();

   SenderEvent spammer("@spammer:example.org"), friendly("@ada:example.org");
   {
      modkit_call call;
      modkit_spam_result result = MODKIT_NOT_SPAM;
      call.arm();
      const modkit_status status =
         call.returned(callbacks.check_event_for_spam(r->user_data, &call, &spammer.c, &result));
      // The service answers on its own thread: usually after the return, rarely before.
      if (status == MODKIT_PENDING) CHECK(call.wait() == MODKIT_OK);
      else CHECK(status == MODKIT_OK);
      CHECK(result == MODKIT_SPAM_FORBIDDEN);
      CHECK(call.misuses == 0);
   }
   {
      modkit_call call; // cached: answered before returning, nothing to complete
      modkit_spam_result result = MODKIT_NOT_SPAM;
      call.arm();
      CHECK(call.returned(callbacks.check_event_for_spam(r->user_data, &call, &spammer.c, &result)) == MODKIT_OK);
      CHECK(result == MODKIT_SPAM_FORBIDDEN);
      CHECK(call.completions == 0);
   }
   {
      modkit_call call; // not armed: the host cannot suspend, so the callback waits
      modkit_spam_result result = MODKIT_SPAM_TOO_LARGE;
      CHECK(callbacks.check_event_for_spam(r->user_data, &call, &friendly.c, &result) == MODKIT_OK);
      CHECK(result == MODKIT_NOT_SPAM);
   }
   {
      // The host drops the cached score; the next check asks the service again.
      const std::string key = R"(["@spammer:example.org"])";
      const modkit_str key_json{key.data(), key.size()};
      CHECK(host.api()->invalidate_cache(host.host(), nullptr, "sender_score", &key_json) == MODKIT_OK);
      modkit_call call;
      modkit_spam_result result = MODKIT_NOT_SPAM;
      call.arm();
      const modkit_status status =
         call.returned(callbacks.check_event_for_spam(r->user_data, &call, &spammer.c, &result));
      if (status == MODKIT_PENDING) CHECK(call.wait() == MODKIT_OK);
      else CHECK(status == MODKIT_OK);
      CHECK(result == MODKIT_SPAM_FORBIDDEN);
   }
}
