// mail.hpp - one mail to one recipient over SMTP (libcurl): what chat.homeserver/1's send_mail
// does on a homeserver worker, never on a request's thread.
#pragma once

#include "host_config.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace chat {

// The server refused the mail, or could not be reached: what() says which, and the server's
// reply when there was one.
class MailError : public std::runtime_error {
public:
   using std::runtime_error::runtime_error;
};

// A header field must fit on one line: false for CR or LF (header injection) or an empty value.
bool mail_header_ok(const std::string &value);

// The message as sent: headers, then text/plain, text/html or both as multipart/alternative
// (each part base64, so any UTF-8 and any line length go through).
std::string compose_mail(const MailConfig &config, const std::string &recipient, const std::string &subject,
                         const std::optional<std::string> &html, const std::optional<std::string> &text);

// Sends it to config.smtp_url within config.timeout_ms. Throws MailError.
void send_mail(const MailConfig &config, const std::string &recipient, const std::string &subject,
               const std::optional<std::string> &html, const std::optional<std::string> &text);

} // namespace chat
