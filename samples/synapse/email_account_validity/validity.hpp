// validity.hpp - the module: synapse-email-account-validity's EmailAccountValidity (with its
// EmailAccountValidityBase and servlets), over the host's storage, timers and homeserver API.
// Its methods are the original's, with the same names, so its tests drive them as the
// original's do.
#pragma once

#include "config.hpp"
#include "store.hpp"

#include <chat_host/homeserver.hpp>
#include <modkit/sdk/categories/account_validity.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/services/timers.hpp>
#include <modkit/sdk/task.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace eav {

// renew_account's answer: whether the token was valid and unused, valid but used already, and
// the account's expiration (0 for an invalid token).
struct Renewal {
   bool token_valid = false;
   bool token_stale = false;
   int64_t expiration_ts = 0;
};

class EmailAccountValidity {
public:
   // Throws modkit::ConfigError when the host has no public_baseurl (links need it).
   EmailAccountValidity(const Config &config, modkit::Api &api);
   ~EmailAccountValidity();

   Store &store() { return store_; }

   modkit::task<std::optional<bool>> is_user_expired(std::string user_id);
   modkit::task<void> on_user_registration(std::string user_id);
   // SynapseError(400) when the user has no expiration date.
   modkit::task<void> send_renewal_email_to_user(std::string user_id);
   // To every email address of the user; nothing when they have none.
   modkit::task<void> send_renewal_email(std::string user_id, int64_t expiration_ts);
   modkit::task<std::string> generate_authenticated_renewal_token(std::string user_id);
   // SynapseError(500) when five random tokens in a row were taken.
   modkit::task<std::string> generate_unauthenticated_renewal_token(std::string user_id);
   modkit::task<Renewal> renew_account(std::string renewal_token, std::optional<std::string> user_id = std::nullopt);
   modkit::task<int64_t> renew_account_for_user(std::string user_id, std::optional<int64_t> expiration_ts = std::nullopt,
                                                bool email_sent = false,
                                                std::optional<std::string> renewal_token = std::nullopt);
   // The admin API's body: user_id, and optionally expiration_ts and enable_renewal_emails.
   modkit::task<int64_t> set_account_validity_from_request(nlohmann::json body);
   // The looping call: renewal mails to the users expiring within renew_at.
   modkit::task<void> send_renewal_emails();

private:
   void register_callbacks(modkit::Api &api);
   modkit::task<void> serve(std::string subpath, std::string method, std::optional<std::string> user,
                            std::optional<std::string> token, std::string body, modkit::Response &response);

   Config config_;
   modkit::Api &api_;
   chat_host::Homeserver hs_;
   std::string public_baseurl_;
   std::string subject_;
   Store store_;
   modkit::Timer send_loop_;
};

} // namespace eav
