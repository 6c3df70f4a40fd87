// validity.cpp - see validity.hpp.
#include "validity.hpp"

#include "mails.hpp"

#include <chrono>
#include <random>
#include <regex>
#include <utility>

namespace eav {

using json = nlohmann::json;

namespace {

constexpr const char *resource_path = "/_synapse/client/email_account_validity";

std::string random_from(const std::string &alphabet, size_t length) {
   thread_local std::random_device device; // the original draws from secrets (the OS's source)
   std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
   std::string out;
   for (size_t i = 0; i < length; ++i) out += alphabet[pick(device)];
   return out;
}

const std::regex long_token("^[a-zA-Z]{32}$");
const std::regex short_token("^[0-9]{8}$");

void send_error(modkit::Response &response, int status, const std::string &errcode, const std::string &message) {
   response.send_json({{"errcode", errcode}, {"error", message}}, status);
}

} // namespace

EmailAccountValidity::EmailAccountValidity(const Config &config, modkit::Api &api)
   : config_(config), api_(api), hs_(api), store_(config, api) {
   const std::optional<std::string_view> baseurl = hs_.public_baseurl();
   if (!baseurl) throw modkit::ConfigError("Can't send renewal emails without 'public_baseurl'");
   public_baseurl_ = std::string(*baseurl);
   subject_ = renewal_subject(config_.renew_email_subject, hs_.email_app_name());
   // Accepted before any other statement of the module, so everything after finds the table.
   store_.start_create_table([&api](const std::string &failure) {
      api.log().error("Could not create the email account validity table: {}", failure);
   });
   register_callbacks(api);
}

EmailAccountValidity::~EmailAccountValidity() = default;

void EmailAccountValidity::register_callbacks(modkit::Api &api) {
   if (modkit::is_background_instance(api))
      send_loop_ = modkit::Timer::every(api, std::chrono::minutes(30),
                                        [this]() -> modkit::task<void> { return send_renewal_emails(); });
   modkit::AccountValidityCallbacks callbacks;
   callbacks.is_user_expired = [this](std::string_view user_id) { return is_user_expired(std::string(user_id)); };
   callbacks.on_user_registration = [this](std::string_view user_id) { return on_user_registration(std::string(user_id)); };
   callbacks.on_legacy_send_mail = [this](std::string_view user_id) {
      return send_renewal_email_to_user(std::string(user_id));
   };
   callbacks.on_legacy_renew = [this](std::string_view token) -> modkit::task<modkit::LegacyRenewal> {
      std::string renewal_token(token);
      const Renewal r = co_await renew_account(std::move(renewal_token));
      co_return modkit::LegacyRenewal{r.token_valid, r.token_stale, r.expiration_ts};
   };
   callbacks.on_legacy_admin_request = [this](const modkit::Request &request) {
      return set_account_validity_from_request(json::parse(request.body(), nullptr, false));
   };
   api.register_account_validity_callbacks(std::move(callbacks));
   api.register_web_resource(resource_path, [this](const modkit::Request &request,
                                                   modkit::Response &response) -> modkit::task<void> {
      const std::string path(request.path());
      const std::optional<std::string_view> user = request.user_id();
      return serve(path.substr(std::string_view(resource_path).size()), std::string(request.method()),
                   user ? std::optional<std::string>(*user) : std::nullopt, request.query_param("token"),
                   std::string(request.body()), response);
   });
}

modkit::task<std::optional<bool>> EmailAccountValidity::is_user_expired(std::string user_id) {
   const std::optional<int64_t> expiration_ts = co_await store_.get_expiration_ts_for_user(user_id);
   if (!expiration_ts) co_return std::nullopt; // no opinion
   co_return now_ms() >= *expiration_ts;
}

modkit::task<void> EmailAccountValidity::on_user_registration(std::string user_id) {
   co_await store_.set_expiration_date_for_user(user_id);
}

modkit::task<void> EmailAccountValidity::send_renewal_email_to_user(std::string user_id) {
   const std::optional<int64_t> expiration_ts = co_await store_.get_expiration_ts_for_user(user_id);
   if (!expiration_ts) throw SynapseError(400, "User has no expiration time: " + user_id);
   co_await send_renewal_email(user_id, *expiration_ts);
}

modkit::task<void> EmailAccountValidity::send_renewal_email(std::string user_id, int64_t expiration_ts) {
   const json threepids = co_await hs_.get_threepids_for_user(user_id);
   std::vector<std::string> addresses;
   for (const json &t : threepids.value("threepids", json::array()))
      if (t.value("medium", "") == "email") addresses.push_back(t.value("address", ""));
   // Without an address the user must ask an admin to renew the account.
   if (addresses.empty()) co_return;
   std::string display_name = user_id;
   try {
      const json profile = co_await hs_.get_profile_for_user(user_id);
      if (profile.value("displayname", json()).is_string()) display_name = profile["displayname"].get<std::string>();
   } catch (const modkit::Error &) { // an unknown user, as the original's SynapseError
   }
   std::string renewal_token;
   std::optional<std::string> url;
   if (config_.send_links) {
      renewal_token = co_await generate_unauthenticated_renewal_token(user_id);
      url = public_baseurl_ + "_synapse/client/email_account_validity/renew?token=" + renewal_token;
   } else {
      renewal_token = co_await generate_authenticated_renewal_token(user_id);
   }
   const RenewalMail mail = renewal_mail(display_name, expiration_ts, url, renewal_token);
   for (const std::string &address : addresses) co_await hs_.send_mail(address, subject_, mail.html, mail.text);
   co_await store_.set_renewal_mail_status(user_id, true);
}

modkit::task<std::string> EmailAccountValidity::generate_authenticated_renewal_token(std::string user_id) {
   const std::string renewal_token = random_from("0123456789", 8);
   co_await store_.set_renewal_token_for_user(user_id, renewal_token, TokenFormat::SHORT);
   co_return renewal_token;
}

modkit::task<std::string> EmailAccountValidity::generate_unauthenticated_renewal_token(std::string user_id) {
   static const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
   for (int attempt = 0; attempt < 5; ++attempt) {
      const std::string renewal_token = random_from(letters, 32);
      bool taken = false;
      try {
         co_await store_.set_renewal_token_for_user(user_id, renewal_token, TokenFormat::LONG);
      } catch (const SynapseError &) {
         taken = true;
      }
      if (!taken) co_return renewal_token;
   }
   throw SynapseError(500, "Couldn't generate a unique string as refresh string.");
}

modkit::task<Renewal> EmailAccountValidity::renew_account(std::string renewal_token, std::optional<std::string> user_id) {
   TokenFormat format = TokenFormat::LONG;
   if (std::regex_match(renewal_token, long_token)) format = TokenFormat::LONG;
   else if (std::regex_match(renewal_token, short_token)) format = TokenFormat::SHORT;
   else co_return Renewal{}; // neither valid nor stale
   // A short token is only good from its own user's client.
   if (!user_id && format == TokenFormat::SHORT) co_return Renewal{};
   std::optional<TokenOwner> owner;
   try {
      owner = co_await store_.validate_renewal_token(renewal_token, format, user_id);
   } catch (const SynapseError &) {
   }
   if (!owner) co_return Renewal{};
   if (owner->token_used_ts_ms) {
      api_.log().info("User '{}' attempted to use previously used token '{}' to renew account", owner->user_id,
                      renewal_token);
      co_return Renewal{false, true, owner->expiration_ts_ms};
   }
   api_.log().debug("Renewing an account for user {}", owner->user_id);
   // The token is kept, so that following the link twice finds it used (stale).
   const int64_t new_expiration_ts = co_await renew_account_for_user(owner->user_id, std::nullopt, false, renewal_token);
   co_return Renewal{true, false, new_expiration_ts};
}

modkit::task<int64_t> EmailAccountValidity::renew_account_for_user(std::string user_id,
                                                                   std::optional<int64_t> expiration_ts,
                                                                   bool email_sent,
                                                                   std::optional<std::string> renewal_token) {
   const int64_t now = now_ms();
   const int64_t new_expiration_ts = expiration_ts.value_or(now + config_.period_ms);
   co_await store_.set_account_validity_for_user(user_id, new_expiration_ts, email_sent,
                                                 config_.send_links ? TokenFormat::LONG : TokenFormat::SHORT,
                                                 renewal_token, now);
   co_return new_expiration_ts;
}

modkit::task<int64_t> EmailAccountValidity::set_account_validity_from_request(json body) {
   if (!body.is_object()) throw SynapseError(400, "Content not JSON.");
   if (!body.contains("user_id") || !body["user_id"].is_string())
      throw SynapseError(400, "Missing property 'user_id' in the request body");
   const std::optional<int64_t> expiration_ts =
      body.value("expiration_ts", json()).is_number_integer() ? std::optional<int64_t>(body["expiration_ts"].get<int64_t>())
                                                               : std::nullopt;
   const bool enable_renewal_emails = body.value("enable_renewal_emails", json(true)) != json(false);
   co_return co_await renew_account_for_user(body["user_id"].get<std::string>(), expiration_ts, !enable_renewal_emails);
}

modkit::task<void> EmailAccountValidity::send_renewal_emails() {
   const std::vector<ExpiringUser> users = co_await store_.get_users_expiring_soon();
   for (const ExpiringUser &user : users) {
      if (!user.expiration_ts_ms) {
         api_.log().warning("User {} has no expiration ts, ignoring", user.user_id);
         continue;
      }
      co_await send_renewal_email(user.user_id, *user.expiration_ts_ms);
   }
}

// The three servlets under resource_path.
modkit::task<void> EmailAccountValidity::serve(std::string subpath, std::string method, std::optional<std::string> user,
                                               std::optional<std::string> token, std::string body,
                                               modkit::Response &response) {
   std::optional<SynapseError> failed;
   try {
      if (subpath == "/renew" && method == "GET") {
         if (!token) throw SynapseError(400, "Missing renewal token");
         const Renewal r = co_await renew_account(*token, user);
         const std::string page = r.token_valid   ? account_renewed_page(r.expiration_ts)
                                  : r.token_stale ? account_previously_renewed_page(r.expiration_ts)
                                                  : invalid_token_page();
         response.set_status(r.token_valid || r.token_stale ? 200 : 400);
         response.add_header("Content-Type", "text/html; charset=utf-8");
         response.write(page);
      } else if (subpath == "/send_mail" && method == "POST") {
         if (!user) {
            send_error(response, 401, "M_MISSING_TOKEN", "Missing access token");
            co_return;
         }
         co_await send_renewal_email_to_user(*user);
         response.send_json(json::object());
      } else if (subpath == "/admin" && method == "POST") {
         if (!user) {
            send_error(response, 401, "M_MISSING_TOKEN", "Missing access token");
            co_return;
         }
         const json admin = co_await hs_.is_user_admin(*user);
         if (!admin.value("admin", false)) {
            send_error(response, 403, "M_FORBIDDEN", "You are not a server admin");
            co_return;
         }
         json request = json::parse(body, nullptr, false);
         const int64_t expiration_ts = co_await set_account_validity_from_request(std::move(request));
         response.send_json({{"expiration_ts", expiration_ts}});
      } else {
         send_error(response, 404, "M_UNRECOGNIZED", "Unrecognized request");
      }
   } catch (const SynapseError &e) {
      failed.emplace(e);
   }
   if (failed) send_error(response, failed->http_status(), "M_UNKNOWN", failed->what());
}

} // namespace eav
