// storage_service.cpp - modkit.storage/1: the C table over SqlService, confined to the
// module's table prefix.
#include "service_parts.hpp"
#include "services.hpp"
#include "sql_service.hpp"

#include <modkit/services/storage.h>

namespace modkit::loader::services {

namespace {

std::string text(modkit_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }

SqlService::Done deliver(modkit_storage_done_fn done, void *user_data) {
   return [done, user_data](modkit_status status, std::string_view json, const std::string &message) {
      done(user_data, status, status == MODKIT_OK ? modkit_str{json.data(), json.size()} : modkit_str{nullptr, 0},
           message.c_str());
   };
}

const char *MODKIT_ABI table_prefix(modkit_host *host) {
   ModuleServices *m = module_services(host);
   return m ? m->prefix.c_str() : "";
}

modkit_status MODKIT_ABI execute(modkit_host *host, modkit_str sql, modkit_str params_json,
                                 modkit_storage_done_fn done, void *user_data) {
   ModuleServices *m = module_services(host);
   if (!m || !sql.data || !done) return MODKIT_E_INVALID_ARGUMENT;
   const Submission submission(*m);
   if (submission.status() != MODKIT_OK) return submission.status();
   std::string params = text(params_json);
   // Not an array at all is refused here; the engine reads the values (and answers a malformed
   // array through done) without building a JSON tree per statement.
   const size_t first = params.find_first_not_of(" \t\r\n");
   if (first != std::string::npos && params[first] != '[') return MODKIT_E_INVALID_ARGUMENT;
   return services_of(host)->storage().execute(m, m->prefix, text(sql), std::move(params), deliver(done, user_data));
}

modkit_status MODKIT_ABI batch(modkit_host *host, modkit_str statements_json, modkit_storage_done_fn done,
                               void *user_data) {
   ModuleServices *m = module_services(host);
   if (!m || !statements_json.data || !done) return MODKIT_E_INVALID_ARGUMENT;
   const Submission submission(*m);
   if (submission.status() != MODKIT_OK) return submission.status();
   return services_of(host)->storage().batch(m, m->prefix, text(statements_json), deliver(done, user_data));
}

} // namespace

const modkit_storage_api storage_table = {sizeof(modkit_storage_api), table_prefix, execute, batch};

} // namespace modkit::loader::services
