// ldap_client.hpp - the little of LDAP the provider needs (simple bind, search, StartTLS), over
// OpenLDAP's libldap. Every call blocks on the network: the module runs them on the host's
// task threads (modkit::offload), never on a callback's thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ldap_port {

// The server could not be reached or failed (ldap3's LDAPException): the connection, TLS, a
// search error. A refused bind is not an error; bind() answers false.
class LdapError : public std::runtime_error {
public:
   using std::runtime_error::runtime_error;
};

struct TlsOptions {
   bool validate = true;                         // ssl.CERT_REQUIRED, else CERT_NONE
   std::optional<std::string> ca_certs_file;     // trusted CAs (PEM)
   std::optional<std::string> local_certificate_file;
   std::optional<std::string> local_private_key_file;
};

// One search result: its DN and the attributes asked for, each with its values.
struct Entry {
   std::string dn;
   std::map<std::string, std::vector<std::string>> attributes; // names as the server spells them

   // The values of attribute name, compared without regard to ASCII case (LDAP's rule), and
   // under either of the names RFC 4519 gives it (gn and givenName).
   const std::vector<std::string> *values(const std::string &name) const;
};

// One connection to the first server of uris that answers (ldap3's ServerPool, FIRST).
// Thread rule: one thread at a time.
class Connection {
public:
   // Connects (and upgrades with StartTLS when start_tls); throws LdapError.
   Connection(const std::vector<std::string> &uris, const TlsOptions &tls, bool start_tls);
   ~Connection();
   Connection(const Connection &) = delete;
   Connection &operator=(const Connection &) = delete;

   // A simple bind; true when the server accepted the credentials, false when it refused them
   // (invalid credentials, no such entry), LdapError when it could not answer. An empty dn and
   // password bind anonymously.
   bool bind(const std::string &dn, const std::string &password);
   // The server's reason for the last refused bind ("Invalid credentials").
   const std::string &last_refusal() const { return refusal_; }

   // Entries under base (subtree) matching filter, with the attributes named.
   std::vector<Entry> search(const std::string &base, const std::string &filter, const std::vector<std::string> &attrs);
   // The root DSE's attribute, or nullopt (Active Directory's rootDomainNamingContext).
   std::optional<std::string> root_dse(const std::string &attribute);

private:
   struct Handle;
   std::unique_ptr<Handle> handle_;
   std::string refusal_;
};

// A value as it may stand in a search filter (RFC 4515): * ( ) \ and NUL escaped.
std::string escape_filter_value(const std::string &value);

} // namespace ldap_port
