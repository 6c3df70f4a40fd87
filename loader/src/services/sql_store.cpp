#include "sql_store.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace modkit::loader::services {

namespace {

// Enough for the statements a module repeats; each one holds a few KB of SQLite's memory.
constexpr size_t cache_capacity = 64;
constexpr int busy_timeout_ms = 5000;

struct Finalize {
   void operator()(sqlite3_stmt *stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, Finalize>;

// Sets a flag for a scope, so an exception cannot leave the connection trusted.
struct Raise {
   explicit Raise(bool &flag) : flag_(flag), was_(flag) { flag_ = true; }
   ~Raise() { flag_ = was_; }
   Raise(const Raise &) = delete;
   Raise &operator=(const Raise &) = delete;

private:
   bool &flag_;
   bool was_;
};

std::string quote(const char *name) { return name ? "\"" + std::string(name) + "\"" : std::string("(none)"); }

bool has_prefix(const char *name, const std::string &prefix) {
   return name && sqlite3_strnicmp(name, prefix.c_str(), static_cast<int>(prefix.size())) == 0;
}

// SQLite reserves "sqlite_" for its own tables (sqlite_schema, sqlite_sequence, sqlite_stat1).
bool is_internal(const char *name) { return has_prefix(name, "sqlite_"); }

bool is_schema_table(const char *name) {
   for (const char *t : {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"})
      if (sqlite3_stricmp(name, t) == 0) return true;
   return false;
}

bool in_main(const char *db) { return !db || std::strcmp(db, "main") == 0; }

// Ordinary scalar and aggregate functions; load_extension, fts3_tokenizer and the like are not.
bool allowed_function(const char *name) {
   static const char *const allowed[] = {
      "abs", "coalesce", "count", "ifnull", "length", "lower", "upper", "max", "min", "sum", "total",
      "avg", "substr", "trim", "ltrim", "rtrim", "replace", "instr", "round", "hex", "quote", "random",
      "typeof", "nullif", "iif", "printf", "format", "json", "json_extract", "json_object",
      "json_array", "json_array_length", "json_valid", "datetime", "date", "time", "julianday",
      "strftime", "unixepoch", "like", "glob", "group_concat", "char", "unicode", "zeroblob",
      "last_insert_rowid", "changes",
      "->", "->>", // json_extract's operators
   };
   if (!name) return false;
   for (const char *a : allowed)
      if (sqlite3_stricmp(name, a) == 0) return true;
   return false;
}

// SQLite's helpers for ALTER TABLE, called from its own nested statements only.
bool is_alter_helper(const char *name) {
   return has_prefix(name, "sqlite_rename_") || sqlite3_stricmp(name, "sqlite_drop_column") == 0;
}

// Skips what SQLite's tokenizer skips before a statement: white space, comments and empty
// statements. Returns the position of the next token (sql.size() when there is none).
size_t skip_space(std::string_view sql, size_t i) {
   while (i < sql.size()) {
      const char c = sql[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ';') {
         ++i;
      } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
         i = sql.find('\n', i);
         if (i == std::string_view::npos) return sql.size();
      } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
         i = sql.find("*/", i + 2);
         if (i == std::string_view::npos) return sql.size();
         i += 2;
      } else {
         break;
      }
   }
   return i;
}

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The statement's first keyword, or empty when the first token is something else. A word that
// continues with identifier characters is SQLite's identifier, not the keyword.
std::string_view first_keyword(std::string_view sql) {
   const size_t begin = skip_space(sql, 0);
   size_t end = begin;
   while (end < sql.size() && is_ascii_alpha(sql[end])) ++end;
   if (end < sql.size()) {
      const auto c = static_cast<unsigned char>(sql[end]);
      if (c >= 0x80 || (c >= '0' && c <= '9') || c == '_' || c == '$') return {};
   }
   return sql.substr(begin, end - begin);
}

bool keyword_is(std::string_view word, const char *keyword) {
   return word.size() == std::strlen(keyword) &&
          sqlite3_strnicmp(word.data(), keyword, static_cast<int>(word.size())) == 0;
}

// ---- JSON output ----

// Appends to a std::string through a buffer on the stack: std::string::append is out of line,
// and a point read's answer is a dozen pieces of a few bytes. Nothing reaches the string before
// flush(), so an answer abandoned half-way leaves it as it was.
class Writer {
public:
   explicit Writer(std::string &out) : out_(out) {}
   Writer(const Writer &) = delete;
   Writer &operator=(const Writer &) = delete;

   void append(const char *s, size_t n) {
      if (n > sizeof buf_ - used_) {
         flush();
         if (n > sizeof buf_) {
            out_.append(s, n);
            return;
         }
      }
      std::memcpy(buf_ + used_, s, n);
      used_ += n;
   }
   Writer &operator+=(char c) {
      if (used_ == sizeof buf_) flush();
      buf_[used_++] = c;
      return *this;
   }
   template <size_t N>
   Writer &operator+=(const char (&literal)[N]) {
      append(literal, N - 1);
      return *this;
   }
   void flush() {
      out_.append(buf_, used_);
      used_ = 0;
   }

private:
   std::string &out_;
   size_t used_ = 0;
   char buf_[1024];
};

void append_int(Writer &out, int64_t v) {
   char buf[24];
   const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
   out.append(buf, static_cast<size_t>(end - buf));
}

// v as m / 10^k with at most 9 decimals, when that decimal reads back as exactly v: m and 10^k
// are exact doubles, so their quotient is the double nearest that decimal. The smallest such k
// gives the digits to_chars would, at a tenth of its cost (a REAL column is mostly 2.5 or 19.99).
bool append_short_decimal(Writer &out, double v) {
   static constexpr double powers[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
   constexpr double exact_limit = 9007199254740992.0; // 2^53
   for (int k = 0; k < 10; ++k) {
      const double scaled = std::fabs(v) * powers[k];
      if (scaled >= exact_limit) return false;
      const double m = std::nearbyint(scaled);
      if (m / powers[k] != std::fabs(v)) continue;
      const auto digits = static_cast<uint64_t>(m);
      const auto unit = static_cast<uint64_t>(powers[k]);
      if (std::signbit(v)) out += '-';
      append_int(out, static_cast<int64_t>(digits / unit));
      out += '.';
      if (k == 0) {
         out += '0';
         return true;
      }
      char frac[9];
      uint64_t rest = digits % unit;
      for (int i = k - 1; i >= 0; --i, rest /= 10) frac[i] = static_cast<char>('0' + rest % 10);
      out.append(frac, static_cast<size_t>(k));
      return true;
   }
   return false;
}

void append_real(Writer &out, double v) {
   if (!std::isfinite(v)) {
      out += "null"; // JSON has no infinities (NaN is NULL in SQLite already)
      return;
   }
   if (append_short_decimal(out, v)) return;
   char buf[32];
   const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr; // shortest round trip
   out.append(buf, static_cast<size_t>(end - buf));
   // Keeps a REAL a float for the reader: 3.0 stays 3.0, not the integer 3.
   if (std::none_of(buf, end, [](char c) { return c == '.' || c == 'e'; })) out += ".0";
}

// The length of the valid UTF-8 sequence at s, 0 when it is not one (RFC 3629's table).
size_t utf8_length(const unsigned char *s, size_t n) {
   const unsigned char c = s[0];
   size_t len;
   unsigned char lo = 0x80, hi = 0xBF;
   if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
   } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F; // no surrogates
   } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
   } else {
      return 0;
   }
   if (n < len || s[1] < lo || s[1] > hi) return 0;
   for (size_t k = 2; k < len; ++k)
      if (s[k] < 0x80 || s[k] > 0xBF) return 0;
   return len;
}

constexpr char hex_digits[] = "0123456789abcdef";

// A JSON string; bytes that are not UTF-8 (TEXT may hold anything) become U+FFFD, so the
// answer always parses.
void append_string(Writer &out, const unsigned char *s, size_t n) {
   out += '"';
   size_t i = 0;
   while (i < n) {
      const unsigned char c = s[i];
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
         size_t j = i + 1;
         while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\') ++j;
         out.append(reinterpret_cast<const char *>(s + i), j - i);
         i = j;
      } else if (c < 0x80) {
         switch (c) {
         case '"': out += "\\\""; break;
         case '\\': out += "\\\\"; break;
         case '\n': out += "\\n"; break;
         case '\r': out += "\\r"; break;
         case '\t': out += "\\t"; break;
         default:
            out += "\\u00";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 15];
         }
         ++i;
      } else if (const size_t len = utf8_length(s + i, n - i)) {
         out.append(reinterpret_cast<const char *>(s + i), len);
         i += len;
      } else {
         out += "\\ufffd";
         ++i;
      }
   }
   out += '"';
}

void append_string(Writer &out, const char *s) {
   append_string(out, reinterpret_cast<const unsigned char *>(s ? s : ""), s ? std::strlen(s) : 0);
}

void append_value(Writer &out, sqlite3_stmt *stmt, int column) {
   switch (sqlite3_column_type(stmt, column)) {
   case SQLITE_INTEGER: append_int(out, sqlite3_column_int64(stmt, column)); break;
   case SQLITE_FLOAT: append_real(out, sqlite3_column_double(stmt, column)); break;
   case SQLITE_TEXT: {
      const unsigned char *text = sqlite3_column_text(stmt, column);
      append_string(out, text, text ? static_cast<size_t>(sqlite3_column_bytes(stmt, column)) : 0);
      break;
   }
   case SQLITE_BLOB: {
      // Lowercase hex: portable, and what SQLite's hex() and PostgreSQL's encode(.., 'hex') give.
      const auto *p = static_cast<const unsigned char *>(sqlite3_column_blob(stmt, column));
      const int n = sqlite3_column_bytes(stmt, column);
      out += '"';
      for (int i = 0; p && i < n; ++i) {
         out += hex_digits[p[i] >> 4];
         out += hex_digits[p[i] & 15];
      }
      out += '"';
      break;
   }
   default: out += "null";
   }
}

} // namespace

std::string table_prefix_for(std::string_view module_name) {
   // Lower case (SQLite compares names without case), one '_' for every run of other
   // characters, then "__": no name part holds "__", so no module's prefix starts another's
   // ("a__" never matches "a_b__x").
   std::string prefix;
   prefix.reserve(module_name.size() + 2);
   for (char c : module_name) {
      const bool keep = is_ascii_alpha(c) || (c >= '0' && c <= '9');
      if (keep) prefix += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      else if (prefix.empty() || prefix.back() != '_') prefix += '_';
   }
   prefix += "__";
   return prefix;
}

// ---- parameters: a SAX reader straight into params_, no JSON tree per call ----

class SqlStore::ParamsReader {
public:
   using json = nlohmann::json;

   ParamsReader(SqlStore &store, std::string &error) : store_(store), error_(error) {}

   bool null() { return put("null", Param::Type::null); }
   bool boolean(bool v) { return put("a boolean", Param::Type::integer, v ? 1 : 0); }
   bool number_integer(json::number_integer_t v) { return put("a number", Param::Type::integer, v); }
   bool number_unsigned(json::number_unsigned_t v) {
      if (v > static_cast<json::number_unsigned_t>(INT64_MAX) && depth_ == 1) {
         error_ = "parameter " + std::to_string(store_.param_count_) + ": " + std::to_string(v) +
                  " is beyond the 64-bit signed integer range";
         return false;
      }
      return put("a number", Param::Type::integer, static_cast<int64_t>(v));
   }
   bool number_float(json::number_float_t v, const json::string_t &) {
      if (!put("a number", Param::Type::real)) return false;
      store_.params_[store_.param_count_ - 1].real = v;
      return true;
   }
   bool string(json::string_t &v) {
      if (!put("a string", Param::Type::text)) return false;
      store_.params_[store_.param_count_ - 1].text.assign(v);
      return true;
   }
   bool binary(json::binary_t &) { return refuse("binary data"); } // never from JSON text
   bool start_object(std::size_t) { return refuse("an object"); }
   bool key(json::string_t &) { return false; }
   bool end_object() { return false; }
   bool start_array(std::size_t) { return depth_++ == 0 ? true : refuse("an array"); }
   bool end_array() {
      --depth_;
      return true;
   }
   template <class Exception>
   bool parse_error(std::size_t, const std::string &, const Exception &e) {
      error_ = std::string("parameters are not valid JSON: ") + e.what();
      return false;
   }

private:
   bool put(const char *what, Param::Type type, int64_t integer = 0) {
      if (depth_ != 1) return refuse(what);
      Param &p = store_.next_param();
      p.type = type;
      p.integer = integer;
      return true;
   }
   bool refuse(const char *what) {
      if (depth_ == 0)
         error_ = std::string("parameters must be a JSON array; found ") + what;
      else
         error_ = "parameter " + std::to_string(store_.param_count_) + " is " + what +
                  "; expected null, a boolean, a number or a string";
      return false;
   }

   SqlStore &store_;
   std::string &error_;
   int depth_ = 0;
};

// ---- the connection ----

SqlStore::SqlStore(const std::string &path) {
   const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                  nullptr);
   std::string error = rc != SQLITE_OK ? (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)) : configure(path);
   if (!error.empty()) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open the storage database \"" + path + "\": " + error);
   }
}

SqlStore::~SqlStore() {
   for (Cached &c : lru_) sqlite3_finalize(c.stmt);
   sqlite3_close(db_);
}

std::string SqlStore::configure(const std::string &path) {
   sqlite3_extended_result_codes(db_, 1);
   const std::pair<int, int> settings[] = {
      {SQLITE_DBCONFIG_DEFENSIVE, 1},      // no writable_schema, no corrupting the file by SQL
      {SQLITE_DBCONFIG_ENABLE_FKEY, 1},    // foreign keys are enforced
      {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0}, // schema SQL cannot call functions with side effects
      {SQLITE_DBCONFIG_DQS_DML, 0},        // "x" is an identifier, as in PostgreSQL
      {SQLITE_DBCONFIG_DQS_DDL, 0},
   };
   for (const auto &[op, value] : settings)
      if (sqlite3_db_config(db_, op, value, static_cast<int *>(nullptr)) != SQLITE_OK) return sqlite3_errmsg(db_);
   sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 0);
   sqlite3_busy_timeout(db_, busy_timeout_ms);
   // Pragmas before the authorizer, which refuses them all.
   if (path != ":memory:" && sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite3_errmsg(db_);
   sqlite3_set_authorizer(db_, &SqlStore::authorize, this);
   return {};
}

// ---- the authorizer ----

int SqlStore::authorize(void *self, int action, const char *a, const char *b, const char *db, const char *) {
   Guard &g = static_cast<SqlStore *>(self)->guard_;
   if (g.trusted) return SQLITE_OK;
   // An exception must not unwind through SQLite's frames.
   try {
      const auto deny = [&g](std::string why) {
         if (g.denial.empty()) g.denial = std::move(why);
         return SQLITE_DENY;
      };
      if (!g.prefix) return deny("no module statement is being prepared");
      const std::string &prefix = *g.prefix;
      // An object of the module's own, in the main database.
      const auto own = [&](const char *what, const char *name, const char *database) {
         if (!in_main(database)) return deny("database " + quote(database) + " is not allowed; only \"main\"");
         if (is_internal(name)) return deny(std::string(what) + " " + quote(name) + " is internal to SQLite");
         if (!has_prefix(name, prefix))
            return deny(std::string(what) + " " + quote(name) + " is outside this module's prefix \"" + prefix + "\"");
         return SQLITE_OK;
      };

      switch (action) {
      case SQLITE_SELECT:
      case SQLITE_RECURSIVE: return SQLITE_OK;
      case SQLITE_READ:
      case SQLITE_INSERT:
      case SQLITE_UPDATE:
      case SQLITE_DELETE:
         if (is_internal(a)) {
            // CREATE and DROP write sqlite_schema through nested statements, so it cannot simply
            // be denied (WebKit's note). SQLite refuses a module's own writes to it before asking;
            // in a query, what writes it is SQLite connecting an eponymous virtual table.
            if (action != SQLITE_READ && is_schema_table(a)) {
               if (g.kind == Kind::query)
                  return deny("table-valued functions such as json_each() and pragma_table_info() are not allowed");
               // A CREATE's closing UPDATE of sqlite_schema comes after its AS SELECT is
               // resolved: what reads SQLite's tables from here on is SQLite (AUTOINCREMENT).
               if (action == SQLITE_UPDATE && g.kind == Kind::create) g.internal_ok = true;
               return SQLITE_OK;
            }
            if (g.internal_ok) return SQLITE_OK;
            return deny("table " + quote(a) + " is internal to SQLite; a module uses only its own tables");
         }
         return own("table", a, db);
      case SQLITE_CREATE_TABLE:
         // sqlite_sequence and sqlite_stat1, made by SQLite for AUTOINCREMENT and ANALYZE; a
         // module's own "sqlite_" name is refused by SQLite as reserved.
         if (is_internal(a) && g.kind != Kind::query && in_main(db)) return SQLITE_OK;
         if (const int rc = own("table", a, db); rc != SQLITE_OK) return rc;
         if (g.kind == Kind::create) g.internal_ok = false; // a re-prepare starts over
         return SQLITE_OK;
      case SQLITE_CREATE_INDEX:
      case SQLITE_DROP_INDEX:
         // The index SQLite makes for a PRIMARY KEY or UNIQUE column is named after its table
         // (sqlite_autoindex_<table>_N): the table decides.
         if (action == SQLITE_CREATE_INDEX && a && std::strncmp(a, "sqlite_autoindex_", 17) == 0 && b &&
             std::strncmp(a + 17, b, std::strlen(b)) == 0)
            return own("table", b, db);
         // Index names share one namespace with tables, so they carry the prefix too.
         if (const int rc = own("index", a, db); rc != SQLITE_OK) return rc;
         return own("table", b, db);
      case SQLITE_DROP_TABLE:
      case SQLITE_ANALYZE: return own("table", a, db);
      case SQLITE_REINDEX: return own("index", a, db);
      case SQLITE_ALTER_TABLE:
         // The database name comes first here and the table second (workerd swaps them too).
         if (const int rc = own("table", b, a); rc != SQLITE_OK) return rc;
         g.altered = b;
         return SQLITE_OK;
      case SQLITE_FUNCTION:
         if (allowed_function(b) || (g.internal_ok && is_alter_helper(b))) return SQLITE_OK;
         return deny("function " + std::string(b ? b : "") + "() is not allowed");
      case SQLITE_ATTACH:
      case SQLITE_DETACH: return deny("ATTACH and DETACH are not allowed: a module uses only its own tables");
      case SQLITE_TRANSACTION:
      case SQLITE_SAVEPOINT:
         return deny(std::string(action == SQLITE_SAVEPOINT ? "SAVEPOINT" : a ? a : "BEGIN") +
                     " is not allowed: the service owns transactions (use batch)");
      case SQLITE_PRAGMA: return deny("PRAGMA " + std::string(a ? a : "") + " is not allowed");
      case SQLITE_CREATE_TEMP_INDEX:
      case SQLITE_CREATE_TEMP_TABLE:
      case SQLITE_CREATE_TEMP_TRIGGER:
      case SQLITE_CREATE_TEMP_VIEW:
      case SQLITE_DROP_TEMP_INDEX:
      case SQLITE_DROP_TEMP_TABLE:
      case SQLITE_DROP_TEMP_TRIGGER:
      case SQLITE_DROP_TEMP_VIEW: return deny("temporary tables, indexes, triggers and views are not allowed");
      case SQLITE_CREATE_VIEW:
      case SQLITE_DROP_VIEW: return deny("views are not allowed");
      case SQLITE_CREATE_TRIGGER:
      case SQLITE_DROP_TRIGGER: return deny("triggers are not allowed");
      case SQLITE_CREATE_VTABLE:
      case SQLITE_DROP_VTABLE: return deny("virtual tables are not allowed");
      default: return deny("authorizer action " + std::to_string(action) + " is not allowed");
      }
   } catch (...) {
      return SQLITE_DENY;
   }
}

void SqlStore::arm(const std::string &prefix, Kind kind) {
   guard_.prefix = &prefix;
   guard_.kind = kind;
   guard_.internal_ok = kind == Kind::alter || kind == Kind::maintain;
   guard_.denial.clear();
}

// ---- statements ----

SqlResult SqlStore::execute(const std::string &prefix, std::string_view sql, std::string_view params_json) {
   SqlResult r;
   rollback();
   r.json.reserve(256); // one allocation for a point read's answer
   if (read_params(params_json, r) && !run(prefix, sql, r.json, r)) r.json.clear();
   return r;
}

SqlResult SqlStore::batch(const std::string &prefix, std::string_view statements_json) {
   SqlResult r;
   rollback();
   const auto invalid = [&r](std::string message) {
      r.status = MODKIT_E_INVALID_ARGUMENT;
      r.message = std::move(message);
      return r;
   };
   nlohmann::json list;
   try {
      list = nlohmann::json::parse(statements_json);
   } catch (const nlohmann::json::parse_error &e) {
      return invalid(std::string("statements are not valid JSON: ") + e.what());
   }
   if (!list.is_array())
      return invalid(std::string("statements must be a JSON array of {\"sql\": ..., \"params\": [...]}; found ") +
                     list.type_name());
   // The whole list is checked before anything runs.
   for (size_t i = 0; i < list.size(); ++i) {
      const nlohmann::json &s = list[i];
      const std::string at = "statement " + std::to_string(i);
      if (!s.is_object())
         return invalid(at + " must be an object {\"sql\": ..., \"params\": [...]}; found " + s.type_name());
      for (const auto &item : s.items())
         if (item.key() != "sql" && item.key() != "params")
            return invalid(at + ": unknown key \"" + item.key() + "\"; expected \"sql\" and \"params\"");
      const auto sql = s.find("sql");
      if (sql == s.end() || !sql->is_string())
         return invalid(at + ": \"sql\" must be a string; found " + (sql == s.end() ? "none" : sql->type_name()));
      const auto params = s.find("params");
      if (params != s.end() && !params->is_array())
         return invalid(at + ": \"params\" must be a JSON array; found " + params->type_name());
   }

   if (exec_trusted("BEGIN IMMEDIATE") != SQLITE_OK) {
      r.status = MODKIT_E_INTERNAL;
      r.message = std::string("cannot begin the batch's transaction: ") + sqlite3_errmsg(db_);
      return r;
   }
   std::string out = "[";
   for (size_t i = 0; i < list.size(); ++i) {
      const nlohmann::json &s = list[i];
      const auto params = s.find("params");
      if (i) out += ',';
      if (!read_params(params == s.end() ? std::string() : params->dump(), r) ||
          !run(prefix, s["sql"].get_ref<const std::string &>(), out, r)) {
         rollback();
         r.message = "statement " + std::to_string(i) + ": " + r.message;
         return r;
      }
   }
   if (const int rc = exec_trusted("COMMIT"); rc != SQLITE_OK) {
      fail(r, rc, false); // a deferred foreign key fails here, as a constraint
      r.message = "commit: " + r.message;
      rollback();
      return r;
   }
   out += ']';
   r.json = std::move(out);
   return r;
}

bool SqlStore::read_params(std::string_view params_json, SqlResult &r) {
   param_count_ = 0;
   if (params_json.empty() || read_plain_params(params_json)) return true;
   param_count_ = 0;
   ParamsReader reader(*this, r.message);
   if (nlohmann::json::sax_parse(params_json.begin(), params_json.end(), &reader)) return true;
   r.status = MODKIT_E_INVALID_ARGUMENT;
   if (r.message.empty()) r.message = "parameters are not valid JSON";
   return false;
}

SqlStore::Param &SqlStore::next_param() {
   if (param_count_ == params_.size()) params_.emplace_back();
   return params_[param_count_++];
}

// The common parameters (integers, decimals, ASCII strings without escapes, true, false, null)
// without a JSON library: nlohmann's lexer costs more than the point read it feeds. Anything
// else, valid or not, returns false and goes to nlohmann, which has the last word.
bool SqlStore::read_plain_params(std::string_view s) {
   const size_t n = s.size();
   size_t i = 0;
   const auto space = [&] {
      while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
   };
   const auto digits = [&] {
      const size_t from = i;
      while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
      return i > from;
   };
   const auto word = [&](std::string_view w) {
      if (s.substr(i, w.size()) != w) return false;
      i += w.size();
      return true;
   };
   space();
   if (i == n || s[i] != '[') return false;
   ++i;
   space();
   if (i < n && s[i] == ']') {
      ++i;
      space();
      return i == n;
   }
   for (;;) {
      if (i == n) return false;
      Param &p = next_param();
      const char c = s[i];
      if (c == '"') {
         const size_t from = ++i;
         while (i < n && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20 &&
                static_cast<unsigned char>(s[i]) < 0x80)
            ++i;
         if (i == n || s[i] != '"') return false;
         p.type = Param::Type::text;
         p.text.assign(s.data() + from, i - from);
         ++i;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
         // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
         const size_t from = i;
         if (s[i] == '-') ++i;
         if (i < n && s[i] == '0')
            ++i;
         else if (!digits())
            return false;
         bool real = false;
         if (i < n && s[i] == '.') {
            real = true;
            ++i;
            if (!digits()) return false;
         }
         if (i < n && (s[i] == 'e' || s[i] == 'E')) {
            real = true;
            ++i;
            if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
            if (!digits()) return false;
         }
         const char *first = s.data() + from, *last = s.data() + i;
         // Out of range (beyond int64, or 1e999) goes to nlohmann too.
         const auto [end, ec] = real ? std::from_chars(first, last, p.real) : std::from_chars(first, last, p.integer);
         if (ec != std::errc() || end != last) return false;
         p.type = real ? Param::Type::real : Param::Type::integer;
      } else if (word("true")) {
         p.type = Param::Type::integer;
         p.integer = 1;
      } else if (word("false")) {
         p.type = Param::Type::integer;
         p.integer = 0;
      } else if (word("null")) {
         p.type = Param::Type::null;
      } else {
         return false;
      }
      space();
      if (i == n) return false;
      if (s[i] == ']') {
         ++i;
         space();
         return i == n;
      }
      if (s[i++] != ',') return false;
      space();
   }
}

bool SqlStore::run(const std::string &prefix, std::string_view sql, std::string &out, SqlResult &r) {
   if (prefix.empty()) {
      r.status = MODKIT_E_INVALID_ARGUMENT;
      r.message = "the table prefix is empty";
      return false;
   }
   // Only queries are cached (schema statements run once and expire the cache anyway), so a hit
   // needs no look at the text.
   Kind kind = Kind::query;
   Cached *entry = find_cached(prefix, sql);
   Keys uncached_keys;
   StmtPtr owned;
   sqlite3_stmt *stmt = entry ? entry->stmt : nullptr;
   if (!entry) {
      const std::string_view word = first_keyword(sql);
      if (keyword_is(word, "CREATE"))
         kind = Kind::create;
      else if (keyword_is(word, "ALTER"))
         kind = Kind::alter;
      else if (keyword_is(word, "DROP") || keyword_is(word, "ANALYZE") || keyword_is(word, "REINDEX"))
         kind = Kind::maintain;
      const bool inserts = keyword_is(word, "INSERT") || keyword_is(word, "REPLACE");
      if (kind == Kind::query) {
         entry = add_cached(prefix, sql, inserts, r);
         stmt = entry ? entry->stmt : nullptr;
      } else {
         owned.reset(prepare(prefix, sql, kind, false, r));
         stmt = owned.get();
      }
   }
   if (!stmt) {
      guard_.prefix = nullptr;
      return false;
   }

   const bool checked = kind == Kind::create || kind == Kind::alter;
   std::vector<std::string> before;
   if (checked && (exec_trusted("SAVEPOINT modkit_schema") != SQLITE_OK ||
                   !trusted_column("SELECT name FROM sqlite_schema", nullptr, before))) {
      r.status = MODKIT_E_INTERNAL;
      r.message = std::string("cannot check the schema: ") + sqlite3_errmsg(db_);
      exec_trusted("RELEASE modkit_schema");
      guard_.prefix = nullptr;
      return false;
   }
   std::sort(before.begin(), before.end());

   bool ok = bind(stmt, r);
   if (ok) {
      arm(prefix, kind); // again: a re-prepare inside step runs the authorizer afresh
      ok = step(stmt, entry ? entry->keys : uncached_keys, out, r);
      if (!ok && kind == Kind::query) {
         evict(stmt); // whatever failed may have left it expired
         stmt = nullptr;
      }
   }
   if (stmt) sqlite3_clear_bindings(stmt);
   owned.reset();
   if (checked) {
      if (ok) ok = check_schema(prefix, before, r);
      if (!ok) exec_trusted("ROLLBACK TO modkit_schema");
      exec_trusted("RELEASE modkit_schema");
   }
   guard_.prefix = nullptr;
   return ok;
}

sqlite3_stmt *SqlStore::prepare(const std::string &prefix, std::string_view sql, Kind kind, bool inserts,
                               SqlResult &r) {
   if (sql.size() >= static_cast<size_t>(INT_MAX)) {
      r.status = MODKIT_E_INVALID_ARGUMENT;
      r.message = "the SQL text is " + std::to_string(sql.size()) + " bytes; SQLite takes less than 2 GiB";
      return nullptr;
   }
   arm(prefix, kind);
   guard_.altered.clear();
   sqlite3_stmt *stmt = nullptr;
   const char *tail = nullptr;
   const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                     kind == Kind::query ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
   if (rc != SQLITE_OK) {
      fail(r, rc, true);
      return nullptr;
   }
   if (!stmt) {
      r.status = MODKIT_E_INVALID_ARGUMENT;
      r.message = "the SQL text holds no statement";
      return nullptr;
   }
   const size_t rest = skip_space(sql, static_cast<size_t>(tail - sql.data()));
   if (rest != sql.size()) {
      sqlite3_finalize(stmt);
      r.status = MODKIT_E_INVALID_ARGUMENT;
      r.message = "expected one statement; found more after the first, at \"" +
                  std::string(sql.substr(rest, 40)) + "\" (use batch)";
      return nullptr;
   }
   if (inserts && !check_opened(prefix, sql, r)) {
      sqlite3_finalize(stmt);
      return nullptr;
   }
   return stmt;
}

// SQLite's transfer optimization runs INSERT INTO t SELECT * FROM u without asking the
// authorizer about u, so an INSERT's program is read back (EXPLAIN): every table it opens must
// be the module's own or SQLite's. Once per prepare; the names a statement resolves cannot
// change, so a re-prepare opens the same tables.
bool SqlStore::check_opened(const std::string &prefix, std::string_view sql, SqlResult &r) {
   std::vector<sqlite3_int64> roots;
   std::vector<std::string> schema;
   bool ok;
   {
      Raise trusted(guard_.trusted);
      const std::string explain = "EXPLAIN " + std::string(sql);
      sqlite3_stmt *raw = nullptr;
      ok = sqlite3_prepare_v2(db_, explain.data(), static_cast<int>(explain.size()), &raw, nullptr) == SQLITE_OK;
      const StmtPtr program(raw);
      int rc = SQLITE_DONE;
      while (ok && (rc = sqlite3_step(raw)) == SQLITE_ROW) {
         const auto *op = reinterpret_cast<const char *>(sqlite3_column_text(raw, 1)); // addr, opcode, p1, p2, p3
         if (!op || (std::strcmp(op, "OpenRead") != 0 && std::strcmp(op, "OpenWrite") != 0)) continue;
         if (sqlite3_column_int64(raw, 4) != 0) {
            r.status = MODKIT_E_DENIED;
            r.message = "the statement opens a table outside the \"main\" database";
            return false;
         }
         roots.push_back(sqlite3_column_int64(raw, 3));
      }
      ok = ok && rc == SQLITE_DONE;
   }
   // rootpage, tbl_name pairs, flattened.
   ok = ok && trusted_column("SELECT rootpage, tbl_name FROM sqlite_schema", nullptr, schema, 2);
   for (size_t i = 0; ok && i < roots.size(); ++i) {
      if (roots[i] == 1) continue; // sqlite_schema itself
      const std::string root = std::to_string(roots[i]);
      const char *table = nullptr;
      for (size_t k = 0; k + 1 < schema.size(); k += 2)
         if (schema[k] == root) table = schema[k + 1].c_str();
      if (table && (is_internal(table) || has_prefix(table, prefix))) continue;
      r.status = MODKIT_E_DENIED;
      r.message = table ? "table \"" + std::string(table) + "\" is outside this module's prefix \"" + prefix + "\""
                        : "the statement opens page " + root + ", which is no table of the schema";
      return false;
   }
   if (!ok) {
      r.status = MODKIT_E_INTERNAL;
      r.message = std::string("cannot check the statement's tables: ") + sqlite3_errmsg(db_);
   }
   return ok;
}

SqlStore::Cached *SqlStore::find_cached(const std::string &prefix, std::string_view sql) {
   // The prefix is part of the identity: the authorizer's verdict holds for one prefix only.
   const auto [first, last] = index_.equal_range(sql);
   for (auto it = first; it != last; ++it) {
      if (it->second->prefix != prefix) continue;
      lru_.splice(lru_.begin(), lru_, it->second);
      return &*it->second;
   }
   return nullptr;
}

SqlStore::Cached *SqlStore::add_cached(const std::string &prefix, std::string_view sql, bool inserts, SqlResult &r) {
   sqlite3_stmt *stmt = prepare(prefix, sql, Kind::query, inserts, r);
   if (!stmt) return nullptr;
   lru_.push_front(Cached{prefix, std::string(sql), stmt, {}});
   index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
   if (lru_.size() > cache_capacity) evict(lru_.back().stmt);
   return &lru_.front();
}

void SqlStore::evict(sqlite3_stmt *stmt) {
   const auto it = std::find_if(lru_.begin(), lru_.end(), [stmt](const Cached &c) { return c.stmt == stmt; });
   if (it == lru_.end()) return;
   const auto [first, last] = index_.equal_range(std::string_view(it->sql));
   for (auto at = first; at != last; ++at) {
      if (at->second != it) continue;
      index_.erase(at);
      break;
   }
   sqlite3_finalize(it->stmt);
   lru_.erase(it);
}

bool SqlStore::bind(sqlite3_stmt *stmt, SqlResult &r) {
   const auto expected = static_cast<size_t>(sqlite3_bind_parameter_count(stmt));
   if (expected != param_count_) {
      r.status = MODKIT_E_INVALID_ARGUMENT;
      r.message = "the statement takes " + std::to_string(expected) + " parameter" + (expected == 1 ? "" : "s") +
                  "; found " + std::to_string(param_count_);
      return false;
   }
   for (size_t i = 0; i < param_count_; ++i) {
      const Param &p = params_[i];
      const int at = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      switch (p.type) {
      case Param::Type::null: rc = sqlite3_bind_null(stmt, at); break;
      case Param::Type::integer: rc = sqlite3_bind_int64(stmt, at, p.integer); break;
      case Param::Type::real: rc = sqlite3_bind_double(stmt, at, p.real); break;
      case Param::Type::text:
         // params_ outlives the step, and run() clears the bindings after it: no copy.
         rc = sqlite3_bind_text64(stmt, at, p.text.data(), p.text.size(), SQLITE_STATIC, SQLITE_UTF8);
         break;
      }
      if (rc != SQLITE_OK) {
         fail(r, rc, true);
         r.message = "parameter " + std::to_string(i) + ": " + r.message;
         return false;
      }
   }
   return true;
}

bool SqlStore::step(sqlite3_stmt *stmt, Keys &keys, std::string &out, SqlResult &r) {
   // sqlite3_changes() keeps the last INSERT, UPDATE or DELETE's count through a SELECT or a
   // CREATE; the total moves only when this statement changed rows.
   struct Reset { // also when an exception leaves mid-way: a cached statement is reused
      sqlite3_stmt *stmt;
      ~Reset() { sqlite3_reset(stmt); }
   } reset{stmt};
   const sqlite3_int64 total = sqlite3_total_changes64(db_);
   Writer w(out);
   w += "{\"rows\":[";
   int rc;
   for (bool first = true; (rc = sqlite3_step(stmt)) == SQLITE_ROW; first = false) {
      if (first) {
         // The step may have re-prepared the statement: SELECT * follows the schema.
         const int version = sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0);
         const auto columns = static_cast<size_t>(sqlite3_column_count(stmt));
         if (keys.version != version || keys.ends.size() != columns) {
            keys.text.clear();
            keys.ends.clear();
            for (size_t c = 0; c < columns; ++c) {
               Writer k(keys.text);
               if (c) k += ',';
               append_string(k, sqlite3_column_name(stmt, static_cast<int>(c)));
               k += ':';
               k.flush();
               keys.ends.push_back(keys.text.size());
            }
            keys.version = version;
         }
      } else {
         w += ',';
      }
      w += '{';
      size_t from = 0;
      for (size_t c = 0; c < keys.ends.size(); ++c) {
         w.append(keys.text.data() + from, keys.ends[c] - from);
         from = keys.ends[c];
         append_value(w, stmt, static_cast<int>(c));
      }
      w += '}';
   }
   if (rc != SQLITE_DONE) {
      fail(r, rc, false);
      return false;
   }
   w += "],\"changes\":";
   append_int(w, sqlite3_total_changes64(db_) != total ? sqlite3_changes64(db_) : 0);
   w += '}';
   w.flush();
   return true;
}

bool SqlStore::check_schema(const std::string &prefix, const std::vector<std::string> &before, SqlResult &r) {
   std::vector<std::string> after, tables, targets;
   bool ok = trusted_column("SELECT name FROM sqlite_schema", nullptr, after);
   for (const std::string &name : after) {
      if (!ok || std::binary_search(before.begin(), before.end(), name) || is_internal(name.c_str())) continue;
      // The authorizer never sees the new name of ALTER TABLE ... RENAME TO.
      if (!has_prefix(name.c_str(), prefix)) {
         r.status = MODKIT_E_DENIED;
         r.message = "table \"" + name + "\" is outside this module's prefix \"" + prefix + "\"";
         return false;
      }
      tables.push_back(name);
   }
   if (!guard_.altered.empty()) tables.push_back(guard_.altered);
   // A foreign key to another module's table would let this module refuse that module's
   // deletes, or learn its keys from constraint failures.
   for (const std::string &table : tables) {
      targets.clear();
      ok = ok && trusted_column("SELECT \"table\" FROM pragma_foreign_key_list(?1)", &table, targets);
      for (const std::string &target : targets) {
         if (has_prefix(target.c_str(), prefix) && !is_internal(target.c_str())) continue;
         r.status = MODKIT_E_DENIED;
         r.message = "table \"" + table + "\" has a foreign key to \"" + target + "\", outside this module's prefix \"" +
                     prefix + "\"";
         return false;
      }
   }
   if (!ok) {
      r.status = MODKIT_E_INTERNAL;
      r.message = std::string("cannot check the schema: ") + sqlite3_errmsg(db_);
   }
   return ok;
}

// ---- the store's own statements, which the authorizer lets through ----

int SqlStore::exec_trusted(const char *sql) {
   Raise trusted(guard_.trusted);
   return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

bool SqlStore::trusted_column(const char *sql, const std::string *arg, std::vector<std::string> &out, int columns) {
   Raise trusted(guard_.trusted);
   sqlite3_stmt *raw = nullptr;
   if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) return false;
   const StmtPtr stmt(raw);
   if (arg && sqlite3_bind_text64(raw, 1, arg->data(), arg->size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
      return false;
   int rc;
   while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      for (int c = 0; c < columns; ++c) {
         const unsigned char *text = sqlite3_column_text(raw, c);
         out.emplace_back(text ? reinterpret_cast<const char *>(text) : "");
      }
   }
   return rc == SQLITE_DONE;
}

// Ends a transaction a failure left open; each call of a module starts outside one.
void SqlStore::rollback() {
   if (!sqlite3_get_autocommit(db_)) exec_trusted("ROLLBACK");
}

void SqlStore::fail(SqlResult &r, int rc, bool preparing) {
   // A refused function comes back as SQLITE_ERROR ("not authorized to use function"), and
   // VACUUM's refused ATTACH at step: the authorizer's note is what counts.
   if ((rc & 0xff) == SQLITE_AUTH || (guard_.prefix && !guard_.denial.empty())) {
      r.status = MODKIT_E_DENIED;
      r.message = guard_.denial.empty() ? sqlite3_errmsg(db_) : guard_.denial;
      return;
   }
   switch (rc & 0xff) {
   case SQLITE_CONSTRAINT: r.status = MODKIT_E_CONFLICT; break;
   // At prepare: a syntax error, an unknown table or column. At step: the database's own.
   case SQLITE_ERROR:
   case SQLITE_RANGE: r.status = preparing ? MODKIT_E_INVALID_ARGUMENT : MODKIT_E_INTERNAL; break;
   default: r.status = MODKIT_E_INTERNAL;
   }
   r.message = sqlite3_errmsg(db_);
}

} // namespace modkit::loader::services
