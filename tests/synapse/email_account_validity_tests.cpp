// email_account_validity_tests.cpp - matrix-org/synapse-email-account-validity's test suite
// (tests/test_account_validity.py), case by case with the same names, inputs and expected
// outputs, against the port (samples/synapse/email_account_validity). As the original's tests
// do, these drive the module's own methods (the port keeps their names), with the original's
// test double: an in-memory SQLite database behind the storage service, a mocked ModuleApi (a
// chat.homeserver/1 table: profile "Izzy", threepids as each test sets them, send_mail
// recording) and a timers table that never fires.
#include "mock_homeserver.hpp"
#include "port.hpp"

#include "mails.hpp"
#include "store.hpp"
#include "validity.hpp"

#include <modkit/services/storage.h>
#include <modkit/services/timers.h>

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

// Each file in a namespace of its own: the suite is built as a unity build.
namespace email_account_validity_port {

using nlohmann::json;
using eav::TokenFormat;


// The original's SQLiteStore: one in-memory SQLite connection for the whole test, behind
// modkit.storage/1. Statements run at once, in order; their answers are delivered later.
class SQLiteStore {
public:
   SQLiteStore() {
      REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK);
      table_.struct_size = sizeof table_;
      table_.table_prefix = [](modkit_host *) { return "email_account_validity__"; };
      table_.execute = [](modkit_host *host, modkit_str sql, modkit_str params, modkit_storage_done_fn done,
                          void *user_data) -> modkit_status {
         return of(host).answer(done, user_data, of(host).run(str(sql), params.data ? json::parse(str(params)) : json::array()));
      };
      table_.batch = [](modkit_host *host, modkit_str statements, modkit_storage_done_fn done,
                        void *user_data) -> modkit_status {
         SQLiteStore &self = of(host);
         sqlite3_exec(self.db_, "BEGIN", nullptr, nullptr, nullptr);
         Answer all{MODKIT_OK, json::array(), ""};
         for (const json &s : json::parse(str(statements))) {
            Answer one = self.run(s["sql"], s.value("params", json::array()));
            if (one.status != MODKIT_OK) {
               all = one;
               break;
            }
            all.result.push_back(one.result);
         }
         sqlite3_exec(self.db_, all.status == MODKIT_OK ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr);
         return self.answer(done, user_data, all);
      };
   }
   ~SQLiteStore() {
      if (host_) owners().erase(host_);
      sqlite3_close(db_);
   }
   SQLiteStore(const SQLiteStore &) = delete;
   SQLiteStore &operator=(const SQLiteStore &) = delete;

   void attach(FakeHost &host) {
      host_ = host.host();
      owners()[host_] = this;
      host.extensions[MODKIT_STORAGE_ID] = &table_;
   }

   // Delivers the queued answers; false when there were none.
   bool deliver() {
      std::vector<std::function<void()>> due;
      due.swap(pending_);
      for (auto &f : due) f();
      return !due.empty();
   }

private:
   struct Answer {
      modkit_status status;
      json result;
      std::string message;
   };
   static std::map<modkit_host *, SQLiteStore *> &owners() {
      static std::map<modkit_host *, SQLiteStore *> map;
      return map;
   }
   static SQLiteStore &of(modkit_host *host) { return *owners().at(host); }

   Answer run(const std::string &sql, const json &params) {
      sqlite3_stmt *stmt = nullptr;
      if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
         return {MODKIT_E_INVALID_ARGUMENT, nullptr, sqlite3_errmsg(db_)};
      for (size_t i = 0; i < params.size(); ++i) {
         const json &p = params[i];
         const int at = static_cast<int>(i + 1);
         if (p.is_null()) sqlite3_bind_null(stmt, at);
         else if (p.is_boolean()) sqlite3_bind_int(stmt, at, p.get<bool>());
         else if (p.is_number_integer()) sqlite3_bind_int64(stmt, at, p.get<int64_t>());
         else if (p.is_number()) sqlite3_bind_double(stmt, at, p.get<double>());
         else sqlite3_bind_text(stmt, at, p.get<std::string>().c_str(), -1, SQLITE_TRANSIENT);
      }
      json rows = json::array();
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
         json row = json::object();
         for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
            const char *name = sqlite3_column_name(stmt, c);
            switch (sqlite3_column_type(stmt, c)) {
            case SQLITE_INTEGER: row[name] = sqlite3_column_int64(stmt, c); break;
            case SQLITE_FLOAT: row[name] = sqlite3_column_double(stmt, c); break;
            case SQLITE_NULL: row[name] = nullptr; break;
            default: row[name] = reinterpret_cast<const char *>(sqlite3_column_text(stmt, c));
            }
         }
         rows.push_back(row);
      }
      const int ext = sqlite3_extended_errcode(db_);
      sqlite3_finalize(stmt);
      if (rc != SQLITE_DONE)
         return {(ext & 0xff) == SQLITE_CONSTRAINT ? MODKIT_E_CONFLICT : MODKIT_E_INTERNAL, nullptr, sqlite3_errmsg(db_)};
      return {MODKIT_OK, {{"rows", rows}, {"changes", sqlite3_changes(db_)}}, ""};
   }

   modkit_status answer(modkit_storage_done_fn done, void *user_data, Answer a) {
      pending_.push_back([done, user_data, a] {
         const std::string text = a.result.is_null() ? std::string() : a.result.dump();
         done(user_data, a.status, a.result.is_null() ? modkit_str{nullptr, 0} : modkit_str{text.data(), text.size()},
              a.message.c_str());
      });
      return MODKIT_PENDING;
   }

   sqlite3 *db_ = nullptr;
   modkit_storage_api table_{};
   modkit_host *host_ = nullptr;
   std::vector<std::function<void()>> pending_;
};

// The original's ModuleApi mock.
class MockModuleApi : public port::MockHomeserver {
public:
   struct Mail {
      std::string recipient, subject, html, text;
   };

   MockModuleApi() {
      api().public_baseurl = [](const chat_homeserver_api *, modkit_host *) { return "https://test/"; };
      api().email_app_name = [](const chat_homeserver_api *, modkit_host *) { return "Matrix"; };
      api().get_profile_for_user = [](const chat_homeserver_api *self, modkit_host *, modkit_str,
                                      chat_homeserver_done_fn done, void *user_data) {
         return of<MockModuleApi>(self).answer(done, user_data, {{"displayname", "Izzy"}, {"avatar_url", nullptr}});
      };
      api().get_threepids_for_user = [](const chat_homeserver_api *self, modkit_host *, modkit_str,
                                        chat_homeserver_done_fn done, void *user_data) {
         MockModuleApi &mock = of<MockModuleApi>(self);
         return mock.answer(done, user_data, {{"threepids", mock.threepids}});
      };
      api().send_mail = [](const chat_homeserver_api *self, modkit_host *, modkit_str recipient, modkit_str subject,
                           modkit_str html, modkit_str text, chat_homeserver_done_fn done, void *user_data) {
         MockModuleApi &mock = of<MockModuleApi>(self);
         mock.send_mail_calls.push_back({str(recipient), str(subject), str(html), str(text)});
         return mock.answer(done, user_data, json::object());
      };
   }

   json threepids = json::array(); // get_threepids_for_user's answer
   std::vector<Mail> send_mail_calls;
};

// A timers table whose timers never fire: the 30-minute loop is not under test.
modkit_timers_api idle_timers() {
   modkit_timers_api t{};
   t.struct_size = sizeof t;
   t.start = [](modkit_host *, uint32_t, uint32_t, modkit_timer_fn, void *, uint64_t *out_id) -> modkit_status {
      if (out_id) *out_id = 1;
      return MODKIT_OK;
   };
   t.cancel = [](modkit_host *, uint64_t) -> modkit_status { return MODKIT_OK; };
   t.is_background_instance = [](modkit_host *) { return true; };
   return t;
}

// create_account_validity_module(config): the module over the test doubles.
class Module {
public:
   explicit Module(json config = json::object()) {
      config.update({{"period", "6w"}, {"renew_at", "1w"}});
      host_.categories.insert(MODKIT_ACCOUNT_VALIDITY_ID);
      host_.extensions[CHAT_HOMESERVER_ID] = api.table();
      host_.extensions[MODKIT_TIMERS_ID] = &timers_;
      store_.attach(host_);
      sdk_ = std::make_unique<modkit::Api>(
         modkit::detail::HostContext{host_.api(), host_.host(), "email_account_validity", "modkit.account_validity"});
      host_.begin_init();
      module_ = std::make_unique<eav::EmailAccountValidity>(eav::parse(config), *sdk_);
      host_.end_init(true);
      run(module_->store().create_table()); // create_and_populate_table(populate_users=False)
   }
   ~Module() {
      // What the module asked for is answered while it is there to take the answers.
      store_.deliver();
      api.deliver();
      module_.reset();
   }

   eav::EmailAccountValidity *operator->() { return module_.get(); }
   eav::Store &store() { return module_->store(); }

   // await t: runs it, delivering the doubles' answers until it ends; its value, or its
   // exception rethrown.
   template <class T>
   T run(modkit::task<T> t) {
      std::optional<modkit::detail::Outcome<T>> outcome;
      modkit::detail::start_detached(std::move(t), [&outcome](modkit::detail::Outcome<T> &&o) noexcept {
         outcome.emplace(std::move(o));
      });
      for (int round = 0; !outcome; ++round) {
         REQUIRE(round < 1000);
         const bool answered = store_.deliver();
         api.deliver();
         if (!answered && !outcome) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return outcome->take();
   }

   MockModuleApi api;

private:
   FakeHost host_;
   SQLiteStore store_;
   modkit_timers_api timers_ = idle_timers();
   std::unique_ptr<modkit::Api> sdk_;
   std::unique_ptr<eav::EmailAccountValidity> module_;
};

int64_t now_ms() { return eav::now_ms(); }

const std::regex LONG_TOKEN_REGEX("^[a-zA-Z]{32}$");
const std::regex SHORT_TOKEN_REGEX("^[0-9]{8}$");
const std::string renew_path = "_synapse/client/email_account_validity/renew";


TEST_SUITE("AccountValidityHooksTestCase") {

TEST_CASE("test_user_expired") {
   const std::string user_id = "@izzy:test";
   Module module;
   const int64_t one_hour_ahead = now_ms() + 3600000, one_hour_ago = now_ms() - 3600000;
   // An unknown user: the module cannot tell.
   CHECK_FALSE(module.run(module->is_user_expired(user_id)).has_value());
   // An expiration ahead of now: not expired.
   module.run(module->renew_account_for_user(user_id, one_hour_ahead));
   CHECK(module.run(module->is_user_expired(user_id)) == std::optional<bool>(false));
   // An expiration passed: expired.
   module.run(module->renew_account_for_user(user_id, one_hour_ago));
   CHECK(module.run(module->is_user_expired(user_id)) == std::optional<bool>(true));
}

TEST_CASE("test_on_user_registration") {
   const std::string user_id = "@izzy:test";
   Module module;
   // No expiration yet; this also caches the answer, which registration must invalidate.
   CHECK_FALSE(module.run(module.store().get_expiration_ts_for_user(user_id)).has_value());
   module.run(module->on_user_registration(user_id));
   const std::optional<int64_t> expiration_ts = module.run(module.store().get_expiration_ts_for_user(user_id));
   REQUIRE(expiration_ts.has_value());
   CHECK(*expiration_ts > now_ms());
}

} // TEST_SUITE

TEST_SUITE("AccountValidityEmailTestCase") {

TEST_CASE("test_send_email") {
   const std::string user_id = "@izzy:test";
   Module module;
   module.api.threepids = json::array({{{"medium", "email"}, {"address", "izzy@test"}}});
   // An unknown user: no mail.
   try {
      module.run(module->send_renewal_email_to_user(user_id));
   } catch (const eav::SynapseError &) {
   }
   CHECK(module.api.send_mail_calls.size() == 0);
   module.run(module.store().set_expiration_date_for_user(user_id));
   // A known user with an address: one mail, with a link (send_links defaults to true).
   module.run(module->send_renewal_email_to_user(user_id));
   REQUIRE(module.api.send_mail_calls.size() == 1);
   CHECK(module.api.send_mail_calls[0].html.find(renew_path) != std::string::npos);
   CHECK(module.api.send_mail_calls[0].text.find(renew_path) != std::string::npos);
   // A known user without an address: no mail.
   module.api.threepids = json::array();
   module.run(module->send_renewal_email_to_user(user_id));
   CHECK(module.api.send_mail_calls.size() == 1);
}

TEST_CASE("test_renewal_token") {
   const std::string user_id = "@izzy:test";
   Module module;
   module.run(module.store().set_expiration_date_for_user(user_id));
   module.run(module->generate_unauthenticated_renewal_token(user_id));
   const std::optional<int64_t> old_expiration_ts = module.run(module.store().get_expiration_ts_for_user(user_id));
   REQUIRE(old_expiration_ts.has_value());
   const std::optional<std::string> renewal_token =
      module.run(module.store().get_renewal_token_for_user(user_id, TokenFormat::LONG));
   REQUIRE(renewal_token.has_value());
   CHECK(renewal_token->size() > 0);
   CHECK(std::regex_match(*renewal_token, LONG_TOKEN_REGEX));
   // So that the new expiration is unlikely to equal the old one.
   std::this_thread::sleep_for(std::chrono::milliseconds(500));
   // Renewed once: valid, and the expiration moved.
   const eav::Renewal first = module.run(module->renew_account(*renewal_token));
   CHECK(first.token_valid);
   CHECK_FALSE(first.token_stale);
   CHECK(first.expiration_ts > *old_expiration_ts);
   // The same token again: stale, and the expiration unchanged.
   const eav::Renewal second = module.run(module->renew_account(*renewal_token));
   CHECK_FALSE(second.token_valid);
   CHECK(second.token_stale);
   CHECK(second.expiration_ts == first.expiration_ts);
   // A fake token: neither.
   const eav::Renewal fake = module.run(module->renew_account("fake_token"));
   CHECK_FALSE(fake.token_valid);
   CHECK_FALSE(fake.token_stale);
   CHECK(fake.expiration_ts == 0);
}

TEST_CASE("test_duplicate_token") {
   const std::string user_id_1 = "@izzy1:test", user_id_2 = "@izzy2:test", token = "sometoken";
   Module module;
   module.run(module.store().set_expiration_date_for_user(user_id_1));
   module.run(module.store().set_expiration_date_for_user(user_id_2));
   module.run(module.store().set_renewal_token_for_user(user_id_1, token, TokenFormat::LONG));
   // The same token for another user is refused, with the original's 500.
   std::optional<int> code;
   try {
      module.run(module.store().set_renewal_token_for_user(user_id_2, token, TokenFormat::LONG));
   } catch (const eav::SynapseError &e) {
      code = e.http_status();
   }
   REQUIRE(code.has_value());
   CHECK(*code == 500);
}

TEST_CASE("test_send_link_false") {
   const std::string user_id = "@izzy:test";
   Module module(json{{"send_links", false}});
   module.api.threepids = json::array({{{"medium", "email"}, {"address", "izzy@test"}}});
   module.run(module.store().set_expiration_date_for_user(user_id));
   // The mail has no link.
   module.run(module->send_renewal_email_to_user(user_id));
   REQUIRE(module.api.send_mail_calls.size() == 1);
   CHECK(module.api.send_mail_calls[0].html.find(renew_path) == std::string::npos);
   CHECK(module.api.send_mail_calls[0].text.find(renew_path) == std::string::npos);
   // The token is the short kind: 8 digits.
   const std::optional<std::string> token = module.run(module.store().get_renewal_token_for_user(user_id, TokenFormat::SHORT));
   REQUIRE(token.has_value());
   CHECK(std::regex_match(*token, SHORT_TOKEN_REGEX));
}

} // TEST_SUITE

// Beyond the original's cases: its config errors and durations, and the mail's contents.
TEST_SUITE("email_account_validity port") {

TEST_CASE("config: durations as Synapse reads them, and the original's errors") {
   CHECK(eav::parse({{"period", "6w"}, {"renew_at", "1w"}}).period_ms == 6 * 7 * 86400000LL);
   CHECK(eav::parse({{"period", 5000}, {"renew_at", "30s"}}).renew_at_ms == 30000);
   CHECK(eav::parse({{"period", "2y"}, {"renew_at", "1d"}}).period_ms == 2 * 365 * 86400000LL);
   auto error = [](const json &config) -> std::string {
      try {
         eav::parse(config);
      } catch (const modkit::ConfigError &e) {
         return std::string(e.what()) + (e.json_pointer().empty() ? "" : " at " + e.json_pointer());
      }
      return "accepted";
   };
   CHECK(error({{"renew_at", "1w"}}) == "'period' is required when using email account validity");
   CHECK(error({{"period", "6w"}}) == "'renew_at' is required when using email account validity");
   // As in Python: the trailing "s" is taken as the unit, and the rest is not a number.
   CHECK(error({{"period", "six weeks"}, {"renew_at", "1w"}}) ==
         "invalid literal for int() with base 10: 'six week' at /period");
   CHECK(error({{"period", "6w"}, {"renew_at", true}}) == "invalid literal for int() with base 10: 'true' at /renew_at");
}

TEST_CASE("the renewal mail names the user, the date and the link, and escapes what it puts in HTML") {
   const std::string user_id = "@izzy:test";
   Module module(json{{"renew_email_subject", "Renew your %(app)s account, please"}});
   module.api.threepids = json::array({{{"medium", "email"}, {"address", "izzy@test"}},
                                       {{"medium", "msisdn"}, {"address", "123"}},
                                       {{"medium", "email"}, {"address", "izzy@work.test"}}});
   module.run(module.store().set_expiration_date_for_user(user_id));
   module.run(module->send_renewal_email_to_user(user_id));
   REQUIRE(module.api.send_mail_calls.size() == 2); // every email address, no phone number
   const auto &mail = module.api.send_mail_calls[0];
   CHECK(mail.recipient == "izzy@test");
   CHECK(module.api.send_mail_calls[1].recipient == "izzy@work.test");
   CHECK(mail.subject == "Renew your Matrix account, please");
   CHECK(mail.text.find("Hello Izzy,") != std::string::npos);
   const std::optional<std::string> token = module.run(module.store().get_renewal_token_for_user(user_id, TokenFormat::LONG));
   REQUIRE(token.has_value());
   CHECK(mail.text.find("https://test/" + renew_path + "?token=" + *token) != std::string::npos);
   CHECK(eav::html_escape("<b>\"Izzy\" & co</b>") == "&lt;b&gt;&quot;Izzy&quot; &amp; co&lt;/b&gt;");
}

} // TEST_SUITE

} // namespace email_account_validity_port
