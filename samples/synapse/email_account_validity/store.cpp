// store.cpp - see store.hpp.
#include "store.hpp"

#include <chrono>

namespace eav {

using json = nlohmann::json;

int64_t now_ms() {
   return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::optional<int64_t> optional_int(const json &v) {
   return v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>()) : std::nullopt;
}
json nullable(const std::optional<std::string> &s) { return s ? json(*s) : json(); }
json nullable(const std::optional<int64_t> &n) { return n ? json(*n) : json(); }

} // namespace

Store::Store(const Config &config, modkit::Api &api)
   : db_(api), table_(std::string(db_.table_prefix()) + "email_account_validity"), period_ms_(config.period_ms),
     renew_at_ms_(config.renew_at_ms),
     expiration_ts_(api, "get_expiration_ts_for_user", {}, this, &Store::fetch_expiration_ts) {}

const char *Store::token_column(TokenFormat format) {
   return format == TokenFormat::LONG ? "long_renewal_token" : "short_renewal_token";
}

json Store::create_statements() const {
   const std::string prefix(db_.table_prefix());
   return json::array(
      {{{"sql", "CREATE TABLE IF NOT EXISTS " + table_ +
                   "(user_id TEXT PRIMARY KEY, expiration_ts_ms BIGINT NOT NULL, email_sent BOOLEAN NOT NULL, "
                   "long_renewal_token TEXT, short_renewal_token TEXT, token_used_ts_ms BIGINT)"}},
       {{"sql", "CREATE UNIQUE INDEX IF NOT EXISTS " + prefix + "long_renewal_token_idx ON " + table_ +
                   "(long_renewal_token)"}},
       {{"sql", "CREATE UNIQUE INDEX IF NOT EXISTS " + prefix + "short_renewal_token_idx ON " + table_ +
                   "(short_renewal_token, user_id)"}}});
}

modkit::task<void> Store::create_table() {
   const json statements = create_statements();
   co_await db_.transaction(statements);
}

void Store::start_create_table(std::function<void(const std::string &)> on_failure) {
   db_.batch(create_statements(), [on_failure = std::move(on_failure)](modkit_status status, json, std::string message) {
      if (status != MODKIT_OK) on_failure(message);
   });
}

modkit::task<std::vector<ExpiringUser>> Store::get_users_expiring_soon() {
   // Statements and parameters are built before co_await: g++ 12 mishandles temporaries made
   // of string literals inside a co_await expression.
   const std::string sql =
      "SELECT user_id, expiration_ts_ms FROM " + table_ + " WHERE email_sent = ? AND (expiration_ts_ms - ?) <= ?";
   const json params = json::array({0, now_ms(), renew_at_ms_});
   const json r = co_await db_.query(sql, params);
   std::vector<ExpiringUser> users;
   for (const json &row : r["rows"])
      users.push_back({row["user_id"].get<std::string>(), optional_int(row["expiration_ts_ms"])});
   co_return users;
}

modkit::task<void> Store::set_account_validity_for_user(std::string user_id, int64_t expiration_ts, bool email_sent,
                                                        TokenFormat token_format,
                                                        std::optional<std::string> renewal_token,
                                                        std::optional<int64_t> token_used_ts) {
   const std::string column = token_column(token_format);
   const std::string sql = "INSERT INTO " + table_ + " (user_id, expiration_ts_ms, email_sent, " + column +
                           ", token_used_ts_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                           "expiration_ts_ms = excluded.expiration_ts_ms, email_sent = excluded.email_sent, " +
                           column + " = excluded." + column + ", token_used_ts_ms = excluded.token_used_ts_ms";
   const json params =
      json::array({user_id, expiration_ts, email_sent ? 1 : 0, nullable(renewal_token), nullable(token_used_ts)});
   co_await db_.query(sql, params);
   expiration_ts_.invalidate(std::string_view(user_id));
}

modkit::task<std::optional<int64_t>> Store::get_expiration_ts_for_user(std::string user_id) {
   co_return co_await expiration_ts_(user_id);
}

modkit::task<std::optional<int64_t>> Store::fetch_expiration_ts(std::string_view user_id) {
   const std::string sql = "SELECT expiration_ts_ms FROM " + table_ + " WHERE user_id = ?";
   const json params = json::array({std::string(user_id)});
   const json r = co_await db_.query(sql, params);
   if (r["rows"].empty()) co_return std::nullopt;
   co_return optional_int(r["rows"][0]["expiration_ts_ms"]);
}

modkit::task<void> Store::set_renewal_token_for_user(std::string user_id, std::string renewal_token,
                                                     TokenFormat token_format) {
   const std::string sql =
      "UPDATE " + table_ + " SET " + token_column(token_format) + " = ?, token_used_ts_ms = NULL WHERE user_id = ?";
   const json params = json::array({renewal_token, user_id});
   json r;
   bool failed = false;
   try {
      r = co_await db_.query(sql, params);
   } catch (const modkit::Error &) { // a token another user holds: the unique index refuses it
      failed = true;
   }
   if (failed || r.value("changes", 0) != 1) throw SynapseError(500, "Failed to update renewal token");
}

modkit::task<TokenOwner> Store::validate_renewal_token(std::string renewal_token, TokenFormat token_format,
                                                       std::optional<std::string> user_id) {
   std::string sql = "SELECT user_id, expiration_ts_ms, token_used_ts_ms FROM " + table_ + " WHERE " +
                     token_column(token_format) + " = ?";
   json params = json::array({renewal_token});
   if (user_id) {
      sql += " AND user_id = ?";
      params.push_back(*user_id);
   }
   const json r = co_await db_.query(sql, params);
   if (r["rows"].size() != 1) throw SynapseError(404, "No row found");
   const json &row = r["rows"][0];
   co_return TokenOwner{row["user_id"].get<std::string>(), row["expiration_ts_ms"].get<int64_t>(),
                        optional_int(row["token_used_ts_ms"])};
}

modkit::task<void> Store::set_expiration_date_for_user(std::string user_id) {
   const std::string sql = "INSERT INTO " + table_ +
                           " (user_id, expiration_ts_ms, email_sent) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE "
                           "SET expiration_ts_ms = excluded.expiration_ts_ms, email_sent = excluded.email_sent";
   const json params = json::array({user_id, now_ms() + period_ms_, 0});
   co_await db_.query(sql, params);
   expiration_ts_.invalidate(std::string_view(user_id));
}

modkit::task<void> Store::set_renewal_mail_status(std::string user_id, bool email_sent) {
   const std::string sql = "UPDATE " + table_ + " SET email_sent = ? WHERE user_id = ?";
   const json params = json::array({email_sent ? 1 : 0, user_id});
   const json r = co_await db_.query(sql, params);
   if (r.value("changes", 0) != 1) throw SynapseError(404, "No row found");
}

modkit::task<std::optional<std::string>> Store::get_renewal_token_for_user(std::string user_id, TokenFormat token_format) {
   const std::string sql =
      std::string("SELECT ") + token_column(token_format) + " AS token FROM " + table_ + " WHERE user_id = ?";
   const json params = json::array({user_id});
   const json r = co_await db_.query(sql, params);
   if (r["rows"].size() != 1) throw SynapseError(404, "No row found");
   const json &token = r["rows"][0]["token"];
   co_return token.is_string() ? std::optional<std::string>(token.get<std::string>()) : std::nullopt;
}

} // namespace eav
