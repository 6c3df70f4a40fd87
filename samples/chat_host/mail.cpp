// mail.cpp - composing a MIME message and handing it to the SMTP server through libcurl.
#include "mail.hpp"

#include <curl/curl.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace chat {

namespace {

std::string base64_lines(const std::string &in) {
   static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
   std::string out;
   size_t line = 0;
   for (size_t i = 0; i < in.size(); i += 3) {
      const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) |
                         (i + 1 < in.size() ? static_cast<uint8_t>(in[i + 1]) << 8 : 0) |
                         (i + 2 < in.size() ? static_cast<uint8_t>(in[i + 2]) : 0);
      out += table[(n >> 18) & 63];
      out += table[(n >> 12) & 63];
      out += i + 1 < in.size() ? table[(n >> 6) & 63] : '=';
      out += i + 2 < in.size() ? table[n & 63] : '=';
      if ((line += 4) >= 76) out += "\r\n", line = 0;
   }
   if (line) out += "\r\n";
   return out;
}

// RFC 2047: a subject with anything but printable ASCII is sent as one encoded word.
std::string encode_header(const std::string &value) {
   for (unsigned char c : value)
      if (c < 0x20 || c > 0x7e) {
         std::string b64 = base64_lines(value);
         b64.erase(std::remove(b64.begin(), b64.end(), '\r'), b64.end());
         b64.erase(std::remove(b64.begin(), b64.end(), '\n'), b64.end());
         return "=?UTF-8?B?" + b64 + "?=";
      }
   return value;
}

std::string part(const char *type, const std::string &body) {
   return fmt::format("Content-Type: {}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}", type,
                      base64_lines(body));
}

// The address inside "Name <a@b>", or the whole value.
std::string address_of(const std::string &from) {
   const auto open = from.rfind('<'), close = from.rfind('>');
   return open != std::string::npos && close != std::string::npos && close > open ? from.substr(open + 1, close - open - 1)
                                                                                    : from;
}

struct Upload {
   const std::string &data;
   size_t at = 0;
};

size_t read_upload(char *buffer, size_t size, size_t count, void *user) {
   auto *u = static_cast<Upload *>(user);
   const size_t n = std::min(size * count, u->data.size() - u->at);
   std::memcpy(buffer, u->data.data() + u->at, n);
   u->at += n;
   return n;
}

} // namespace

bool mail_header_ok(const std::string &value) {
   return !value.empty() && value.find_first_of("\r\n") == std::string::npos;
}

std::string compose_mail(const MailConfig &config, const std::string &recipient, const std::string &subject,
                         const std::optional<std::string> &html, const std::optional<std::string> &text) {
   std::string message = fmt::format("From: {}\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\n", config.from,
                                     recipient, encode_header(subject));
   if (html && text) {
      std::random_device random;
      const std::string boundary = fmt::format("=_chat_host_{:x}{:x}", random(), random());
      message += fmt::format("Content-Type: multipart/alternative; boundary=\"{}\"\r\n\r\n", boundary);
      message += fmt::format("--{}\r\n{}--{}\r\n{}--{}--\r\n", boundary, part("text/plain", *text), boundary,
                             part("text/html", *html), boundary);
   } else {
      message += html ? part("text/html", *html) : part("text/plain", text.value_or(""));
   }
   return message;
}

void send_mail(const MailConfig &config, const std::string &recipient, const std::string &subject,
               const std::optional<std::string> &html, const std::optional<std::string> &text) {
   const std::string message = compose_mail(config, recipient, subject, html, text);
   CURL *curl = curl_easy_init();
   if (!curl) throw MailError("cannot start an SMTP client (out of memory)");
   curl_slist *recipients = curl_slist_append(nullptr, ("<" + recipient + ">").c_str());
   Upload upload{message};
   char error[CURL_ERROR_SIZE] = "";
   curl_easy_setopt(curl, CURLOPT_URL, config.smtp_url.c_str());
   curl_easy_setopt(curl, CURLOPT_MAIL_FROM, ("<" + address_of(config.from) + ">").c_str());
   curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
   curl_easy_setopt(curl, CURLOPT_READFUNCTION, &read_upload);
   curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
   curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
   curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout_ms));
   curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); // called on worker threads
   curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
   curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
   const CURLcode rc = curl_easy_perform(curl);
   long reply = 0;
   curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
   curl_slist_free_all(recipients);
   curl_easy_cleanup(curl);
   if (rc != CURLE_OK)
      throw MailError(fmt::format("mail to {} via {} failed: {}{}", recipient, config.smtp_url,
                                  error[0] ? error : curl_easy_strerror(rc),
                                  reply ? fmt::format(" (server reply {})", reply) : std::string()));
}

} // namespace chat
