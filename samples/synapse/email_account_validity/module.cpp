// email_account_validity: matrix-org/synapse-email-account-validity, ported. Accounts expire
// after `period` unless renewed; `renew_at` before that, a mail with a renewal link (or code) is
// sent to the user's addresses. The config is the original's, unchanged:
//
//   {"period": "6w", "renew_at": "1w", "send_links": true, "renew_email_subject": null}
//
// The parts are in validity.hpp (the module's logic), store.hpp (its table, with the cached
// expiration lookup), mails.hpp (the mail and pages) and config.hpp.
#include "config.hpp"
#include "validity.hpp"

#include <modkit/sdk/module.hpp>

class EmailAccountValidityModule {
public:
   static nlohmann::json config_schema() { return eav::config_schema(); }
   static eav::Config parse_config(const nlohmann::json &raw) { return eav::parse(raw); }

   EmailAccountValidityModule(const eav::Config &config, modkit::Api &api) : validity_(config, api) {}

private:
   eav::EmailAccountValidity validity_;
};

MODKIT_MODULE(EmailAccountValidityModule, "email_account_validity", "1.0.0",
              "Expires accounts unless renewed by a link sent by mail (synapse-email-account-validity)",
              "modkit.account_validity")
