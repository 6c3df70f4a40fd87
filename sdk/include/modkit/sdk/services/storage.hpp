// modkit/sdk/services/storage.hpp - SQL storage (modkit.storage/1): Synapse's
// run_db_interaction for a module. Parameters are positional ("?"), given as a JSON array;
// rows come back as JSON objects; a module's tables start with table_prefix().
//
//    modkit::Storage db(api);
//    const std::string notes = std::string(db.table_prefix()) + "notes";
//    db.execute("INSERT INTO " + notes + " (user, text) VALUES (?, ?)", {"@ada:example.org", "hi"},
//               [](modkit_status status, nlohmann::json result, std::string message) { ... });
//
// In C++20 a coroutine awaits the result, and a failure is thrown:
//    const nlohmann::json r = co_await db.query("SELECT text FROM " + notes + " WHERE user = ?", {user});
//    for (const auto &row : r["rows"]) ...;
#pragma once

#include <modkit/sdk/api.hpp>
#include <modkit/sdk/detail/host_context.hpp>
#include <modkit/sdk/detail/json_call.hpp>
#include <modkit/sdk/detail/service_table.hpp>
#include <modkit/sdk/error.hpp>
#include <modkit/sdk/str.hpp>
#include <modkit/sdk/task.hpp>

#include <modkit/services/storage.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace modkit {

namespace detail {

inline const modkit_storage_api *storage_table(const Api &api) {
   return service_table<modkit_storage_api>(api, MODKIT_STORAGE_ID,
                                            offsetof(modkit_storage_api, batch) + sizeof(modkit_storage_api::batch));
}

} // namespace detail

// The host's SQL storage, for this module. A small value: make one where needed, or keep one.
// Statements of one module run in the order they were accepted. The storage ABI has no cancel:
// every accepted statement's handler runs exactly once, on a service thread, never inside
// execute()/batch() (with MODKIT_E_CANCELLED when the module is being unloaded), so it
// captures what it uses by value or shared_ptr, or the module.
// Throws Error(MODKIT_E_UNSUPPORTED) on construction when the host offers no modkit.storage/1.
// Thread rule: [thread-safe]; valid until the module's destructor returns.
class Storage {
public:
   // (status, result, message): on MODKIT_OK, result is the answer (see execute and batch) and
   // message is empty; otherwise result is null and message says what failed and where
   // (MODKIT_E_DENIED: a table outside the prefix or a refused statement kind;
   // MODKIT_E_INVALID_ARGUMENT: SQL or parameters; MODKIT_E_CONFLICT: a constraint;
   // MODKIT_E_CANCELLED: unloading; MODKIT_E_INTERNAL: the database). An exception leaving the
   // handler is logged.
   using Handler = detail::JsonHandler;

   explicit Storage(const Api &api)
      : context_(detail::ApiAccess::context(api)), storage_(detail::storage_table(api)) {}

   // What every table of this module must start with, e.g. "my_module_".
   std::string_view table_prefix() const {
      const char *prefix = storage_->table_prefix(context_.host);
      return prefix != nullptr ? std::string_view(prefix) : std::string_view();
   }

   // Runs one statement with params (a JSON array, or null for none); result is
   // {"rows": [{column: value, ...}, ...], "changes": N}. Throws Error(MODKIT_E_INVALID_ARGUMENT)
   // for params of another type or an empty handler, and the host's refusal: handler is then
   // never called.
   void execute(std::string_view sql, const nlohmann::json &params, Handler handler) const {
      if (!params.is_null() && !params.is_array())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::Storage::execute: params must be a JSON array");
      const std::string params_text = params.is_null() ? std::string() : params.dump();
      start("execute", std::move(handler), [&](void *slot) {
         return storage_->execute(context_.host, to_modkit_str(sql),
                                  params.is_null() ? modkit_str{nullptr, 0} : to_modkit_str(params_text),
                                  &detail::json_done, slot);
      });
   }

   // Runs statements ([{"sql": "...", "params": [...]}, ...]) as one transaction: all apply, or
   // none does. result is an array of the execute results, in order; a failure's message names
   // the index of the statement that failed. Throws as execute does.
   void batch(const nlohmann::json &statements, Handler handler) const {
      if (!statements.is_array())
         throw Error(MODKIT_E_INVALID_ARGUMENT, "modkit::Storage::batch: statements must be a JSON array");
      const std::string text = statements.dump();
      start("batch", std::move(handler), [&](void *slot) {
         return storage_->batch(context_.host, to_modkit_str(text), &detail::json_done, slot);
      });
   }

#if MODKIT_SDK_HAS_COROUTINES
   // execute, awaited: the result, or Error(status, message) thrown. The coroutine resumes on
   // the service thread delivering the result (or goes on without suspending when it came
   // first). The task keeps its own copies of the arguments.
   task<nlohmann::json> query(std::string sql, nlohmann::json params = nullptr) const {
      return awaited(*this, false, std::move(sql), std::move(params));
   }

   // batch, awaited: the array of results, or Error(status, message) thrown (nothing applied).
   task<nlohmann::json> transaction(nlohmann::json statements) const {
      return awaited(*this, true, std::string(), std::move(statements));
   }
#endif

private:
   template <class Submit>
   void start(const char *what, Handler handler, Submit &&submit) const {
      detail::start_json_call(context_, "storage", what, std::move(handler), std::forward<Submit>(submit));
   }

#if MODKIT_SDK_HAS_COROUTINES
   static task<nlohmann::json> awaited(Storage storage, bool transaction, std::string sql, nlohmann::json json) {
      return detail::await_json([storage, transaction, sql = std::move(sql), json = std::move(json)](Handler resolve) {
         if (transaction) storage.batch(json, std::move(resolve));
         else storage.execute(sql, json, std::move(resolve));
      });
   }
#endif

   detail::HostContext context_;
   const modkit_storage_api *storage_;
};

} // namespace modkit
