// department_lookup_tests.cpp - the Caching example (samples/department_lookup) against a local
// HTTP service: a cached coroutine over the host's HTTP client, a denial with its Matrix error,
// invalidation through the host, and the service going down.
#include "probe_host.hpp"

#include <httplib.h>

#include <map>

using test::Host;

namespace {

// The departments service: GET /departments/<user ID>, counting what it was asked.
struct Directory {
   httplib::Server server;
   std::thread serving;
   std::mutex mutex;
   std::map<std::string, std::string> departments{{"@ada:example.org", "engineering"},
                                                  {"@bob:example.org", "sales"}};
   std::map<std::string, int> asked;
   int port = 0;

   Directory() {
      server.Get(R"(/departments/(.+))", [this](const httplib::Request &req, httplib::Response &res) {
         std::lock_guard<std::mutex> lock(mutex);
         const std::string user = req.matches[1];
         ++asked[user];
         auto it = departments.find(user);
         if (it == departments.end()) {
            res.status = 404;
            return;
         }
         res.set_content(nlohmann::json{{"department", it->second}}.dump(), "application/json");
      });
      port = server.bind_to_any_port("127.0.0.1");
      serving = std::thread([this] { server.listen_after_bind(); });
      while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
   }
   ~Directory() { stop(); }
   void stop() {
      server.stop();
      if (serving.joinable()) serving.join();
   }
   int times_asked(const std::string &user) {
      std::lock_guard<std::mutex> lock(mutex);
      return asked[user];
   }
   std::string base() const { return "http://127.0.0.1:" + std::to_string(port) + "/"; }
};

struct Verdict {
   modkit_status status = MODKIT_OK;
   int32_t result = -1;
   std::string errcode, message, extra;
};

void MODKIT_ABI take_error(void *self, modkit_call *, modkit_str code, modkit_str message, modkit_str extra) {
   auto &v = *static_cast<Verdict *>(self);
   v.errcode.assign(code.data, code.size);
   v.message.assign(message.data, message.size);
   v.extra.assign(extra.data ? extra.data : "", extra.size);
}

Verdict may_create_room(Host &host, const std::string &user) {
   Verdict v;
   modkit_call call = modkit_call_make({nullptr, 0});
   call.on_error = take_error;
   call.error_user_data = &v;
   modkit_buffer *out = modkit_loader_buffer_create();
   const std::string args = nlohmann::json{{"user_id", user}, {"room_config", nlohmann::json::object()}}.dump();
   v.status = modkit_loader_call_json(host.loader.get(), "department_lookup", MODKIT_SPAM_CHECKER_ID,
                                      "user_may_create_room", args.data(), args.size(), &call, out);
   const modkit_str text = modkit_loader_buffer_data(out);
   const auto doc = nlohmann::json::parse(std::string(text.data, text.size));
   if (doc.contains("outputs")) v.result = doc["outputs"]["result"].get<int32_t>();
   modkit_loader_buffer_destroy(out);
   return v;
}

void load(Host &host, const Directory &directory) {
   host.loader.load(nlohmann::json{
      {"modules",
       {{{"module", MODKIT_SAMPLE_DEPARTMENT_LOOKUP},
         {"config", {{"service", directory.base() + "departments/"}, {"may_create_rooms", {"engineering"}}}},
         {"permissions", {{"http", {directory.base()}}}}}}}}.dump());
}

} // namespace

TEST_CASE("the Caching example: one request per user until the host invalidates the entry") {
   Directory directory;
   Host host;
   load(host, directory);

   const Verdict ada = may_create_room(host, "@ada:example.org");
   CHECK(ada.status == MODKIT_OK);
   CHECK(ada.result == MODKIT_NOT_SPAM);
   CHECK(may_create_room(host, "@ada:example.org").result == MODKIT_NOT_SPAM);
   CHECK(directory.times_asked("@ada:example.org") == 1); // the second answer came from the cache

   const Verdict bob = may_create_room(host, "@bob:example.org");
   CHECK(bob.result != MODKIT_NOT_SPAM);
   CHECK(bob.errcode == "M_FORBIDDEN");
   CHECK(bob.message == "The sales department may not create rooms");
   CHECK(bob.extra == R"({"department":"sales"})");

   // Bob moves; the directory's owner tells the host, which invalidates his entry only.
   {
      std::lock_guard<std::mutex> lock(directory.mutex);
      directory.departments["@bob:example.org"] = "engineering";
   }
   CHECK(may_create_room(host, "@bob:example.org").result != MODKIT_NOT_SPAM); // still cached
   const modkit_str key = MODKIT_STR_LIT(R"(["@bob:example.org"])");
   REQUIRE(modkit_loader_invalidate_cache(host.loader.get(), "department_lookup", "get_department_for_user", &key) ==
           MODKIT_OK);
   CHECK(may_create_room(host, "@bob:example.org").result == MODKIT_NOT_SPAM);
   CHECK(directory.times_asked("@bob:example.org") == 2);
   CHECK(may_create_room(host, "@ada:example.org").result == MODKIT_NOT_SPAM);
   CHECK(directory.times_asked("@ada:example.org") == 1);

   // A user the directory does not know is refused with the module's own words.
   const Verdict eve = may_create_room(host, "@eve:example.org");
   CHECK(eve.message == "Only staff of a known department may create rooms");
}

TEST_CASE("the Caching example: the service down is the module's error, and nothing is cached") {
   Directory directory;
   Host host;
   load(host, directory);
   directory.stop();
   const Verdict down = may_create_room(host, "@ada:example.org");
   CHECK(down.status == MODKIT_E_INTERNAL);
   CHECK(host.logged("department_lookup"));
   CHECK(may_create_room(host, "@ada:example.org").status == MODKIT_E_INTERNAL); // asked again, not cached
}
