// store.hpp - the module's table (email_account_validity, behind the module's table prefix) over
// the host's SQL storage (modkit.storage/1), as the original's EmailAccountValidityStore keeps
// it in Synapse's database. Every method is a coroutine that awaits the storage service.
#pragma once

#include "config.hpp"

#include <modkit/sdk/cached.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/services/storage.hpp>
#include <modkit/sdk/task.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eav {

// Synapse's SynapseError: an HTTP status code and a message, which the web resources answer.
class SynapseError : public modkit::Error {
public:
   SynapseError(int http_status, const std::string &message)
      : modkit::Error(MODKIT_E_INTERNAL, message), http_status_(http_status) {}
   int http_status() const noexcept { return http_status_; } // the original's SynapseError.code

private:
   int http_status_;
};

// LONG: 32 letters, sent in a link; SHORT: 8 digits, typed into a client by its user.
enum class TokenFormat { LONG, SHORT };

struct ExpiringUser {
   std::string user_id;
   std::optional<int64_t> expiration_ts_ms;
};

struct TokenOwner {
   std::string user_id;
   int64_t expiration_ts_ms = 0;
   std::optional<int64_t> token_used_ts_ms;
};

int64_t now_ms();

class Store {
public:
   // Registers get_expiration_ts_for_user's cache with the host. [init-only]
   Store(const Config &config, modkit::Api &api);

   // Creates the table and its indexes if missing. Populating it from Synapse's users table,
   // as the original can, has no counterpart: a host's own tables are not a module's to read.
   modkit::task<void> create_table();
   // The same, not awaited: the statements are accepted before this returns, so every later
   // statement of the module finds the table. on_failure gets the storage's message.
   void start_create_table(std::function<void(const std::string &)> on_failure);
   // Users whose account expires within renew_at and who were sent no mail yet.
   modkit::task<std::vector<ExpiringUser>> get_users_expiring_soon();
   modkit::task<void> set_account_validity_for_user(std::string user_id, int64_t expiration_ts, bool email_sent,
                                                    TokenFormat token_format,
                                                    std::optional<std::string> renewal_token = std::nullopt,
                                                    std::optional<int64_t> token_used_ts = std::nullopt);
   // Cached (Synapse's @cached), and invalidated by every write of the user's row.
   modkit::task<std::optional<int64_t>> get_expiration_ts_for_user(std::string user_id);
   // SynapseError(500) when the user has no row or another user holds the token.
   modkit::task<void> set_renewal_token_for_user(std::string user_id, std::string renewal_token, TokenFormat token_format);
   // SynapseError(404) when no row (of user_id, if given) holds the token.
   modkit::task<TokenOwner> validate_renewal_token(std::string renewal_token, TokenFormat token_format,
                                                   std::optional<std::string> user_id = std::nullopt);
   modkit::task<void> set_expiration_date_for_user(std::string user_id);
   modkit::task<void> set_renewal_mail_status(std::string user_id, bool email_sent);
   modkit::task<std::optional<std::string>> get_renewal_token_for_user(std::string user_id, TokenFormat token_format);

   const std::string &table() const { return table_; }

private:
   modkit::task<std::optional<int64_t>> fetch_expiration_ts(std::string_view user_id);
   static const char *token_column(TokenFormat format);
   nlohmann::json create_statements() const;

   modkit::Storage db_;
   std::string table_;
   int64_t period_ms_, renew_at_ms_;
   modkit::cached<modkit::task<std::optional<int64_t>>(std::string_view)> expiration_ts_;
};

} // namespace eav
