// typed_dynamic_tests.cpp - the dynamic path (modkit_loader_dispatch_json) reaches the same
// decision as the typed path (entry.fn cast to the category header's type, combined with
// modkit/dispatch.hpp) for the same events, on the standard spam-checker category (the C sample
// module spam_c and the probe) and password-auth-provider category (two auth probes).
#include <modkit/categories/password_auth_provider.h>
#include <modkit/categories/spam_checker.h>
#include <modkit/loader.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

using json = nlohmann::json;
using Kind = modkit::Outcome::Kind;

namespace {

struct Host {
   modkit::Loader loader;
   modkit_buffer *out = modkit_loader_buffer_create();
   modkit_buffer *buf = modkit_loader_buffer_create(); // the typed path's "*buf" output
   modkit_call call = modkit_call_make({"", 0});
   std::set<std::string> seen; // every dynamic outcome compared, so tests can show they are varied

   explicit Host(const json &modules) : loader(options()) {
      const json config = {{"module_path", {MODKIT_FIXTURE_DIR, MODKIT_SAMPLE_MODULE_DIR, MODKIT_HOSTS_TEST_DIR}},
                           {"modules", modules}};
      loader.load(config.dump());
   }
   ~Host() {
      modkit_loader_buffer_destroy(out);
      modkit_loader_buffer_destroy(buf);
   }
   Host(const Host &) = delete;
   Host &operator=(const Host &) = delete;

   static modkit::Loader::Options options() {
      modkit::Loader::Options o;
      o.categories = {modkit_spam_checker_category(), modkit_password_auth_provider_category()};
      o.log = [](modkit_log_level, const char *, std::string_view) {}; // quiet: failures are expected
      return o;
   }

   json dispatch(const char *category, const char *slot, const json &args) {
      const std::string text = args.dump();
      modkit_loader_buffer_clear(out);
      const modkit_status s =
         modkit_loader_dispatch_json(loader.get(), category, slot, text.data(), text.size(), nullptr, out);
      const modkit_str r = modkit_loader_buffer_data(out);
      json doc = json::parse(std::string(r.data, r.size));
      doc["returned"] = modkit_status_name(s);
      return doc;
   }

   // The typed path's *buf output after a call, and emptied for the next one.
   std::string take_buf() {
      const modkit_str r = modkit_loader_buffer_data(buf);
      std::string text(r.data, r.size);
      modkit_loader_buffer_clear(buf);
      return text;
   }
};

const char *kind_name(Kind kind) {
   switch (kind) {
   case Kind::decided: return "decided";
   case Kind::failed_closed: return "failed_closed";
   case Kind::error: return "error";
   default: return "no_opinion";
   }
}

// The typed outcome and the deciding module's outputs against the dynamic result.
void check_same(Host &host, const modkit::Outcome &typed, const json &typed_answer, const json &dynamic) {
   INFO("dynamic result: " << dynamic.dump());
   host.seen.insert(dynamic.value("outcome", std::string("missing")));
   CHECK(dynamic["outcome"] == kind_name(typed.kind));
   CHECK(dynamic["status"] == modkit_status_name(typed.status));
   const json module = typed.module_index == UINT32_MAX ? json() : json(host.loader.module(typed.module_index).name);
   CHECK(dynamic["module"] == module);
   if (typed.kind == Kind::decided) CHECK(dynamic["answer"] == typed_answer);
   CHECK(dynamic["returned"] == modkit_status_name(typed.kind == Kind::error ? typed.status : MODKIT_OK));
}

std::string text(const json &j, const char *key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; }
modkit_str view(const std::string &s) { return {s.data(), s.size()}; }
// JSON null is the absent string on the dynamic path; the typed path passes {NULL, 0} for it.
modkit_str view_or_absent(const json &j, const char *key, const std::string &s) {
   return j.contains(key) && !j[key].is_null() ? view(s) : modkit_str{nullptr, 0};
}

// ---- spam checker ----

void compare_event(Host &host, const json &event) {
   auto slot = host.loader.slot<&modkit_spam_checker_callbacks::check_event_for_spam>(MODKIT_SPAM_CHECKER_ID);
   const std::string sender = text(event, "sender"), type = text(event, "type");
   const std::string content = event["content_json"].dump();
   modkit_event e{};
   e.struct_size = sizeof e;
   e.sender = view(sender);
   e.type = view(type);
   e.content_json = view(content);
   modkit_spam_result result = MODKIT_NOT_SPAM;
   const modkit::Outcome out = modkit::first_non_zero(
      slot.raw(), result,
      [&](const modkit_loader_entry &entry, modkit_spam_result *r) {
         return slot.fn(entry)(entry.user_data, &host.call, &e, r);
      },
      MODKIT_SPAM_FORBIDDEN);
   check_same(host, out, {{"result", result}},
              host.dispatch(MODKIT_SPAM_CHECKER_ID, "check_event_for_spam", {{"event", event}}));
}

std::vector<json> events() {
   auto message = [](const char *sender, const json &content) {
      return json{{"sender", sender}, {"type", "m.room.message"}, {"content_json", content}};
   };
   return {message("@alice:example.org", {{"msgtype", "m.text"}, {"body", "lunch at noon?"}}),
           message("@mallory:example.org", {{"msgtype", "m.text"}, {"body", "BUY NOW: cheap watches"}}),
           message("@mallory:example.org", {{"body", "visit my Casino"}}),
           message("@bob:example.org", {{"body", std::string(150, 'a')}}),
           message("@bob:example.org", {{"body", 42}}),
           message("@bob:example.org", json::object())};
}

json spam_c(int max_length = 100) {
   return {{"module", "spam_c"}, {"config", {{"blocked_words", {"buy now", "casino"}}, {"max_length", max_length}}}};
}

// The probe that declares and registers only check_event_for_spam's category.
json probe(const json &answer, const json &errors = json::object()) {
   return {{"module", "probe_standard"},
           {"config", {{"tag", "a"}, {"register", false}, {"answers", {{"check_event_for_spam", answer}}},
                       {"errors", errors}}}};
}

} // namespace

TEST_CASE("check_event_for_spam decides the same on both paths, whatever the probe answers") {
   const std::vector<std::pair<const char *, json>> scenarios = {
      {"the C module first, the probe has no opinion", {spam_c(), probe(0)}},
      {"the probe first, objecting to everything", {probe(MODKIT_SPAM_LIMIT_EXCEEDED), spam_c()}},
      {"the probe first, failing (the slot propagates)", {probe(0, {{"check_event_for_spam", MODKIT_E_INTERNAL}}), spam_c()}},
      {"the probe first, answering out of range", {probe(9), spam_c()}},
      {"the C module first, the probe failing after it", {spam_c(), probe(0, {{"check_event_for_spam", MODKIT_E_TIMEOUT}})}},
   };
   std::set<std::string> seen;
   for (const auto &[name, modules] : scenarios) {
      CAPTURE(name);
      Host host(modules);
      for (const json &event : events()) {
         CAPTURE(event.dump());
         compare_event(host, event);
      }
      seen.insert(host.seen.begin(), host.seen.end());
   }
   CHECK(seen == std::set<std::string>{"decided", "error", "no_opinion"});
}

TEST_CASE("profiles and room aliases decide the same on both paths") {
   Host host(json{spam_c()});
   auto usernames = host.loader.slot<&modkit_spam_checker_callbacks::check_username_for_spam>(MODKIT_SPAM_CHECKER_ID);
   for (const json &profile : {json{{"user_id", "@m:x"}, {"display_name", "Casino Mallory"}},
                               json{{"user_id", "@c:x"}, {"display_name", "Carol"}},
                               json{{"user_id", "@n:x"}, {"display_name", nullptr}}}) {
      CAPTURE(profile.dump());
      const std::string user = text(profile, "user_id"), display = text(profile, "display_name");
      modkit_user_profile p{};
      p.struct_size = sizeof p;
      p.user_id = view(user);
      p.display_name = view_or_absent(profile, "display_name", display);
      bool hidden = false;
      const modkit::Outcome out = modkit::first_non_zero(usernames.raw(), hidden, [&](const modkit_loader_entry &e, bool *r) {
         return usernames.fn(e)(e.user_data, &host.call, &p, modkit_str{"@q:x", 4}, r);
      });
      check_same(host, out, {{"is_spam", hidden}},
                 host.dispatch(MODKIT_SPAM_CHECKER_ID, "check_username_for_spam",
                               {{"user_profile", profile}, {"requester_id", "@q:x"}}));
   }
   auto aliases = host.loader.slot<&modkit_spam_checker_callbacks::user_may_create_room_alias>(MODKIT_SPAM_CHECKER_ID);
   for (const std::string alias : {"#casino:x", "#lobby:x"}) {
      modkit_spam_result result = MODKIT_NOT_SPAM;
      const modkit::Outcome out = modkit::first_non_zero(aliases.raw(), result, [&](const modkit_loader_entry &e, modkit_spam_result *r) {
         return aliases.fn(e)(e.user_data, &host.call, modkit_str{"@u:x", 4}, view(alias), r);
      });
      check_same(host, out, {{"result", result}},
                 host.dispatch(MODKIT_SPAM_CHECKER_ID, "user_may_create_room_alias",
                               {{"user_id", "@u:x"}, {"room_alias", alias}}));
   }
   CHECK(host.seen == std::set<std::string>{"decided", "no_opinion"});
}

// ---- password auth provider ----

namespace {

json auth_probes(const json &a_errors = json::object()) {
   return {{{"module", "auth_probe_a"},
            {"config", {{"tag", "a"}, {"passwords", {{"alice", "wonderland"}}}, {"emails", {{"alice@example.org", "alice"}}},
                        {"blocked_domain", "blocked.example"}, {"errors", a_errors}}}},
           {{"module", "auth_probe_b"},
            {"config", {{"tag", "b"}, {"passwords", {{"bob", "builder"}, {"alice", "other"}}},
                        {"emails", {{"bob@example.org", "bob"}}}, {"username_prefix", "b_"},
                        {"display_name_prefix", "B "}}}}};
}

// auth_checkers and check_3pid_auth: first AUTHENTICATED wins, with the user ID in a *buf.
template <auto Member, class... Args>
void compare_auth(Host &host, const char *slot_name, const json &args, Args... inputs) {
   auto slot = host.loader.slot<Member>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   modkit_auth_result result = MODKIT_AUTH_NO_OPINION;
   std::string user_id;
   const modkit::Outcome out = modkit::first_non_zero(slot.raw(), result, [&](const modkit_loader_entry &e, modkit_auth_result *r) {
      const modkit_status s = slot.fn(e)(e.user_data, &host.call, inputs..., r, host.buf);
      user_id = host.take_buf();
      return s;
   });
   check_same(host, out, {{"result", result}, {"user_id", user_id}},
              host.dispatch(MODKIT_PASSWORD_AUTH_PROVIDER_ID, slot_name, args));
}

// get_username_for_registration and get_displayname_for_registration: the first found wins.
template <auto Member>
void compare_registration(Host &host, const char *slot_name, const char *output, const json &params) {
   auto slot = host.loader.slot<Member>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   const std::string uia = "{}", body = params.dump();
   bool found = false;
   std::string name;
   const modkit::Outcome out = modkit::first_non_zero(slot.raw(), found, [&](const modkit_loader_entry &e, bool *r) {
      const modkit_status s = slot.fn(e)(e.user_data, &host.call, view(uia), view(body), r, host.buf);
      name = host.take_buf();
      return s;
   }, false);
   check_same(host, out, {{"found", found}, {output, name}},
              host.dispatch(MODKIT_PASSWORD_AUTH_PROVIDER_ID, slot_name, {{"uia_results", json::object()}, {"params", params}}));
}

void compare_password_slots(Host &host) {
   for (const auto &[user, password] : std::vector<std::pair<std::string, std::string>>{
           {"alice", "wonderland"}, {"alice", "other"}, {"bob", "builder"}, {"carol", "x"}}) {
      CAPTURE(user + "/" + password);
      const std::string type = "m.login.password", dict = json{{"password", password}}.dump();
      compare_auth<&modkit_password_auth_provider_callbacks::auth_checkers>(
         host, "auth_checkers", {{"username", user}, {"login_type", type}, {"login_dict", {{"password", password}}}},
         view(user), view(type), view(dict));
   }
   for (const std::string address : {"alice@example.org", "bob@example.org", "eve@example.org"}) {
      CAPTURE(address);
      const std::string medium = "email", password = address[0] == 'a' ? "wonderland" : "builder";
      compare_auth<&modkit_password_auth_provider_callbacks::check_3pid_auth>(
         host, "check_3pid_auth", {{"medium", medium}, {"address", address}, {"password", password}}, view(medium),
         view(address), view(password));

      auto allowed_slot = host.loader.slot<&modkit_password_auth_provider_callbacks::is_3pid_allowed>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
      bool allowed = true;
      const modkit::Outcome out = modkit::all_true(allowed_slot.raw(), allowed, [&](const modkit_loader_entry &e, bool *r) {
         return allowed_slot.fn(e)(e.user_data, &host.call, view(medium), view(address), true, r);
      });
      check_same(host, out, {{"allowed", allowed}},
                 host.dispatch(MODKIT_PASSWORD_AUTH_PROVIDER_ID, "is_3pid_allowed",
                               {{"medium", medium}, {"address", address}, {"registration", true}}));
   }
   const std::string blocked = "eve@blocked.example";
   auto allowed_slot = host.loader.slot<&modkit_password_auth_provider_callbacks::is_3pid_allowed>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   bool allowed = true;
   const modkit::Outcome refused = modkit::all_true(allowed_slot.raw(), allowed, [&](const modkit_loader_entry &e, bool *r) {
      return allowed_slot.fn(e)(e.user_data, &host.call, modkit_str{"email", 5}, view(blocked), false, r);
   });
   check_same(host, refused, {{"allowed", allowed}},
              host.dispatch(MODKIT_PASSWORD_AUTH_PROVIDER_ID, "is_3pid_allowed",
                            {{"medium", "email"}, {"address", blocked}, {"registration", false}}));

   for (const json &params : {json{{"username", "newbie"}}, json::object()}) {
      CAPTURE(params.dump());
      compare_registration<&modkit_password_auth_provider_callbacks::get_username_for_registration>(
         host, "get_username_for_registration", "username", params);
      compare_registration<&modkit_password_auth_provider_callbacks::get_displayname_for_registration>(
         host, "get_displayname_for_registration", "display_name", params);
   }

   auto logged_out = host.loader.slot<&modkit_password_auth_provider_callbacks::on_logged_out>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   size_t called = 0;
   const modkit::Outcome ran = modkit::run_all(logged_out.raw(), [&](const modkit_loader_entry &e) {
      ++called;
      return logged_out.fn(e)(e.user_data, &host.call, modkit_str{"@a:x", 4}, modkit_str{nullptr, 0}, modkit_str{"t", 1});
   });
   const json all = host.dispatch(MODKIT_PASSWORD_AUTH_PROVIDER_ID, "on_logged_out",
                                  {{"user_id", "@a:x"}, {"device_id", nullptr}, {"access_token", "t"}});
   check_same(host, ran, json(), all);
   CHECK(all["answers"].size() == called);

   // merge: every module's declaration, in config order.
   auto types = host.loader.slot<&modkit_password_auth_provider_callbacks::get_supported_login_types>(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
   json declared = json::array();
   const modkit::Outcome merged = modkit::merge<std::string>(
      types.raw(),
      [&](const modkit_loader_entry &e, std::string *value) {
         const modkit_status s = types.fn(e)(e.user_data, &host.call, host.buf);
         *value = host.take_buf();
         return s;
      },
      [&](const std::string &value, const modkit_loader_entry &) {
         declared.push_back(value);
         return false;
      });
   const json dynamic = host.dispatch(MODKIT_PASSWORD_AUTH_PROVIDER_ID, "get_supported_login_types", json::object());
   check_same(host, merged, json(), dynamic);
   json dynamic_declared = json::array();
   for (const json &a : dynamic["answers"])
      if (a.contains("outputs")) dynamic_declared.push_back(a["outputs"]["login_types"]);
   CHECK(dynamic_declared == declared);
}

} // namespace

TEST_CASE("password auth provider slots decide the same on both paths") {
   SUBCASE("every module answers") {
      Host host(auth_probes());
      compare_password_slots(host);
      CHECK(host.seen == std::set<std::string>{"decided", "no_opinion"});
   }
   SUBCASE("the first module fails in every slot: fail open, fail closed and propagate") {
      const json errors = {{"auth_checkers", MODKIT_E_INTERNAL}, {"check_3pid_auth", MODKIT_E_INTERNAL},
                           {"is_3pid_allowed", MODKIT_E_TIMEOUT}, {"get_username_for_registration", MODKIT_E_INTERNAL},
                           {"get_displayname_for_registration", MODKIT_E_DENIED}, {"on_logged_out", MODKIT_E_INTERNAL},
                           {"get_supported_login_types", MODKIT_E_CONFLICT}};
      Host host(auth_probes(errors));
      compare_password_slots(host);
      CHECK(host.seen == std::set<std::string>{"decided", "no_opinion", "failed_closed", "error"});
   }
}
