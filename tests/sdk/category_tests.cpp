// The generic category machinery, in-process: a category defined here the way a traits header
// defines one (a notification slot, a slot with two outputs, JSON and optional arguments), and
// every slot of the spam checker traits.
#include "fake_host.hpp"

#include <modkit/sdk.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>

// Built as C++17: the SDK offers its synchronous API only, unchanged (coroutine callbacks are
// tested by sdk_async_tests, built as C++20).
static_assert(MODKIT_SDK_HAS_COROUTINES == 0, "sdk_tests is compiled as C++17");

// ---- a category of the test's own, written as a category header would be ----

static const char TEST_WIDGETS_ID[] = "test.widgets";

extern "C" {
typedef struct test_widget_callbacks {
   uint32_t struct_size;
   modkit_status (*on_widget)(void *user_data, modkit_call *call, modkit_str name);
   modkit_status (*measure)(void *user_data, modkit_call *call, modkit_str name, int64_t *width, bool *fits);
   modkit_status (*describe)(void *user_data, modkit_call *call, modkit_str doc_json, modkit_str label,
                             int32_t *count);
} test_widget_callbacks;
}

struct WidgetCallbacks {
   modkit::Callback<void(std::string_view name)> on_widget;
   modkit::Callback<std::tuple<int64_t, bool>(std::string_view name)> measure;
   modkit::Callback<int32_t(const nlohmann::json &doc, std::optional<std::string_view> label)> describe;
};

template <>
struct modkit::CategoryTraits<WidgetCallbacks> {
   using callbacks = WidgetCallbacks;
   using c_callbacks = test_widget_callbacks;
   static const char *id() noexcept { return TEST_WIDGETS_ID; }
   static constexpr uint16_t major = 2;
   static constexpr uint16_t minor = 5;
   static constexpr auto slots =
      std::make_tuple(MODKIT_SDK_SLOT(on_widget), MODKIT_SDK_SLOT(measure), MODKIT_SDK_SLOT(describe));
};

namespace {

struct Harness {
   FakeHost host;
   std::unique_ptr<modkit::Api> api;

   explicit Harness(const char *registers = "test.widgets,modkit.spam_checker") {
      host.categories.insert(TEST_WIDGETS_ID);
      api = std::make_unique<modkit::Api>(
         modkit::detail::HostContext{host.api(), host.host(), "harness", registers});
      host.begin_init();
   }

   template <class T>
   T callbacks(const char *category) {
      const Registration *r = host.find_registration(category);
      REQUIRE(r != nullptr);
      return r->as<T>();
   }
   void *user_data(const char *category) { return host.find_registration(category)->user_data; }
};

struct Gauge {
   int64_t width = 7;
   std::tuple<int64_t, bool> measure(std::string_view name) const {
      return {width * static_cast<int64_t>(name.size()), name.size() < 4};
   }
};


} // namespace

TEST_CASE("a category defined by a traits specialisation registers and dispatches") {
   Harness h;
   std::string seen;
   Gauge gauge;
   WidgetCallbacks callbacks;
   callbacks.on_widget = [&](modkit::Call &call, std::string_view name) {
      seen = std::string(call.request_id()) + ":" + std::string(name);
   };
   callbacks.measure = {&gauge, &Gauge::measure};
   h.api->register_callbacks(std::move(callbacks));

   const Registration *r = h.host.find_registration(TEST_WIDGETS_ID);
   REQUIRE(r != nullptr);
   CHECK(r->major == 2);
   CHECK(r->minor == 5);
   CHECK(r->callbacks.size() == sizeof(test_widget_callbacks));
   const auto c = r->as<test_widget_callbacks>();
   CHECK(c.struct_size == sizeof(test_widget_callbacks));
   REQUIRE(is_set(c.on_widget));
   REQUIRE(is_set(c.measure));
   CHECK_FALSE(is_set(c.describe)); // unset callbacks stay unregistered

   modkit_call call;
   call.request_id = "r1";

   SUBCASE("a slot without outputs calls a void callback") {
      CHECK(c.on_widget(r->user_data, &call, str("gear")) == MODKIT_OK);
      CHECK(seen == "r1:gear");
   }
   SUBCASE("a slot with two outputs takes a tuple") {
      int64_t width = 0;
      bool fits = false;
      CHECK(c.measure(r->user_data, &call, str("cog"), &width, &fits) == MODKIT_OK);
      CHECK(width == 21);
      CHECK(fits);
      CHECK(c.measure(r->user_data, &call, str("flywheel"), &width, &fits) == MODKIT_OK);
      CHECK(width == 56);
      CHECK_FALSE(fits);
   }
   SUBCASE("every output is checked before the callback runs") {
      int64_t width = -1;
      CHECK(c.measure(r->user_data, &call, str("cog"), &width, nullptr) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(width == -1);
   }
}

TEST_CASE("JSON and optional parameters are converted for the callback") {
   Harness h;
   WidgetCallbacks callbacks;
   std::optional<std::string_view> label_seen;
   callbacks.describe = [&](const nlohmann::json &doc, std::optional<std::string_view> label) {
      label_seen = label;
      return doc.is_null() ? -1 : static_cast<int32_t>(doc.size());
   };
   h.api->register_callbacks(std::move(callbacks));
   const auto c = h.callbacks<test_widget_callbacks>(TEST_WIDGETS_ID);
   void *ud = h.user_data(TEST_WIDGETS_ID);
   modkit_call call;
   int32_t count = 0;

   SUBCASE("a JSON argument is parsed") {
      CHECK(c.describe(ud, &call, str("[1, 2, 3]"), str("x"), &count) == MODKIT_OK);
      CHECK(count == 3);
      CHECK(label_seen == std::optional<std::string_view>("x"));
   }
   SUBCASE("an absent JSON argument reads as null, an absent string as nullopt") {
      CHECK(c.describe(ud, &call, modkit_str{nullptr, 0}, modkit_str{nullptr, 0}, &count) == MODKIT_OK);
      CHECK(count == -1);
      CHECK_FALSE(label_seen.has_value());
   }
   SUBCASE("an empty string is not absent") {
      CHECK(c.describe(ud, &call, str("{}"), str(""), &count) == MODKIT_OK);
      REQUIRE(label_seen.has_value());
      CHECK(label_seen->empty());
   }
   SUBCASE("a JSON argument that does not parse fails the call") {
      count = 99;
      CHECK(c.describe(ud, &call, str("{oops"), str("x"), &count) == MODKIT_E_INVALID_ARGUMENT);
      CHECK(count == 99);
      CHECK(h.host.logged(MODKIT_LOG_ERROR, "describe failed (invalid_argument): the host passed an argument that is not JSON"));
   }
}

TEST_CASE("registration owns its callbacks until the Api goes away") {
   Harness h;
   auto token = std::make_shared<int>(0);
   std::weak_ptr<int> watch = token;
   {
      WidgetCallbacks callbacks;
      callbacks.on_widget = [token](std::string_view) {};
      h.api->register_callbacks(std::move(callbacks));
   }
   token.reset();
   CHECK_FALSE(watch.expired()); // the registration keeps what the callback captured
   h.api.reset();
   CHECK(watch.expired());
}

TEST_CASE("a refused registration throws and keeps nothing") {
   Harness h("modkit.spam_checker");
   h.host.categories.erase(TEST_WIDGETS_ID);
   auto token = std::make_shared<int>(0);
   std::weak_ptr<int> watch = token;
   WidgetCallbacks callbacks;
   callbacks.on_widget = [token](std::string_view) {};
   token.reset();
   try {
      h.api->register_callbacks(std::move(callbacks));
      FAIL("register_callbacks did not throw");
   } catch (const modkit::Error &e) {
      CHECK(e.code() == MODKIT_E_NOT_FOUND);
      CHECK(std::string(e.what()) ==
            "harness: could not register callbacks of category test.widgets: not_found; the host lacks "
            "the category or the module's manifest does not list it (registers: \"modkit.spam_checker\"; "
            "name it in MODKIT_MODULE's last argument)");
   }
   CHECK(h.host.registrations.empty());
   CHECK(watch.expired());
}

TEST_CASE("a second registration of one category is the host's conflict") {
   Harness h;
   WidgetCallbacks first, second;
   first.on_widget = [](std::string_view) {};
   second.on_widget = [](std::string_view) {};
   h.api->register_callbacks(std::move(first));
   CHECK_THROWS_WITH_AS(h.api->register_callbacks(std::move(second)),
                        "harness: could not register callbacks of category test.widgets: conflict",
                        modkit::Error);
}

TEST_CASE("Callback accepts lambdas, member functions and nullptr") {
   struct Counter {
      int n = 0;
      int add(int k) { return n += k; }
      int peek(modkit::Call &, int) const { return n; }
   } counter;
   modkit::Call call(nullptr, nullptr);

   modkit::Callback<int(int)> cb;
   CHECK_FALSE(cb);
   cb = {&counter, &Counter::add};
   REQUIRE(cb);
   CHECK(cb(call, 5) == 5);
   cb = {&counter, &Counter::peek}; // a const member function taking the call handle
   CHECK(cb(call, 100) == 5);
   cb = [](modkit::Call &c, int k) { return c.get() == nullptr ? k * 2 : -1; };
   CHECK(cb(call, 4) == 8);
   cb = nullptr;
   CHECK_FALSE(cb);
}

TEST_CASE("every spam checker slot reaches its callback with converted arguments") {
   Harness h;
   std::string log;
   auto note = [&](std::string s) { log += s + ";"; };
   using R = modkit::SpamResult;

   modkit::SpamCheckerCallbacks cb;
   cb.check_event_for_spam = [&](const modkit::Event &e) {
      note(std::string(e.event_id()) + "," + std::string(e.sender()) + "," + std::string(e.type()) + "," +
           (e.is_state() ? "state" : "plain") + "," + e.content().dump() + "," +
           std::to_string(e.origin_server_ts()) + "," + std::string(e.unsigned_json().value_or("-")));
      return R::forbidden;
   };
   cb.should_drop_federated_event = [&](const modkit::Event &e) { return e.state_key() == std::string_view(""); };
   cb.user_may_join_room = [&](std::string_view u, std::string_view r, bool invited) {
      note(std::string(u) + "," + std::string(r) + "," + (invited ? "invited" : "uninvited"));
      return R::limit_exceeded;
   };
   cb.user_may_invite = [&](std::string_view a, std::string_view b, std::string_view r) {
      note(std::string(a) + ">" + std::string(b) + "@" + std::string(r));
      return R::not_spam;
   };
   cb.federated_user_may_invite = [&](const modkit::Event &e) { return e.room_id() == "!r" ? R::too_large : R::not_spam; };
   cb.user_may_send_3pid_invite = [&](std::string_view, std::string_view medium, std::string_view address,
                                      std::string_view) {
      note(std::string(medium) + ":" + std::string(address));
      return R::resource_limit_exceeded;
   };
   cb.user_may_create_room = [&](std::string_view, const nlohmann::json &config) {
      return config.value("preset", "") == "public_chat" ? R::forbidden : R::not_spam;
   };
   cb.user_may_create_room_alias = [&](std::string_view, std::string_view alias) {
      return alias.find("bad") != std::string_view::npos ? R::forbidden : R::not_spam;
   };
   cb.user_may_publish_room = [&](std::string_view, std::string_view) { return R::limit_exceeded; };
   cb.user_may_send_state_event = [&](std::string_view, std::string_view, std::string_view type,
                                      std::string_view key, const nlohmann::json &content) {
      note(std::string(type) + "/" + std::string(key) + "=" + content.dump());
      return R::forbidden;
   };
   cb.check_username_for_spam = [&](const modkit::UserProfile &p, std::string_view requester) {
      note(std::string(p.user_id()) + "," + std::string(p.display_name().value_or("-")) + "," +
           std::string(p.avatar_url().value_or("-")) + "," + std::string(requester));
      return true;
   };
   cb.check_registration_for_spam = [&](const nlohmann::json &email, std::optional<std::string_view> username,
                                        const nlohmann::json &info, std::optional<std::string_view> provider) {
      note((email.is_null() ? std::string("no-email") : email.dump()) + "," +
           std::string(username.value_or("-")) + "," + info.dump() + "," + std::string(provider.value_or("-")));
      return modkit::RegistrationBehaviour::shadow_ban;
   };
   cb.check_media_file_for_spam = [&](std::string_view content, const modkit::MediaFileInfo &info) {
      note(std::string(content) + "," + std::string(info.media_id()) + "," + std::string(info.media_type()) + "," +
           std::to_string(info.media_length()) + "," + (info.is_thumbnail() ? "thumb" : "full") + "," +
           std::string(info.server_name().value_or("local")) + "," + std::string(info.upload_name().value_or("-")));
      return R::too_large;
   };
   cb.check_login_for_spam = [&](std::string_view user, std::optional<std::string_view> device,
                                 std::optional<std::string_view> name, const nlohmann::json &,
                                 std::optional<std::string_view> provider) {
      note(std::string(user) + "," + std::string(device.value_or("-")) + "," + std::string(name.value_or("-")) +
           "," + std::string(provider.value_or("-")));
      return R::forbidden;
   };
   h.api->register_spam_checker_callbacks(std::move(cb));

   const auto c = h.callbacks<modkit_spam_checker_callbacks>(MODKIT_SPAM_CHECKER_ID);
   void *ud = h.user_data(MODKIT_SPAM_CHECKER_ID);
   modkit_call call;
   modkit_spam_result result = -1;
   bool flag = false;

   modkit_event event{};
   event.struct_size = sizeof event;
   event.event_id = str("$e");
   event.room_id = str("!r");
   event.sender = str("@s");
   event.type = str("m.room.message");
   event.content_json = str("{\"body\":\"x\"}");
   event.origin_server_ts = 1234;

   CHECK(c.check_event_for_spam(ud, &call, &event, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);
   CHECK(c.should_drop_federated_event(ud, &call, &event, &flag) == MODKIT_OK);
   CHECK_FALSE(flag);
   event.state_key = str("");
   CHECK(c.should_drop_federated_event(ud, &call, &event, &flag) == MODKIT_OK);
   CHECK(flag);
   CHECK(c.user_may_join_room(ud, &call, str("@u"), str("!j"), true, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_LIMIT_EXCEEDED);
   CHECK(c.user_may_invite(ud, &call, str("@a"), str("@b"), str("!i"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_NOT_SPAM);
   CHECK(c.federated_user_may_invite(ud, &call, &event, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_TOO_LARGE);
   CHECK(c.user_may_send_3pid_invite(ud, &call, str("@a"), str("email"), str("a@b.c"), str("!r"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_RESOURCE_LIMIT_EXCEEDED);
   CHECK(c.user_may_create_room(ud, &call, str("@u"), str("{\"preset\":\"public_chat\"}"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);
   CHECK(c.user_may_create_room_alias(ud, &call, str("@u"), str("#good:x"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_NOT_SPAM);
   CHECK(c.user_may_publish_room(ud, &call, str("@u"), str("!r"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_LIMIT_EXCEEDED);
   CHECK(c.user_may_send_state_event(ud, &call, str("@u"), str("!r"), str("m.room.topic"), str(""),
                                     str("{\"topic\":\"t\"}"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);

   modkit_user_profile profile{};
   profile.struct_size = sizeof profile;
   profile.user_id = str("@p");
   profile.display_name = str("Pat");
   flag = false;
   CHECK(c.check_username_for_spam(ud, &call, &profile, str("@q"), &flag) == MODKIT_OK);
   CHECK(flag);

   modkit_registration_behaviour behaviour = -1;
   CHECK(c.check_registration_for_spam(ud, &call, modkit_str{nullptr, 0}, str("newbie"),
                                       str("[{\"user_agent\":\"ua\",\"ip\":\"1.2.3.4\"}]"), modkit_str{nullptr, 0},
                                       &behaviour) == MODKIT_OK);
   CHECK(behaviour == MODKIT_REGISTRATION_SHADOW_BAN);

   modkit_media_file_info info{};
   info.struct_size = sizeof info;
   info.media_id = str("m1");
   info.media_type = str("image/png");
   info.media_length = 3;
   info.is_thumbnail = true;
   CHECK(c.check_media_file_for_spam(ud, &call, str("PNG"), &info, &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_TOO_LARGE);
   CHECK(c.check_login_for_spam(ud, &call, str("@l"), modkit_str{nullptr, 0}, str("Laptop"), str("[]"),
                                str("oidc"), &result) == MODKIT_OK);
   CHECK(result == MODKIT_SPAM_FORBIDDEN);

   CHECK(log ==
         "$e,@s,m.room.message,plain,{\"body\":\"x\"},1234,-;"
         "@u,!j,invited;"
         "@a>@b@!i;"
         "email:a@b.c;"
         "m.room.topic/={\"topic\":\"t\"};"
         "@p,Pat,-,@q;"
         "no-email,newbie,[{\"ip\":\"1.2.3.4\",\"user_agent\":\"ua\"}],-;"
         "PNG,m1,image/png,3,thumb,local,-;"
         "@l,-,Laptop,oidc;");
}

TEST_CASE("the logger formats with fmt and writes through the host") {
   Harness h;
   const modkit::Logger log = h.api->log();
   log.debug("d {}", 1);
   log.info("loaded {} words from {}", 3, "list");
   log.warning("w {:>4}", "x");
   log.error("e {:.2f}", 1.5);
   log.write(MODKIT_LOG_INFO, "verbatim {}");
   const auto lines = h.host.log_lines();
   REQUIRE(lines.size() == 5);
   CHECK(lines[0].level == MODKIT_LOG_DEBUG);
   CHECK(lines[0].message == "d 1");
   CHECK(lines[1].level == MODKIT_LOG_INFO);
   CHECK(lines[1].message == "loaded 3 words from list");
   CHECK(lines[2].level == MODKIT_LOG_WARNING);
   CHECK(lines[2].message == "w    x");
   CHECK(lines[3].level == MODKIT_LOG_ERROR);
   CHECK(lines[3].message == "e 1.50");
   CHECK(lines[4].message == "verbatim {}");
}

namespace {
struct Unprintable {};
} // namespace

template <>
struct fmt::formatter<Unprintable> : fmt::formatter<std::string_view> {
   template <class Context>
   auto format(const Unprintable &, Context &) const -> decltype(std::declval<Context &>().out()) {
      throw std::runtime_error("cannot print");
   }
};

TEST_CASE("a log line whose formatting throws is replaced, not thrown") {
   Harness h;
   h.api->log().info("value: {}", Unprintable{});
   const auto lines = h.host.log_lines();
   REQUIRE(lines.size() == 1);
   CHECK(lines[0].level == MODKIT_LOG_INFO);
   CHECK(lines[0].message == "(a log line was dropped: formatting it failed)");
}
