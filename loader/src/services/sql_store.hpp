// sql_store.hpp - the storage service's engine: one SQLite connection on which each module's SQL
// is confined to the tables whose names start with its prefix (modkit/services/storage.h).
//
// Confinement is SQLite's authorizer, installed for the connection's whole life. It runs when a
// statement is prepared and again when sqlite3_step re-prepares one after a schema change, so
// the prefix it checks is set before both. What it cannot see is checked apart: the tables an
// INSERT's program opens (SQLite copies INSERT ... SELECT * without asking), read back with
// EXPLAIN when it is prepared; and a table renamed out of the prefix or a foreign key to another
// module's table, after a CREATE or ALTER runs, inside a savepoint rolled back on a refusal.
//
// Values: INTEGER -> JSON integer, REAL -> JSON number (always with a '.' or an exponent;
// infinities -> null), TEXT -> string (invalid UTF-8 -> U+FFFD), NULL -> null, BLOB -> string
// of lowercase hex. Parameters: null, booleans (bound as 0 and 1), numbers (integers stay
// integers) and strings.
//
// Ownership: one thread at a time uses a SqlStore (SqlService's thread); nothing is locked.
#pragma once

#include <modkit/status.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace modkit::loader::services {

struct SqlResult {
   modkit_status status = MODKIT_OK;
   std::string json;    // on MODKIT_OK: the answer
   std::string message; // otherwise: what was expected and what was found
};

// The table prefix for a module name: characters other than [A-Za-z0-9_] become '_', then '_'
// is appended. Names are compared as SQLite compares them, ignoring ASCII case.
std::string table_prefix_for(std::string_view module_name);

class SqlStore {
public:
   // Opens or creates the database at path (":memory:" allowed). Throws std::runtime_error
   // naming the path and SQLite's message on failure.
   explicit SqlStore(const std::string &path);
   ~SqlStore();
   SqlStore(const SqlStore &) = delete;
   SqlStore &operator=(const SqlStore &) = delete;

   // One statement, confined to tables whose names start with prefix. params_json: a JSON
   // array of null/bool/number/string, or empty for none.
   // json on success: {"rows": [{column: value, ...}, ...], "changes": N}
   SqlResult execute(const std::string &prefix, std::string_view sql, std::string_view params_json);
   // [{"sql": "...", "params": [...]}, ...] in one transaction; json: the array of the execute
   // results. The first failure rolls everything back; its message names the index
   // ("statement 2: ...").
   SqlResult batch(const std::string &prefix, std::string_view statements_json);

private:
   // A statement's first keyword decides which of SQLite's own tables its schema bookkeeping
   // may touch, and whether the names it leaves behind are checked afterwards.
   enum class Kind : uint8_t {
      query,    // anything else: never touches sqlite_*; cached
      create,   // CREATE: a query may follow (CREATE TABLE ... AS SELECT); checked afterwards
      alter,    // ALTER: may rename out of the prefix or add a foreign key; checked afterwards
      maintain, // DROP, ANALYZE, REINDEX: no query of the module's inside
   };

   // What the authorizer allows for the statement being prepared (or re-prepared in step).
   struct Guard {
      const std::string *prefix = nullptr; // null between statements: everything is refused
      Kind kind = Kind::query;
      bool internal_ok = false; // SQLite's own schema statements are running (nested parse)
      bool trusted = false;     // the store's own statements: BEGIN, SAVEPOINT, the checks
      std::string denial;       // the first refusal, for the message
      std::string altered;      // the table an ALTER TABLE names, for the foreign key check
   };

   struct Param {
      enum class Type : uint8_t { null, integer, real, text } type = Type::null;
      int64_t integer = 0;
      double real = 0;
      std::string text;
   };
   class ParamsReader;

   // A statement's column names as JSON keys, "\"a\":" then ",\"b\":", ...; ends[c] is where
   // column c's key ends. Rebuilt when SQLite re-prepares the statement (SELECT * follows the
   // schema).
   struct Keys {
      std::string text;
      std::vector<size_t> ends;
      int version = -1; // SQLITE_STMTSTATUS_REPREPARE when built
   };

   struct Cached {
      std::string prefix, sql;
      sqlite3_stmt *stmt;
      Keys keys;
   };

   static int authorize(void *self, int action, const char *a, const char *b, const char *db,
                        const char *trigger);

   std::string configure(const std::string &path); // empty, or what failed
   // Runs sql with params_[0, param_count_) and appends its result object to out.
   bool run(const std::string &prefix, std::string_view sql, std::string &out, SqlResult &r);
   sqlite3_stmt *prepare(const std::string &prefix, std::string_view sql, Kind kind, bool inserts, SqlResult &r);
   Cached *find_cached(const std::string &prefix, std::string_view sql);
   Cached *add_cached(const std::string &prefix, std::string_view sql, bool inserts, SqlResult &r);
   bool check_opened(const std::string &prefix, std::string_view sql, SqlResult &r);
   void evict(sqlite3_stmt *stmt);
   bool bind(sqlite3_stmt *stmt, SqlResult &r);
   bool step(sqlite3_stmt *stmt, Keys &keys, std::string &out, SqlResult &r);
   bool check_schema(const std::string &prefix, const std::vector<std::string> &before, SqlResult &r);
   bool read_params(std::string_view params_json, SqlResult &r);
   bool read_plain_params(std::string_view params_json);
   Param &next_param();
   void arm(const std::string &prefix, Kind kind);
   int exec_trusted(const char *sql);
   // Appends the first `columns` columns of each row of sql (?1 = arg when given) to out.
   bool trusted_column(const char *sql, const std::string *arg, std::vector<std::string> &out, int columns = 1);
   void rollback();
   void fail(SqlResult &r, int rc, bool preparing);

   sqlite3 *db_ = nullptr;
   Guard guard_;
   std::vector<Param> params_; // reused: kept with their capacity, bound without copies
   size_t param_count_ = 0;
   std::list<Cached> lru_;     // most recently used first
   std::unordered_multimap<std::string_view, std::list<Cached>::iterator> index_; // sql -> entry; keys view lru_
};

} // namespace modkit::loader::services
