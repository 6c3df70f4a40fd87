// mails.cpp - see mails.hpp.
#include "mails.hpp"

#include <ctime>

namespace eav {

std::string format_date(int64_t expiration_ts_ms) {
   const std::time_t seconds = static_cast<std::time_t>(expiration_ts_ms / 1000);
   std::tm local{};
   localtime_r(&seconds, &local);
   char text[32];
   std::strftime(text, sizeof text, "%d-%m-%Y", &local);
   return text;
}

std::string html_escape(std::string_view text) {
   std::string out;
   for (const char c : text) {
      switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
      }
   }
   return out;
}

RenewalMail renewal_mail(std::string_view display_name, int64_t expiration_ts_ms, const std::optional<std::string> &url,
                         std::string_view renewal_token) {
   const std::string date = format_date(expiration_ts_ms);
   RenewalMail mail;
   mail.text = "Hello " + std::string(display_name) + ",\n\nYour account expires on " + date +
               ". After that date you will no longer be able to use it.\n\n";
   mail.html = "<!doctype html>\n<html lang=\"en\"><body>\n<p>Hello " + html_escape(display_name) +
               ",</p>\n<p>Your account expires on " + date +
               ". After that date you will no longer be able to use it.</p>\n";
   if (url) {
      mail.text += "To keep your account, open this link (or paste it into a browser):\n\n" + *url + "\n";
      mail.html += "<p>To keep your account, open this link (or paste it into a browser):</p>\n<p><a href=\"" +
                   html_escape(*url) + "\">" + html_escape(*url) + "</a></p>\n";
   } else {
      mail.text += "To keep your account, enter this renewal code in your client: " + std::string(renewal_token) + "\n";
      mail.html += "<p>To keep your account, enter this renewal code in your client: <b>" + html_escape(renewal_token) +
                   "</b></p>\n";
   }
   mail.html += "</body></html>\n";
   return mail;
}

std::string renewal_subject(const std::optional<std::string> &configured, std::string_view app_name) {
   std::string subject = configured.value_or("Renew your %(app)s account");
   const std::string placeholder = "%(app)s";
   std::string replaced;
   size_t at = 0;
   for (size_t found; (found = subject.find(placeholder, at)) != std::string::npos; at = found + placeholder.size())
      replaced += subject.substr(at, found - at) + std::string(app_name);
   replaced += subject.substr(at);
   // Python's % fails on any other placeholder (%s, %d, a lone %): the subject is then kept bare.
   const std::string rest = replaced;
   for (size_t i = 0; i < subject.size(); ++i)
      if (subject[i] == '%' && subject.compare(i, placeholder.size(), placeholder) != 0) return subject;
   return rest;
}

namespace {
std::string page(const std::string &body) { return "<html><body>" + body + "</body></html>\n"; }
} // namespace

std::string account_renewed_page(int64_t expiration_ts_ms) {
   return page("Your account has been renewed. It is valid until " + format_date(expiration_ts_ms) + ".");
}

std::string account_previously_renewed_page(int64_t expiration_ts_ms) {
   return page("Your account is valid until " + format_date(expiration_ts_ms) + ".");
}

std::string invalid_token_page() { return page("This renewal link is not valid."); }

} // namespace eav
