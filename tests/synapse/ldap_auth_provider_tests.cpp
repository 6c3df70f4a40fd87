// ldap_auth_provider_tests.cpp - matrix-org/matrix-synapse-ldap3's test suites (tests/test_simple.py
// and tests/test_ad.py), case by case with the same names, inputs and expected outputs, against
// the port (samples/synapse/ldap_auth_provider). The original's in-memory LDAP server is a real
// slapd holding the same directory; its mocked ModuleApi (get_qualified_user_id on server
// "test", check_user_exists answering every user as existing) is a chat.homeserver/1 table, and
// the module's LDAP exchanges run on a task service of real threads, as the host's would.
#include "mock_homeserver.hpp"
#include "port.hpp"
#include "slapd_server.hpp"

#include <modkit/categories/password_auth_provider.h>
#include <modkit/services/tasks.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// Each file in a namespace of its own: the suite is built as a unity build.
namespace ldap_auth_provider_port {

using nlohmann::json;

namespace {

// The original's module_api mock.
class MockModuleApi : public port::MockHomeserver {
public:
   MockModuleApi() {
      api().get_qualified_user_id = [](const chat_homeserver_api *, modkit_host *, modkit_str localpart, char *out,
                                       size_t capacity, size_t *out_size) -> modkit_status {
         // get_qualified_user_id(username): "@%s:test" unless it starts with "@".
         const std::string name = str(localpart);
         const std::string id = name.rfind('@', 0) == 0 ? name : "@" + name + ":test";
         if (out_size) *out_size = id.size();
         if (id.size() > capacity) return MODKIT_E_NO_MEMORY;
         id.copy(out, id.size());
         return MODKIT_OK;
      };
      api().server_name = [](const chat_homeserver_api *, modkit_host *) { return "test"; };
      api().check_user_exists = [](const chat_homeserver_api *self, modkit_host *, modkit_str user_id,
                                   chat_homeserver_done_fn done, void *user_data) {
         return of<MockModuleApi>(self).answer(done, user_data, {{"user_id", str(user_id)}});
      };
   }
};

// modkit.tasks/1 on real threads: each task on a thread of its own, joined by the destructor.
class ThreadTasks {
public:
   ThreadTasks() {
      table_.struct_size = sizeof table_;
      table_.run = &run;
      table_.cancel = [](modkit_host *, uint64_t) -> modkit_status { return MODKIT_E_NOT_FOUND; }; // tasks start at once
   }
   ~ThreadTasks() {
      for (auto &t : threads()) t.join();
      threads().clear();
   }
   const modkit_tasks_api *table() const { return &table_; }

private:
   static std::vector<std::thread> &threads() {
      static std::vector<std::thread> list; // only the test's thread starts and joins them
      return list;
   }
   static modkit_status MODKIT_ABI run(modkit_host *, const char *, modkit_task_fn fn, modkit_task_done_fn done,
                                       void *user_data, uint64_t *out_id) {
      if (out_id) *out_id = threads().size() + 1;
      threads().emplace_back([fn, done, user_data] {
         modkit_call call; // offload's work blocks and answers at once
         const modkit_status status = fn(user_data, &call);
         if (done) done(user_data, status);
      });
      return MODKIT_PENDING;
   }
   modkit_tasks_api table_{};
};

// create_auth_provider(server, api, config): the module, its ModuleApi and its task threads.
class AuthProvider {
public:
   explicit AuthProvider(const json &config)
      : port_(MODKIT_PORT_LDAP_AUTH_PROVIDER, config, [this](FakeHost &host) {
           host.categories.insert(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
           host.extensions[CHAT_HOMESERVER_ID] = api_.table();
           host.extensions[MODKIT_TASKS_ID] = tasks_.table();
           host.module_name = "ldap_auth_provider";
        }) {
      const Registration *r = port_.registration(MODKIT_PASSWORD_AUTH_PROVIDER_ID);
      REQUIRE(r != nullptr);
      callbacks_ = r->as<modkit_password_auth_provider_callbacks>();
      user_data_ = r->user_data;
   }

   // check_auth(username, "m.login.password", {"password": password}): the user ID, or None.
   std::optional<std::string> check_auth(const std::string &username, const std::string &password) {
      const std::string login = json{{"password", password}}.dump();
      return run([&](modkit_call *call, modkit_auth_result *result, modkit_buffer *user_id) {
         return callbacks_.auth_checkers(user_data_, call, str(username), str("m.login.password"), str(login), result,
                                         user_id);
      });
   }
   std::optional<std::string> check_3pid_auth(const std::string &medium, const std::string &address,
                                              const std::string &password) {
      return run([&](modkit_call *call, modkit_auth_result *result, modkit_buffer *user_id) {
         return callbacks_.check_3pid_auth(user_data_, call, str(medium), str(address), str(password), result, user_id);
      });
   }

private:
   template <class F>
   std::optional<std::string> run(F invoke) {
      modkit_call call;
      modkit_auth_result result = MODKIT_AUTH_NO_OPINION;
      modkit_buffer user_id;
      call.arm();
      modkit_status status = call.returned(invoke(&call, &result, &user_id));
      // The module's coroutine goes back and forth between the task threads and the mock's
      // answers, which this thread delivers until the call completes.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (status == MODKIT_PENDING) {
         api_.deliver();
         if (const auto final = call.final_status()) status = *final;
         else {
            REQUIRE(std::chrono::steady_clock::now() < until);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
         }
      }
      REQUIRE(status == MODKIT_OK);
      if (result != MODKIT_AUTH_AUTHENTICATED) return std::nullopt;
      return user_id.data;
   }

   MockModuleApi api_;  // before port_: the module holds the tables until deinit
   ThreadTasks tasks_;
   port::Port port_;
   modkit_password_auth_provider_callbacks callbacks_{};
   void *user_data_ = nullptr;
};

json simple_config(const test::Slapd &server) {
   return {{"enabled", true},
           {"uri", server.uri()},
           {"base", "ou=people,dc=example,dc=org"},
           {"attributes", {{"uid", "cn"}, {"name", "gn"}, {"mail", "mail"}}}};
}

json search_config(const test::Slapd &server) {
   json c = simple_config(server);
   c["bind_dn"] = "cn=jsmith,ou=people,dc=example,dc=org";
   c["bind_password"] = "eekretsay";
   return c;
}

// AbstractLdapActiveDirectoryTestCase.getDefaultConfig
json active_directory_config(const test::Slapd &server) {
   return {{"enabled", true},
           {"active_directory", true},
           {"uri", server.uri()},
           {"base", "dc=example,dc=org"},
           {"bind_dn", "cn=jsmith,ou=people,dc=example,dc=org"},
           {"bind_password", "eekretsay"},
           {"attributes", {{"uid", "userPrincipalName"}, {"name", "gn"}, {"mail", "mail"}}}};
}

// setUp: the server and the provider, as each original test case has them.
struct Fixture {
   test::Slapd ldap_server;
   AuthProvider auth_provider;
   template <class MakeConfig>
   Fixture(bool active_directory, MakeConfig config) : ldap_server(active_directory), auth_provider(config(ldap_server)) {}
};

} // namespace

TEST_SUITE("LdapSimpleTestCase") {

TEST_CASE("test_unknown_user") {
   Fixture f(false, simple_config);
   CHECK_FALSE(f.auth_provider.check_auth("non_existent", "password"));
}

TEST_CASE("test_incorrect_pwd") {
   Fixture f(false, simple_config);
   CHECK_FALSE(f.auth_provider.check_auth("bob", "wrong_password"));
}

TEST_CASE("test_correct_pwd") {
   Fixture f(false, simple_config);
   CHECK(f.auth_provider.check_auth("bob", "secret") == "@bob:test");
}

TEST_CASE("test_no_pwd") {
   Fixture f(false, simple_config);
   CHECK_FALSE(f.auth_provider.check_auth("bob", ""));
}

} // TEST_SUITE

TEST_SUITE("LdapSearchTestCase") {

TEST_CASE("test_correct_pwd_search_mode") {
   Fixture f(false, search_config);
   CHECK(f.auth_provider.check_auth("bob", "secret") == "@bob:test");
}

TEST_CASE("test_incorrect_pwd_search_mode") {
   Fixture f(false, search_config);
   CHECK_FALSE(f.auth_provider.check_auth("bob", "wrong_password"));
}

TEST_CASE("test_unknown_user_search_mode") {
   Fixture f(false, search_config);
   CHECK_FALSE(f.auth_provider.check_auth("foobar", "some_password"));
}

} // TEST_SUITE

TEST_SUITE("LdapActiveDirectoryTestCase") {

TEST_CASE("test_correct_pwd") {
   Fixture f(true, active_directory_config);
   CHECK(f.auth_provider.check_auth("main.example.org\\mainuser", "abracadabra") == "@mainuser/main.example.org:test");
   CHECK(f.auth_provider.check_auth("main\\mainuser", "abracadabra") == "@mainuser/main.example.org:test");
   CHECK(f.auth_provider.check_auth("subsidiary.example.org\\nonmainuser", "simsalabim") ==
         "@nonmainuser/subsidiary.example.org:test");
   CHECK(f.auth_provider.check_auth("subsidiary\\nonmainuser", "simsalabim") == "@nonmainuser/subsidiary.example.org:test");
   CHECK(f.auth_provider.check_auth("subsidiary.example.org\\mainuser", "changeit") == "@mainuser/subsidiary.example.org:test");
   CHECK(f.auth_provider.check_auth("subsidiary\\mainuser", "changeit") == "@mainuser/subsidiary.example.org:test");
}

TEST_CASE("test_single_email") {
   Fixture f(true, active_directory_config);
   // Two entries hold this mail: no single user to log in.
   CHECK_FALSE(f.auth_provider.check_3pid_auth("email", "mainuser@main.example.org", "abracadabra"));
}

TEST_CASE("test_incorrect_pwd") {
   Fixture f(true, active_directory_config);
   CHECK_FALSE(f.auth_provider.check_auth("main.example.org\\mainuser", "bruteforce"));
   CHECK_FALSE(f.auth_provider.check_auth("subsidiary.example.org\\mainuser", "abracadabra"));
}

TEST_CASE("test_email_login") {
   Fixture f(true, active_directory_config);
   CHECK(f.auth_provider.check_3pid_auth("email", "uniqueuser@main.example.org", "nothing") ==
         "@uniqueuser/main.example.org:test");
}

} // TEST_SUITE

namespace {
json default_domain_config(const test::Slapd &server) {
   json c = active_directory_config(server);
   c["default_domain"] = "main.example.org";
   return c;
}
} // namespace

TEST_SUITE("LdapActiveDirectoryDefaultDomainTestCase") {

TEST_CASE("test_correct_pwd") {
   Fixture f(true, default_domain_config);
   CHECK(f.auth_provider.check_auth("mainuser", "abracadabra") == "@mainuser:test");
   CHECK(f.auth_provider.check_auth("main.example.org\\mainuser", "abracadabra") == "@mainuser:test");
   CHECK(f.auth_provider.check_auth("subsidiary.example.org\\nonmainuser", "simsalabim") ==
         "@nonmainuser/subsidiary.example.org:test");
   CHECK(f.auth_provider.check_auth("subsidiary.example.org\\mainuser", "changeit") == "@mainuser/subsidiary.example.org:test");
}

TEST_CASE("test_incorrect_pwd") {
   Fixture f(true, default_domain_config);
   CHECK_FALSE(f.auth_provider.check_auth("mainuser", "changeit"));
   CHECK_FALSE(f.auth_provider.check_auth("subsidiary.example.org\\mainuser", "abracadabra"));
}

TEST_CASE("test_email_login") {
   Fixture f(true, default_domain_config);
   CHECK(f.auth_provider.check_3pid_auth("email", "uniqueuser@main.example.org", "nothing") == "@uniqueuser:test");
}

} // TEST_SUITE

// Beyond the original's cases: its config errors, and LDAP down.
TEST_SUITE("ldap_auth_provider port") {

TEST_CASE("config errors are the original's") {
   auto error = [](const json &config) -> std::string {
      try {
         port::parse(MODKIT_PORT_LDAP_AUTH_PROVIDER, config);
      } catch (const port::ConfigError &e) {
         return e.what();
      }
      return "accepted";
   };
   const json attributes = {{"uid", "cn"}, {"name", "gn"}, {"mail", "mail"}};
   CHECK(error({{"enabled", true}}) == "LDAP enabled but missing required config values: uri, base, attributes");
   CHECK(error({{"uri", "ldap://x"}, {"base", "dc=x"}, {"attributes", {{"uid", "cn"}}}}) ==
         "LDAP enabled but missing required config values: name, mail");
   CHECK(error({{"uri", "ldap://x"}, {"base", "dc=x"}, {"attributes", attributes}, {"bind_dn", "cn=a"}}) ==
         "Either bind_password or bind_password_file must be set!");
   CHECK(error({{"uri", "ldap://x"}, {"base", "dc=x"}, {"attributes", attributes}, {"validate_cert", true},
                {"tls_options", {{"validate", true}}}}) ==
         "You cannot include both validate_cert and tls_options in the config");
   CHECK(error({{"uri", "ldap://x"}, {"base", "dc=x"}, {"attributes", attributes},
                {"tls_options", {{"local_private_key_password", "secret"}}}})
            .find("tls_options.local_private_key_password is not supported") != std::string::npos);
   CHECK(error({{"uri", "ldap://x"}, {"base", "dc=x"}, {"attributes", attributes}, {"bind_dn", "cn=a"},
                {"bind_password_file", "/nonexistent/password"}})
            .find("No such file or directory: '/nonexistent/password'") != std::string::npos);
   CHECK(error({{"uri", "ldap://x"}, {"base", "dc=x"}, {"attributes", attributes}}) == "accepted");
}

TEST_CASE("bind_password_file: every trailing newline is stripped") {
   test::Slapd server;
   const std::string path = std::string(LDAP_WORK_DIR) + "/bind_password";
   std::ofstream(path) << "eekretsay\n\n";
   json config = search_config(server);
   config.erase("bind_password");
   config["bind_password_file"] = path;
   AuthProvider provider(config);
   CHECK(provider.check_auth("bob", "secret") == "@bob:test");
}

TEST_CASE("LDAP down: no login is authenticated, and the host goes on") {
   test::Slapd server;
   AuthProvider provider(search_config(server));
   REQUIRE(provider.check_auth("bob", "secret") == "@bob:test");
   server.stop();
   CHECK_FALSE(provider.check_auth("bob", "secret"));
}

TEST_CASE("a login with filter characters cannot widen the search") {
   test::Slapd server;
   AuthProvider provider(search_config(server));
   CHECK_FALSE(provider.check_auth("*", "secret"));
   CHECK_FALSE(provider.check_auth("bob)(cn=*", "secret"));
}

} // TEST_SUITE

} // namespace ldap_auth_provider_port
