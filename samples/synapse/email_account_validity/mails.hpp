// mails.hpp - the renewal mail and the renewal pages. The original renders Jinja2 templates
// (notice_expiry.html/.txt, account_renewed.html, ...); these say the same things, and every
// value put into HTML is escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eav {

struct RenewalMail {
   std::string html, text;
};

// expiration_ts_ms as the original's format_ts("%d-%m-%Y"), in the host's local time.
std::string format_date(int64_t expiration_ts_ms);
std::string html_escape(std::string_view text);

// url when links are sent; otherwise the mail carries the token to type into a client.
RenewalMail renewal_mail(std::string_view display_name, int64_t expiration_ts_ms, const std::optional<std::string> &url,
                         std::string_view renewal_token);
// The subject: renew_email_subject or "Renew your %(app)s account", with %(app)s replaced by
// the app name (left as it is when the subject has another placeholder, as the original's
// fallback does).
std::string renewal_subject(const std::optional<std::string> &configured, std::string_view app_name);

std::string account_renewed_page(int64_t expiration_ts_ms);
std::string account_previously_renewed_page(int64_t expiration_ts_ms);
std::string invalid_token_page();

} // namespace eav
