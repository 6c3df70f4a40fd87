// ldap_client.cpp - see ldap_client.hpp.
#include "ldap_client.hpp"

#include <ldap.h>

#include <cstdio>
#include <strings.h>

namespace ldap_port {

namespace {

// Network timeout of each connection attempt and operation: a dead server must not hold a
// login (and a task thread) for the kernel's TCP timeout.
constexpr int timeout_seconds = 10;

std::string message(const char *what, int code) { return std::string(what) + ": " + ldap_err2string(code); }

void check(int code, const char *what) {
   if (code != LDAP_SUCCESS) throw LdapError(message(what, code));
}

} // namespace

namespace {

// The short and long names of RFC 4519's attributes: a server answers with the name its schema
// lists first (givenName for gn), which need not be the name the config asked for.
constexpr const char *aliases[][2] = {
   {"cn", "commonName"}, {"sn", "surname"}, {"gn", "givenName"}, {"uid", "userid"}, {"mail", "rfc822Mailbox"},
   {"dc", "domainComponent"}, {"o", "organizationName"}, {"ou", "organizationalUnitName"}, {"l", "localityName"},
   {"st", "stateOrProvinceName"}, {"c", "countryName"}, {"street", "streetAddress"}};

bool same_attribute(const std::string &a, const std::string &b) {
   if (strcasecmp(a.c_str(), b.c_str()) == 0) return true;
   for (const auto &pair : aliases)
      if ((strcasecmp(a.c_str(), pair[0]) == 0 && strcasecmp(b.c_str(), pair[1]) == 0) ||
          (strcasecmp(a.c_str(), pair[1]) == 0 && strcasecmp(b.c_str(), pair[0]) == 0))
         return true;
   return false;
}

} // namespace

const std::vector<std::string> *Entry::values(const std::string &name) const {
   for (const auto &[attribute, values] : attributes)
      if (same_attribute(attribute, name)) return &values;
   return nullptr;
}

struct Connection::Handle {
   LDAP *ld = nullptr;
   ~Handle() {
      if (ld) ldap_unbind_ext_s(ld, nullptr, nullptr);
   }
};

Connection::Connection(const std::vector<std::string> &uris, const TlsOptions &tls, bool start_tls)
   : handle_(std::make_unique<Handle>()) {
   std::string joined;
   for (const auto &uri : uris) joined += (joined.empty() ? "" : " ") + uri;
   check(ldap_initialize(&handle_->ld, joined.c_str()), "invalid LDAP URI");
   LDAP *ld = handle_->ld;
   const int version = LDAP_VERSION3;
   timeval timeout{timeout_seconds, 0};
   check(ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version), "LDAP protocol version");
   check(ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout), "LDAP network timeout");
   check(ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout), "LDAP timeout");
   check(ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF), "LDAP referrals");
   const int require = tls.validate ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
   check(ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require), "TLS certificate checking");
   if (tls.ca_certs_file) check(ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, tls.ca_certs_file->c_str()), "TLS CA file");
   if (tls.local_certificate_file)
      check(ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, tls.local_certificate_file->c_str()), "TLS certificate");
   if (tls.local_private_key_file)
      check(ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, tls.local_private_key_file->c_str()), "TLS key");
   // The TLS options above apply to a new TLS context.
   const int new_context = 0;
   check(ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &new_context), "TLS context");
   if (start_tls) check(ldap_start_tls_s(ld, nullptr, nullptr), "StartTLS");
}

Connection::~Connection() = default;

bool Connection::bind(const std::string &dn, const std::string &password) {
   berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char *>(password.data())};
   const int code = ldap_sasl_bind_s(handle_->ld, dn.empty() ? nullptr : dn.c_str(), LDAP_SASL_SIMPLE, &credentials,
                                     nullptr, nullptr, nullptr);
   if (code == LDAP_SUCCESS) return true;
   if (code == LDAP_INVALID_CREDENTIALS || code == LDAP_NO_SUCH_OBJECT || code == LDAP_INAPPROPRIATE_AUTH ||
       code == LDAP_UNWILLING_TO_PERFORM) {
      refusal_ = ldap_err2string(code);
      return false;
   }
   throw LdapError(message("LDAP bind", code));
}

std::vector<Entry> Connection::search(const std::string &base, const std::string &filter,
                                      const std::vector<std::string> &attrs) {
   std::vector<char *> names;
   for (const auto &a : attrs) names.push_back(const_cast<char *>(a.c_str()));
   names.push_back(nullptr);
   LDAPMessage *result = nullptr;
   timeval timeout{timeout_seconds, 0};
   const int code = ldap_search_ext_s(handle_->ld, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), names.data(), 0,
                                      nullptr, nullptr, &timeout, 0, &result);
   const std::unique_ptr<LDAPMessage, int (*)(LDAPMessage *)> owned(result, &ldap_msgfree);
   if (code == LDAP_NO_SUCH_OBJECT) return {}; // the base does not exist: nothing found
   if (code != LDAP_SUCCESS) throw LdapError(message("LDAP search", code));
   std::vector<Entry> entries;
   for (LDAPMessage *e = ldap_first_entry(handle_->ld, result); e; e = ldap_next_entry(handle_->ld, e)) {
      Entry entry;
      char *dn = ldap_get_dn(handle_->ld, e);
      if (dn) entry.dn = dn;
      ldap_memfree(dn);
      BerElement *ber = nullptr;
      for (char *a = ldap_first_attribute(handle_->ld, e, &ber); a; a = ldap_next_attribute(handle_->ld, e, ber)) {
         berval **values = ldap_get_values_len(handle_->ld, e, a);
         std::vector<std::string> &into = entry.attributes[a];
         for (int i = 0; values && values[i]; ++i) into.emplace_back(values[i]->bv_val, values[i]->bv_len);
         ldap_value_free_len(values);
         ldap_memfree(a);
      }
      if (ber) ber_free(ber, 0);
      entries.push_back(std::move(entry));
   }
   return entries;
}

std::optional<std::string> Connection::root_dse(const std::string &attribute) {
   char *names[] = {const_cast<char *>(attribute.c_str()), nullptr};
   LDAPMessage *result = nullptr;
   timeval timeout{timeout_seconds, 0};
   const int code = ldap_search_ext_s(handle_->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", names, 0, nullptr, nullptr,
                                      &timeout, 0, &result);
   const std::unique_ptr<LDAPMessage, int (*)(LDAPMessage *)> owned(result, &ldap_msgfree);
   if (code != LDAP_SUCCESS) throw LdapError(message("LDAP root DSE", code));
   LDAPMessage *e = ldap_first_entry(handle_->ld, result);
   if (!e) return std::nullopt;
   berval **values = ldap_get_values_len(handle_->ld, e, attribute.c_str());
   std::optional<std::string> value;
   if (values && values[0]) value.emplace(values[0]->bv_val, values[0]->bv_len);
   ldap_value_free_len(values);
   return value;
}

std::string escape_filter_value(const std::string &value) {
   std::string out;
   for (const char c : value) {
      if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
         char hex[4];
         std::snprintf(hex, sizeof hex, "\\%02x", static_cast<unsigned char>(c));
         out += hex;
      } else {
         out += c;
      }
   }
   return out;
}

} // namespace ldap_port
