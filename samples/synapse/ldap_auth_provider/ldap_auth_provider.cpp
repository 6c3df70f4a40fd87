// ldap_auth_provider: matrix-org/matrix-synapse-ldap3, ported. Logins by password (and by email,
// in search mode) are checked against an LDAP server; a user LDAP accepts who has no account
// yet is registered. Simple mode binds as uid=<login>,<base>; search mode finds the user's
// entry (as a service account, or anonymously) and binds as it; Active Directory forests map
// DOMAIN\login and login/domain to userPrincipalName. The config is the original's (see
// ldap_config.hpp and the README).
//
// Every LDAP exchange blocks, so it runs on the host's task threads (modkit::offload, the
// original's deferToThread); registration awaits the homeserver (chat.homeserver/1).
#include "ldap_client.hpp"
#include "ldap_config.hpp"

#include <chat_host/homeserver.hpp>
#include <modkit/sdk/categories/password_auth_provider.hpp>
#include <modkit/sdk/module.hpp>
#include <modkit/sdk/services/tasks.hpp>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using json = nlohmann::json;
using ldap_port::Config;
using ldap_port::Connection;
using ldap_port::Entry;
using ldap_port::LdapError;

std::string lower(std::string s) {
   std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
   return s;
}

// A value as it may stand in a DN (RFC 4514): the login goes into uid=<login>,<base>.
std::string escape_dn_value(const std::string &value) {
   std::string out;
   for (size_t i = 0; i < value.size(); ++i) {
      const char c = value[i];
      const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
                           c == '=' || (i == 0 && (c == '#' || c == ' ')) || (i + 1 == value.size() && c == ' ');
      if (special) out += '\\';
      out += c;
   }
   return out;
}

// A single value of attribute in entry, or nullopt (none, or several): the original's
// "x[0] if len(x) == 1".
std::optional<std::string> single(const Entry &entry, const std::string &attribute) {
   const std::vector<std::string> *values = entry.values(attribute);
   if (!values || values->size() != 1) return std::nullopt;
   return values->front();
}

// What an LDAP exchange found: whether the user is authenticated, and in search mode the entry.
struct Found {
   bool authenticated = false;
   std::optional<Entry> entry;
};

// login, domain and the Matrix localpart of an Active Directory login.
struct Upn {
   std::string login, domain, localpart;
};

} // namespace

class LdapAuthProviderModule {
public:
   static json config_schema() { return ldap_port::config_schema(); }
   static Config parse_config(const json &raw) { return ldap_port::parse(raw); }

   LdapAuthProviderModule(const Config &config, modkit::Api &api) : config_(config), api_(api), hs_(api) {
      modkit::PasswordAuthProviderCallbacks callbacks;
      callbacks.auth_checkers.add({"m.login.password", {"password"}},
                                  [this](std::string_view username, std::string_view, const json &login_dict) {
                                     return check_auth(std::string(username), login_dict.value("password", json()));
                                  });
      callbacks.check_3pid_auth = [this](std::string_view medium, std::string_view address, std::string_view password) {
         return check_3pid_auth(std::string(medium), std::string(address), std::string(password));
      };
      api.register_password_auth_provider_callbacks(std::move(callbacks));
   }

private:
   // The user ID when LDAP accepts the login (registering the user if needed), else nullopt.
   modkit::task<std::optional<std::string>> check_auth(std::string username, json password_value) {
      const std::string password = password_value.is_string() ? password_value.get<std::string>() : "";
      // A bind with a DN and an empty password is an anonymous bind (RFC 4513 5.1.2), which
      // authenticates nobody.
      if (password.empty()) co_return std::nullopt;
      if (username.size() > 1 && username[0] == '@' && username.find(':') != std::string::npos)
         username = username.substr(1, username.find(':') - 1);
      std::string uid_value = username, default_display_name = username, localpart = username;
      if (config_.active_directory) {
         const std::optional<Upn> upn = co_await map_login_to_upn(username);
         if (!upn) co_return std::nullopt;
         uid_value = upn->login + "@" + upn->domain;
         default_display_name = upn->login;
         localpart = upn->localpart;
      }
      auto exchange = [this, uid_value, password] { return authenticate(uid_value, password); };
      Found found;
      try {
         found = co_await modkit::offload(api_, "ldap check_auth", exchange);
      } catch (const LdapError &e) {
         api_.log().warning("Error during ldap authentication: {}", e.what());
         co_return std::nullopt;
      }
      if (!found.authenticated) co_return std::nullopt;
      api_.log().info("User authenticated against LDAP server: {}", uid_value);
      const std::string user_id = hs_.get_qualified_user_id(localpart);
      const json exists = co_await hs_.check_user_exists(user_id);
      if (exists.value("user_id", json()).is_string()) co_return exists["user_id"].get<std::string>();
      std::string display_name = default_display_name;
      std::optional<std::string> mail;
      if (found.entry) { // search mode: the account gets the entry's name and mail
         const auto *names = found.entry->values(config_.attributes.name);
         display_name = !names ? localpart : names->size() == 1 ? names->front() : default_display_name;
         mail = single(*found.entry, config_.attributes.mail);
      }
      co_return co_await register_user(lower(localpart), display_name, mail);
   }

   // A login by email and password, in search mode only.
   modkit::task<std::optional<std::string>> check_3pid_auth(std::string medium, std::string address, std::string password) {
      if (!config_.search_mode) {
         api_.log().debug("3PID LDAP login/register attempted but LDAP search mode not enabled. Bailing.");
         co_return std::nullopt;
      }
      if (medium != "email") co_return std::nullopt;
      auto exchange = [this, address, password] {
         Connection conn(config_.uris, config_.tls, config_.start_tls);
         return authenticated_search(conn, password, config_.attributes.mail, address);
      };
      Found found;
      try {
         found = co_await modkit::offload(api_, "ldap check_3pid_auth", exchange);
      } catch (const LdapError &e) {
         // The original re-raises here: the login fails with the host's error.
         api_.log().warning("Error during ldap authentication: {}", e.what());
         throw modkit::Error(MODKIT_E_INTERNAL, std::string("Error during ldap authentication: ") + e.what());
      }
      if (!found.authenticated) co_return std::nullopt;
      std::optional<std::string> localpart = single(*found.entry, config_.attributes.uid);
      if (!localpart) {
         api_.log().warning("LDAP entry {} has no single {}: no Matrix user to log in", found.entry->dn,
                            config_.attributes.uid);
         co_return std::nullopt;
      }
      if (config_.active_directory && localpart->find('@') != std::string::npos) {
         const std::string upn = lower(*localpart);
         const std::string login = upn.substr(0, upn.rfind('@')), domain = upn.substr(upn.rfind('@') + 1);
         localpart = login + "/" + domain;
         if (config_.default_domain && domain == lower(*config_.default_domain)) localpart = login; // the default domain's users
      }
      const std::optional<std::string> given_name = single(*found.entry, config_.attributes.name);
      co_return co_await register_user(*localpart, given_name.value_or(*localpart), address);
   }

   // Registers the user unless they exist; their user ID.
   modkit::task<std::optional<std::string>> register_user(std::string localpart, std::string name,
                                                          std::optional<std::string> email) {
      const std::string user_id = hs_.get_qualified_user_id(localpart);
      const json exists = co_await hs_.check_user_exists(user_id);
      if (exists.value("user_id", json()).is_string()) co_return user_id;
      const json registered = co_await hs_.register_user(localpart, name);
      api_.log().info("Registration based on LDAP data was successful: {}{}", registered.value("user_id", user_id),
                      email ? " (mail " + *email + " not bound: the host's register_user takes none)" : "");
      co_return registered.value("user_id", user_id);
   }

   // The LDAP side of check_auth, on a task thread.
   Found authenticate(const std::string &uid_value, const std::string &password) const {
      Connection conn(config_.uris, config_.tls, config_.start_tls);
      if (!config_.search_mode) {
         const std::string dn = config_.attributes.uid + "=" + escape_dn_value(uid_value) + "," + config_.base;
         const bool bound = conn.bind(dn, password);
         if (!bound) api_.log().info("Binding against LDAP failed for '{}' failed: {}", dn, conn.last_refusal());
         return {bound, std::nullopt};
      }
      return authenticated_search(conn, password, config_.attributes.uid, uid_value);
   }

   // Binds as the service account (or anonymously), finds the one entry whose attribute is
   // value, and binds as that entry with password. [task thread]
   Found authenticated_search(Connection &conn, const std::string &password, const std::string &attribute,
                              const std::string &value) const {
      if (!bind_service_account(conn)) return {};
      std::string query = "(" + attribute + "=" + ldap_port::escape_filter_value(value) + ")";
      if (config_.filter) query += *config_.filter;
      query = "(&" + query + ")";
      std::vector<Entry> entries =
         conn.search(config_.base, query, {config_.attributes.uid, config_.attributes.name, config_.attributes.mail});
      if (entries.size() != 1) {
         if (entries.empty()) api_.log().info("LDAP search returned no results for '{}'", query);
         else api_.log().info("LDAP search returned too many ({}) results for '{}'", entries.size(), query);
         return {};
      }
      // Bind as the entry found: this checks the user's password.
      const bool bound = conn.bind(entries[0].dn, password);
      if (!bound) api_.log().info("Binding against LDAP failed for '{}' failed: {}", entries[0].dn, conn.last_refusal());
      return {bound, std::move(entries[0])};
   }

   bool bind_service_account(Connection &conn) const {
      const bool anonymous = !config_.bind_dn || !config_.bind_password;
      const bool bound = anonymous ? conn.bind("", "") : conn.bind(*config_.bind_dn, *config_.bind_password);
      if (!bound)
         api_.log().info("Binding against LDAP failed for '{}' failed: {}", anonymous ? "" : *config_.bind_dn,
                         conn.last_refusal());
      return bound;
   }

   // DOMAIN\login, login/domain, or a bare login in the default domain; nullopt when the login
   // names no domain and none is configured.
   modkit::task<std::optional<Upn>> map_login_to_upn(std::string username) {
      std::string login = lower(username);
      std::optional<std::string> domain = config_.default_domain;
      if (username.find('\\') != std::string::npos) {
         const std::string l = lower(username);
         domain = l.substr(0, l.rfind('\\'));
         login = l.substr(l.rfind('\\') + 1);
         const std::string root = co_await root_domain();
         if (!root.empty() && !(domain->size() >= root.size() && domain->compare(domain->size() - root.size(), root.size(), root) == 0))
            *domain += "." + root;
      } else if (username.find('/') != std::string::npos) {
         const std::string l = lower(username);
         login = l.substr(0, l.rfind('/'));
         domain = l.substr(l.rfind('/') + 1);
      } else if (!config_.default_domain) {
         api_.log().info("No LDAP separator \"/\" was found in uid \"{}\" and LDAP default domain was not configured.",
                         username);
         co_return std::nullopt;
      }
      const bool in_default = config_.default_domain && *domain == lower(*config_.default_domain);
      co_return Upn{login, *domain, in_default ? login : login + "/" + *domain};
   }

   // The forest's root domain from the root DSE's rootDomainNamingContext (DC=example,DC=org
   // -> example.org), fetched once; "" when it cannot be had.
   modkit::task<std::string> root_domain() {
      {
         std::lock_guard<std::mutex> lock(mutex_);
         if (root_domain_) co_return *root_domain_;
      }
      std::string found;
      if (!config_.search_mode) {
         api_.log().info("Fetching root domain is supported in search mode only");
      } else {
         auto exchange = [this]() -> std::string {
            Connection conn(config_.uris, config_.tls, config_.start_tls);
            if (!bind_service_account(conn)) {
               api_.log().warning("Unable to get root domain due to failed LDAP bind");
               return "";
            }
            const std::optional<std::string> context = conn.root_dse("rootDomainNamingContext");
            std::string domain;
            size_t start = 0;
            while (context && start <= context->size()) {
               const size_t comma = std::min(context->find(',', start), context->size());
               const std::string part = context->substr(start, comma - start);
               // Appended in two steps: GCC 12 at -O3 warns falsely (-Wrestrict) on "." + string&&.
               if (part.find('=') != std::string::npos) {
                  if (!domain.empty()) domain += '.';
                  domain.append(part, part.find('=') + 1);
               }
               start = comma + 1;
            }
            return domain;
         };
         try {
            found = co_await modkit::offload(api_, "ldap root domain", exchange);
         } catch (const LdapError &e) {
            api_.log().warning("Error during LDAP authentication: {}", e.what());
         }
         if (found.empty())
            api_.log().warning("No valid `rootDomainNamingContext` attribute was found in the RootDSE. Logging in using "
                               "short domain name will be unavailable.");
         else api_.log().info("Obtained root domain \"{}\"", found);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      root_domain_ = found; // as the original, an attempt is made once
      co_return found;
   }

   Config config_;
   modkit::Api &api_;
   chat_host::Homeserver hs_;
   std::mutex mutex_;                       // guards root_domain_
   std::optional<std::string> root_domain_; // fetched once
};

MODKIT_MODULE(LdapAuthProviderModule, "ldap_auth_provider", "0.4.0",
              "Checks logins against an LDAP server and registers its users (matrix-synapse-ldap3)",
              "modkit.password_auth_provider")
