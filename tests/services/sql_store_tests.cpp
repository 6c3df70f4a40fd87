// sql_store_tests.cpp - the storage engine: values in and out, confinement to a module's prefix
// (and the schema statements SQLite needs to keep working), statuses, batches, a file database
// across reopening, and the service thread: order, cancellation, shutdown, open failure.
#include "services/sql_service.hpp"
#include "services/sql_store.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using modkit::loader::services::SqlResult;
using modkit::loader::services::SqlService;
using modkit::loader::services::SqlStore;
using modkit::loader::services::table_prefix_for;
using nlohmann::json;

namespace {

using namespace std::chrono_literals;

const std::string spam = "spam_";
const std::string other = "other_";

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// Runs sql as module spam_ and requires success.
json ok(SqlStore &store, const std::string &sql, const std::string &params = "", const std::string &prefix = spam) {
   const SqlResult r = store.execute(prefix, sql, params);
   INFO(sql, " -> ", r.message);
   REQUIRE(r.status == MODKIT_OK);
   return json::parse(r.json);
}

// Two modules' tables, with a row each.
void two_modules(SqlStore &store) {
   ok(store, "CREATE TABLE spam_t(id INTEGER PRIMARY KEY, v TEXT)");
   ok(store, "INSERT INTO spam_t VALUES (1, 'mine')");
   ok(store, "CREATE TABLE other_t(id INTEGER PRIMARY KEY, v TEXT)", "", other);
   ok(store, "INSERT INTO other_t VALUES (1, 'theirs')", "", other);
}

// A scratch directory, removed with everything in it.
struct TempDir {
   std::filesystem::path path;
   TempDir() {
      std::string pattern = (std::filesystem::temp_directory_path() / "modkit-sql-XXXXXX").string();
      REQUIRE(mkdtemp(pattern.data()) != nullptr);
      path = pattern;
   }
   ~TempDir() { std::filesystem::remove_all(path); }
};

// A door the service thread waits at, so jobs stay queued behind it.
struct Gate {
   std::mutex mutex;
   std::condition_variable cv;
   bool entered = false, open = false;
   void wait() {
      std::unique_lock<std::mutex> lock(mutex);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return open; });
   }
   void until_entered() {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return entered; });
   }
   void release() {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
      cv.notify_all();
   }
};

// What each done saw, in the order they were called.
struct Answers {
   struct Answer {
      int tag;
      modkit_status status;
      std::string json, message;
      std::thread::id thread;
   };
   std::mutex mutex;
   std::condition_variable cv;
   std::vector<Answer> list;

   SqlService::Done done(int tag) {
      return [this, tag](modkit_status status, std::string_view json, const std::string &message) {
         std::lock_guard<std::mutex> lock(mutex);
         list.push_back({tag, status, std::string(json), message, std::this_thread::get_id()});
         cv.notify_all();
      };
   }
   std::vector<Answer> wait(size_t n) {
      std::unique_lock<std::mutex> lock(mutex);
      REQUIRE(cv.wait_for(lock, 10s, [&] { return list.size() >= n; }));
      return list;
   }
};

} // namespace

TEST_CASE("table_prefix_for lower-cases, makes each run of other characters one '_', and appends \"__\"") {
   CHECK(table_prefix_for("spam") == "spam__");
   CHECK(table_prefix_for("org.example--echo 2") == "org_example_echo_2__");
   CHECK(table_prefix_for("Mod__9") == "mod_9__");
   CHECK(table_prefix_for("") == "__");
   // No prefix is the start of another: module "a" cannot reach module "a_b"'s tables.
   CHECK(std::string("a_b__t").rfind(table_prefix_for("a"), 0) != 0);
}

TEST_CASE("values round-trip with parameters of every type") {
   SqlStore store(":memory:");
   ok(store, "CREATE TABLE spam_v(i INTEGER, big INTEGER, neg INTEGER, r REAL, whole REAL, t TEXT, b BLOB, n, "
             "yes INTEGER, no INTEGER)");
   const json inserted = ok(store, "INSERT INTO spam_v VALUES (?, ?, ?, ?, ?, ?, x'00ab10', ?, ?, ?)",
                            R"([42, 9007199254740993, -7, 2.5, 3.0, "h\u00e9llo \"q\"\n\t\\", null, true, false])");
   CHECK(inserted["changes"] == 1);
   CHECK(inserted["rows"].empty());

   const json rows = ok(store, "SELECT * FROM spam_v")["rows"];
   REQUIRE(rows.size() == 1);
   const json &row = rows[0];
   CHECK(row["i"].is_number_integer());
   CHECK(row["i"] == 42);
   CHECK(row["big"].get<int64_t>() == 9007199254740993); // beyond a double's precision
   CHECK(row["neg"] == -7);
   CHECK(row["r"].is_number_float());
   CHECK(row["r"] == 2.5);
   CHECK(row["whole"].is_number_float()); // 3.0 is not read back as the integer 3
   CHECK(row["whole"] == 3.0);
   CHECK(row["t"] == "h\u00e9llo \"q\"\n\t\\");
   CHECK(row["b"] == "00ab10"); // BLOB as lowercase hex
   CHECK(row["n"].is_null());
   CHECK(row["yes"] == 1);
   CHECK(row["no"] == 0);

   SUBCASE("typeof shows what SQLite stored") {
      const json t = ok(store, "SELECT typeof(i) AS i, typeof(r) AS r, typeof(t) AS t, typeof(n) AS n, typeof(yes) AS y "
                               "FROM spam_v")["rows"][0];
      CHECK(t == json{{"i", "integer"}, {"r", "real"}, {"t", "text"}, {"n", "null"}, {"y", "integer"}});
   }
   SUBCASE("text that is not UTF-8 still gives valid JSON") {
      const SqlResult r = store.execute(spam, "SELECT CAST(x'41ff42' AS TEXT) AS t, char(1) AS c", "");
      REQUIRE(r.status == MODKIT_OK);
      const json row2 = json::parse(r.json)["rows"][0];
      CHECK(row2["t"] == "A\xEF\xBF\xBD" "B");
      CHECK(row2["c"] == "\x01");
   }
   SUBCASE("several rows come back in order, as objects") {
      ok(store, "DELETE FROM spam_v");
      ok(store, "INSERT INTO spam_v(i, t) VALUES (1, 'a'), (2, 'b'), (3, NULL)");
      const json r = ok(store, "SELECT i, t FROM spam_v ORDER BY i");
      CHECK(r == json::parse(R"({"rows":[{"i":1,"t":"a"},{"i":2,"t":"b"},{"i":3,"t":null}],"changes":0})"));
   }
}

TEST_CASE("parameters read the same on the plain path and through the JSON parser") {
   SqlStore store(":memory:");
   const std::string sql = "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, ? AS f, ? AS g, ? AS h, ? AS i, ? AS j, ? AS k";
   const std::string values = R"(1, -0, 2.5, -1e3, 1E-2, "abc", true, false, null, 9223372036854775807, -9223372036854775808)";
   // The plain path takes the first; the escaped string sends the second to nlohmann.
   const json plain = ok(store, sql + ", ? AS l", " [ " + values + ", \"x\" ] ")["rows"][0];
   const json parsed = ok(store, sql + ", ? AS l", "[" + values + ", \"\\u0078\"]")["rows"][0];
   CHECK(plain == parsed);
   CHECK(plain["a"].is_number_integer());
   CHECK(plain["b"] == 0);
   CHECK(plain["d"] == -1000.0);
   CHECK(plain["d"].is_number_float());
   CHECK(plain["e"] == 0.01);
   CHECK(plain["j"] == INT64_MAX);
   CHECK(plain["k"] == INT64_MIN);

   for (const char *bad : {"[01]", "[1,]", "[+1]", "[1 2]", "[tru]", "[\"a]", "[1.]", "[.5]", "[1e]", "[-]", "[1]x", "["}) {
      const SqlResult r = store.execute(spam, "SELECT ?", bad);
      INFO(bad, " -> ", r.message);
      CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
      CHECK(contains(r.message, "parameters are not valid JSON"));
   }
}

TEST_CASE("changes counts the rows the statement itself changed") {
   SqlStore store(":memory:");
   CHECK(ok(store, "CREATE TABLE spam_t(id INTEGER PRIMARY KEY, v INTEGER)")["changes"] == 0);
   CHECK(ok(store, "INSERT INTO spam_t(v) VALUES (1), (2), (3)")["changes"] == 3);
   CHECK(ok(store, "UPDATE spam_t SET v = v + 1 WHERE v >= ?", "[2]")["changes"] == 2);
   // Not the last UPDATE's count again.
   CHECK(ok(store, "SELECT * FROM spam_t")["changes"] == 0);
   CHECK(ok(store, "UPDATE spam_t SET v = 0 WHERE 0")["changes"] == 0);
   CHECK(ok(store, "DELETE FROM spam_t")["changes"] == 3);
   CHECK(ok(store, "CREATE INDEX spam_i ON spam_t(v)")["changes"] == 0);
}

TEST_CASE("a module reaches only its own tables") {
   SqlStore store(":memory:");
   two_modules(store);

   const auto denied = [&](const std::string &sql, const std::string &why) {
      const SqlResult r = store.execute(spam, sql, "");
      INFO(sql, " -> ", r.message);
      CHECK(r.status == MODKIT_E_DENIED);
      CHECK(contains(r.message, why));
      CHECK(r.json.empty());
   };
   const std::string outside = "table \"other_t\" is outside this module's prefix \"spam_\"";

   SUBCASE("another module's table") {
      denied("SELECT * FROM other_t", outside);
      denied("SELECT count(*) FROM other_t", outside);
      denied("INSERT INTO spam_t SELECT * FROM other_t", outside);
      denied("INSERT INTO other_t VALUES (2, 'x')", outside);
      denied("UPDATE other_t SET v = 'x'", outside);
      denied("DELETE FROM other_t", outside);
      denied("DROP TABLE other_t", outside);
      denied("CREATE INDEX spam_i ON other_t(v)", outside);
      denied("ALTER TABLE other_t ADD COLUMN w INTEGER", outside);
      denied("ALTER TABLE other_t RENAME TO spam_mine", outside);
      denied("ANALYZE other_t", outside);
      // SQLite copies "SELECT *" between tables of one shape without asking the authorizer.
      denied("INSERT INTO spam_t SELECT * FROM other_t", outside);
      denied("REPLACE INTO spam_t SELECT * FROM other_t", outside);
      // Still there, untouched.
      CHECK(ok(store, "SELECT v FROM other_t", "", other)["rows"] == json::parse(R"([{"v":"theirs"}])"));
   }
   SUBCASE("names are compared ignoring case, as SQLite resolves them") {
      ok(store, "SELECT * FROM SPAM_T");
      ok(store, "CREATE TABLE SPAM_Upper(a)");
      denied("SELECT * FROM OTHER_T", outside);
   }
   SUBCASE("a table without the prefix") {
      denied("CREATE TABLE t(a)", "table \"t\" is outside this module's prefix \"spam_\"");
      denied("CREATE TABLE spamt(a)", "table \"spamt\" is outside");
      denied("CREATE INDEX idx ON spam_t(v)", "index \"idx\" is outside");
   }
   SUBCASE("ATTACH, and VACUUM, which attaches") {
      denied("ATTACH DATABASE ':memory:' AS spam_x", "ATTACH and DETACH are not allowed");
      denied("VACUUM", "ATTACH and DETACH are not allowed");
      denied("VACUUM INTO '/tmp/modkit-sql-copy.db'", "ATTACH and DETACH are not allowed");
      CHECK_FALSE(std::filesystem::exists("/tmp/modkit-sql-copy.db"));
   }
   SUBCASE("PRAGMA, read and write") {
      denied("PRAGMA user_version", "PRAGMA user_version is not allowed");
      denied("PRAGMA user_version = 5", "PRAGMA user_version is not allowed");
      denied("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys is not allowed");
      denied("SELECT * FROM pragma_table_info('other_t')", "table-valued functions");
   }
   SUBCASE("transactions belong to the service") {
      denied("BEGIN", "BEGIN is not allowed: the service owns transactions (use batch)");
      denied("COMMIT", "COMMIT is not allowed");
      denied("ROLLBACK", "ROLLBACK is not allowed");
      denied("SAVEPOINT sp", "SAVEPOINT is not allowed");
      denied("RELEASE sp", "SAVEPOINT is not allowed");
   }
   SUBCASE("temporary objects, views, triggers, virtual tables") {
      denied("CREATE TEMP TABLE spam_x(a)", "temporary tables");
      denied("CREATE TABLE temp.spam_x(a)", "database \"temp\" is not allowed");
      denied("CREATE VIEW spam_v AS SELECT * FROM spam_t", "views are not allowed");
      denied("CREATE TRIGGER spam_tr AFTER INSERT ON spam_t BEGIN DELETE FROM other_t; END",
             "triggers are not allowed");
      denied("CREATE VIRTUAL TABLE spam_r USING rtree(id, a, b)", "virtual tables are not allowed");
   }
   SUBCASE("functions outside the allow-list") {
      denied("SELECT load_extension('/tmp/x.so')", "function load_extension() is not allowed");
      denied("SELECT sqlite_version()", "function sqlite_version() is not allowed");
      CHECK(ok(store, "SELECT upper(v) AS u, json_extract('{\"a\":1}', '$.a') AS j FROM spam_t")["rows"] ==
            json::parse(R"([{"u":"MINE","j":1}])"));
   }
   SUBCASE("SQLite's own tables") {
      denied("SELECT * FROM sqlite_master", "table \"sqlite_master\" is internal to SQLite");
      denied("SELECT name FROM sqlite_schema", "is internal to SQLite");
      denied("CREATE TABLE spam_x AS SELECT name FROM sqlite_master", "is internal to SQLite");
      ok(store, "CREATE TABLE spam_seq(id INTEGER PRIMARY KEY AUTOINCREMENT)");
      denied("SELECT * FROM sqlite_sequence", "table \"sqlite_sequence\" is internal to SQLite");
      denied("DELETE FROM sqlite_sequence", "is internal to SQLite");
      ok(store, "CREATE INDEX spam_i ON spam_t(v)");
      ok(store, "ANALYZE spam_t");
      denied("DELETE FROM sqlite_stat1", "table \"sqlite_stat1\" is internal to SQLite");
      denied("DROP TABLE sqlite_stat1", "is internal to SQLite");
   }
   SUBCASE("a rename out of the prefix is undone") {
      denied("ALTER TABLE spam_t RENAME TO other_mine", "table \"other_mine\" is outside this module's prefix");
      CHECK(ok(store, "SELECT v FROM spam_t")["rows"] == json::parse(R"([{"v":"mine"}])"));
      CHECK(store.execute(other, "SELECT * FROM other_mine", "").status == MODKIT_E_INVALID_ARGUMENT); // no such table
   }
   SUBCASE("a foreign key to another module's table is undone") {
      denied("CREATE TABLE spam_c(x INTEGER REFERENCES other_t(id))",
             "table \"spam_c\" has a foreign key to \"other_t\", outside this module's prefix \"spam_\"");
      CHECK(store.execute(spam, "SELECT * FROM spam_c", "").status == MODKIT_E_INVALID_ARGUMENT); // not created
      denied("ALTER TABLE spam_t ADD COLUMN o INTEGER REFERENCES other_t(id)", "has a foreign key to \"other_t\"");
      CHECK(ok(store, "SELECT * FROM spam_t")["rows"][0].size() == 2); // no column added
      ok(store, "DELETE FROM other_t", "", other);                      // nothing holds it back
   }
   SUBCASE("a cached statement's verdict belongs to its prefix") {
      ok(store, "SELECT * FROM spam_t");
      const SqlResult r = store.execute(other, "SELECT * FROM spam_t", "");
      CHECK(r.status == MODKIT_E_DENIED);
      CHECK(contains(r.message, "table \"spam_t\" is outside this module's prefix \"other_\""));
   }
}

TEST_CASE("schema statements on a module's own tables keep working") {
   SqlStore store(":memory:");
   ok(store, "CREATE TABLE spam_t(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
   ok(store, "CREATE TABLE IF NOT EXISTS spam_t(id INTEGER PRIMARY KEY)");
   ok(store, "CREATE TABLE spam_parent(id INTEGER PRIMARY KEY)");
   // A TEXT key and a UNIQUE column: SQLite names their indexes sqlite_autoindex_<table>_N.
   ok(store, "CREATE TABLE spam_kv(k TEXT PRIMARY KEY, v TEXT UNIQUE)");
   ok(store, "INSERT INTO spam_kv VALUES ('a', 'x')");
   ok(store, "CREATE TABLE spam_child(p INTEGER REFERENCES spam_parent(id) ON DELETE CASCADE)");
   ok(store, "INSERT INTO spam_t(v) VALUES ('a'), ('b')");
   ok(store, "CREATE UNIQUE INDEX spam_t_v ON spam_t(v)");
   ok(store, "CREATE TABLE spam_copy AS SELECT v FROM spam_t");
   ok(store, "ANALYZE spam_t");
   ok(store, "ANALYZE spam_t");
   ok(store, "REINDEX spam_t_v");
   ok(store, "ALTER TABLE spam_t ADD COLUMN w INTEGER DEFAULT 7");
   ok(store, "ALTER TABLE spam_t RENAME COLUMN w TO w2");
   ok(store, "ALTER TABLE spam_t DROP COLUMN w2");
   ok(store, "ALTER TABLE spam_t RENAME TO spam_renamed");
   CHECK(ok(store, "SELECT v FROM spam_renamed ORDER BY id")["rows"] == json::parse(R"([{"v":"a"},{"v":"b"}])"));
   ok(store, "CREATE TABLE spam_same(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
   ok(store, "INSERT INTO spam_same SELECT * FROM spam_renamed"); // the transfer, between own tables
   CHECK(ok(store, "SELECT count(*) AS n FROM spam_same")["rows"][0]["n"] == 2);
   CHECK(ok(store, "SELECT v FROM spam_copy ORDER BY v")["rows"].size() == 2);
   ok(store, "DROP INDEX spam_t_v");
   ok(store, "DROP TABLE spam_renamed");
   ok(store, "DROP TABLE IF EXISTS spam_renamed");
   ok(store, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT x FROM c");
}

TEST_CASE("a cached statement survives schema changes and cache eviction") {
   SqlStore store(":memory:");
   ok(store, "CREATE TABLE spam_t(a INTEGER)");
   ok(store, "INSERT INTO spam_t VALUES (1)");
   CHECK(ok(store, "SELECT * FROM spam_t")["rows"][0].size() == 1);
   ok(store, "ALTER TABLE spam_t ADD COLUMN b INTEGER DEFAULT 2");
   // Re-prepared by SQLite inside step, with the authorizer armed again.
   CHECK(ok(store, "SELECT * FROM spam_t")["rows"] == json::parse(R"([{"a":1,"b":2}])"));
   // Same column count, new name: the cached keys follow the re-prepare.
   ok(store, "ALTER TABLE spam_t RENAME COLUMN a TO a2");
   CHECK(ok(store, "SELECT * FROM spam_t")["rows"] == json::parse(R"([{"a2":1,"b":2}])"));
   for (int i = 0; i < 100; ++i) ok(store, "SELECT a2 + " + std::to_string(i) + " AS x FROM spam_t");
   CHECK(ok(store, "SELECT * FROM spam_t")["rows"] == json::parse(R"([{"a2":1,"b":2}])"));
}

TEST_CASE("statuses say what went wrong") {
   SqlStore store(":memory:");
   ok(store, "CREATE TABLE spam_t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
   ok(store, "INSERT INTO spam_t VALUES (1, 'a')");
   const auto fails = [&](const std::string &sql, const std::string &params, modkit_status status,
                          const std::string &why) {
      const SqlResult r = store.execute(spam, sql, params);
      INFO(sql, " ", params, " -> ", r.message);
      CHECK(r.status == status);
      CHECK(contains(r.message, why));
      CHECK(r.json.empty());
   };

   SUBCASE("a constraint is a conflict") {
      fails("INSERT INTO spam_t VALUES (1, 'b')", "", MODKIT_E_CONFLICT, "UNIQUE constraint failed: spam_t.id");
      fails("INSERT INTO spam_t VALUES (2, NULL)", "", MODKIT_E_CONFLICT, "NOT NULL constraint failed");
   }
   SUBCASE("SQL that does not parse") {
      fails("SELEC * FROM spam_t", "", MODKIT_E_INVALID_ARGUMENT, "syntax error");
      fails("SELECT * FROM spam_missing", "", MODKIT_E_INVALID_ARGUMENT, "no such table: spam_missing");
      fails("SELECT \"v\" FROM spam_t WHERE v = \"a\"", "", MODKIT_E_INVALID_ARGUMENT, "no such column: a");
      fails("", "", MODKIT_E_INVALID_ARGUMENT, "the SQL text holds no statement");
   }
   SUBCASE("one statement per call") {
      fails("SELECT 1; SELECT 2", "", MODKIT_E_INVALID_ARGUMENT, "expected one statement; found more after the first");
      fails("SELECT 1; DELETE FROM spam_t", "", MODKIT_E_INVALID_ARGUMENT, "at \"DELETE FROM spam_t\"");
      CHECK(ok(store, "SELECT count(*) AS n FROM spam_t")["rows"][0]["n"] == 1);
      ok(store, "SELECT 1; -- a trailing comment\n ;");
   }
   SUBCASE("parameters must match") {
      fails("SELECT * FROM spam_t WHERE id = ? AND v = ?", "[1]", MODKIT_E_INVALID_ARGUMENT,
            "the statement takes 2 parameters; found 1");
      fails("SELECT * FROM spam_t WHERE id = ?", "[1, 2]", MODKIT_E_INVALID_ARGUMENT,
            "the statement takes 1 parameter; found 2");
      fails("SELECT * FROM spam_t WHERE id = ?", "", MODKIT_E_INVALID_ARGUMENT, "found 0");
      fails("SELECT 1", "{\"a\": 1}", MODKIT_E_INVALID_ARGUMENT, "parameters must be a JSON array; found an object");
      fails("SELECT ?", "7", MODKIT_E_INVALID_ARGUMENT, "parameters must be a JSON array; found a number");
      fails("SELECT ?, ?", "[1, [2]]", MODKIT_E_INVALID_ARGUMENT,
            "parameter 1 is an array; expected null, a boolean, a number or a string");
      fails("SELECT ?, ?", "[1, {\"x\": 2}]", MODKIT_E_INVALID_ARGUMENT, "parameter 1 is an object");
      fails("SELECT ?", "[18446744073709551615]", MODKIT_E_INVALID_ARGUMENT,
            "parameter 0: 18446744073709551615 is beyond the 64-bit signed integer range");
      fails("SELECT ?", "[1", MODKIT_E_INVALID_ARGUMENT, "parameters are not valid JSON");
      CHECK(ok(store, "SELECT ? AS a", "[5]")["rows"][0]["a"] == 5); // the cached statement binds afresh
   }
   SUBCASE("an empty prefix confines nothing, so it is refused") {
      const SqlResult r = store.execute("", "SELECT 1", "");
      CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
      CHECK(r.message == "the table prefix is empty");
   }
}

TEST_CASE("a batch applies all of its statements or none") {
   SqlStore store(":memory:");
   two_modules(store);

   SUBCASE("success answers each statement in order") {
      const SqlResult r = store.batch(spam, R"J([
         {"sql": "INSERT INTO spam_t VALUES (?, ?)", "params": [2, "two"]},
         {"sql": "UPDATE spam_t SET v = upper(v)"},
         {"sql": "SELECT id, v FROM spam_t ORDER BY id", "params": []}])J");
      REQUIRE(r.status == MODKIT_OK);
      const json answers = json::parse(r.json);
      REQUIRE(answers.size() == 3);
      CHECK(answers[0]["changes"] == 1);
      CHECK(answers[1]["changes"] == 2);
      CHECK(answers[2]["rows"] == json::parse(R"([{"id":1,"v":"MINE"},{"id":2,"v":"TWO"}])"));
   }
   SUBCASE("a denial in statement 1 undoes statement 0") {
      const SqlResult r = store.batch(spam, R"J([
         {"sql": "INSERT INTO spam_t VALUES (2, 'two')"},
         {"sql": "DELETE FROM other_t"}])J");
      CHECK(r.status == MODKIT_E_DENIED);
      CHECK(r.message == "statement 1: table \"other_t\" is outside this module's prefix \"spam_\"");
      CHECK(r.json.empty());
      CHECK(ok(store, "SELECT count(*) AS n FROM spam_t")["rows"][0]["n"] == 1);
   }
   SUBCASE("a constraint in statement 2 undoes statements 0 and 1, schema changes too") {
      const SqlResult r = store.batch(spam, R"J([
         {"sql": "CREATE TABLE spam_new(a)"},
         {"sql": "INSERT INTO spam_t VALUES (2, 'two')"},
         {"sql": "INSERT INTO spam_t VALUES (1, 'dup')"}])J");
      CHECK(r.status == MODKIT_E_CONFLICT);
      CHECK(contains(r.message, "statement 2: UNIQUE constraint failed"));
      CHECK(ok(store, "SELECT count(*) AS n FROM spam_t")["rows"][0]["n"] == 1);
      CHECK(store.execute(spam, "SELECT * FROM spam_new", "").status == MODKIT_E_INVALID_ARGUMENT);
   }
   SUBCASE("a rename out of the prefix inside a batch is undone with the rest") {
      const SqlResult r = store.batch(spam, R"J([
         {"sql": "INSERT INTO spam_t VALUES (2, 'two')"},
         {"sql": "ALTER TABLE spam_t RENAME TO other_stolen"}])J");
      CHECK(r.status == MODKIT_E_DENIED);
      CHECK(contains(r.message, "statement 1: table \"other_stolen\" is outside"));
      CHECK(ok(store, "SELECT count(*) AS n FROM spam_t")["rows"][0]["n"] == 1);
   }
   SUBCASE("the list is checked before anything runs") {
      const auto invalid = [&](const std::string &statements, const std::string &why) {
         const SqlResult r = store.batch(spam, statements);
         INFO(statements, " -> ", r.message);
         CHECK(r.status == MODKIT_E_INVALID_ARGUMENT);
         CHECK(contains(r.message, why));
      };
      invalid("{\"sql\": \"SELECT 1\"}", "statements must be a JSON array");
      invalid("[{\"sql\": \"DELETE FROM spam_t\"}, 3]", "statement 1 must be an object");
      invalid("[{\"sql\": \"DELETE FROM spam_t\"}, {\"sql\": 1}]", "statement 1: \"sql\" must be a string; found number");
      invalid("[{\"sql\": \"DELETE FROM spam_t\"}, {\"parms\": []}]", "statement 1: unknown key \"parms\"");
      invalid("[{\"sql\": \"SELECT ?\", \"params\": 1}]", "statement 0: \"params\" must be a JSON array");
      invalid("[", "statements are not valid JSON");
      invalid("[{\"sql\": \"SELECT ?\", \"params\": [[1]]}]", "statement 0: parameter 0 is an array");
      invalid("[{\"sql\": \"DELETE FROM spam_t\"}, {\"sql\": \"SELECT 1; SELECT 2\"}]", "statement 1: expected one");
      CHECK(ok(store, "SELECT count(*) AS n FROM spam_t")["rows"][0]["n"] == 1);
   }
   SUBCASE("an empty batch answers an empty array") {
      const SqlResult r = store.batch(spam, "[]");
      CHECK(r.status == MODKIT_OK);
      CHECK(r.json == "[]");
   }
}

TEST_CASE("a file database keeps its data across reopening") {
   TempDir dir;
   const std::string path = (dir.path / "store.sqlite3").string();
   {
      SqlStore store(path);
      ok(store, "CREATE TABLE spam_t(id INTEGER PRIMARY KEY, v TEXT)");
      ok(store, "INSERT INTO spam_t VALUES (?, ?)", "[1, \"kept\"]");
      const SqlResult r = store.batch(spam, R"J([{"sql": "INSERT INTO spam_t VALUES (2, 'also')"}])J");
      REQUIRE(r.status == MODKIT_OK);
   }
   SqlStore again(path);
   CHECK(ok(again, "SELECT v FROM spam_t ORDER BY id")["rows"] == json::parse(R"([{"v":"kept"},{"v":"also"}])"));
}

TEST_CASE("an open failure names the path") {
   const std::string path = "/nonexistent-modkit-dir/sub/store.sqlite3";
   try {
      SqlStore store(path);
      FAIL("opened " << path);
   } catch (const std::runtime_error &e) {
      CHECK(contains(e.what(), "\"" + path + "\""));
      CHECK(contains(e.what(), "unable to open database file"));
   }
}

TEST_CASE("the service runs each owner's jobs in order, never inside the call") {
   SqlService service(":memory:");
   Answers answers;
   int a = 0;
   // Only this thread submits: a done on this thread would have run inside a submit.
   CHECK(service.execute(&a, spam, "CREATE TABLE spam_t(n INTEGER)", "", answers.done(0)) == MODKIT_PENDING);
   for (int i = 1; i <= 50; ++i)
      CHECK(service.execute(&a, spam, "INSERT INTO spam_t VALUES (?)", "[" + std::to_string(i) + "]",
                            answers.done(i)) == MODKIT_PENDING);
   CHECK(service.batch(&a, spam, R"J([{"sql": "SELECT count(*) AS n, max(n) AS last FROM spam_t"}])J",
                       answers.done(51)) == MODKIT_PENDING);
   const auto list = answers.wait(52);
   for (size_t i = 0; i < list.size(); ++i) {
      CHECK(list[i].tag == static_cast<int>(i));
      CHECK(list[i].status == MODKIT_OK);
      CHECK(list[i].thread != std::this_thread::get_id());
   }
   CHECK(json::parse(list[51].json)[0]["rows"][0] == json{{"n", 50}, {"last", 50}});
   CHECK(service.execute(&a, spam, "SELECT 1", "", nullptr) == MODKIT_E_INVALID_ARGUMENT);
}

TEST_CASE("the service reports errors through done") {
   SqlService service(":memory:");
   Answers answers;
   int a = 0;
   service.execute(&a, spam, "SELECT * FROM other_t", "", answers.done(0));
   const auto list = answers.wait(1);
   CHECK(list[0].status == MODKIT_E_INVALID_ARGUMENT); // no such table
   CHECK(list[0].json.empty());
   CHECK(contains(list[0].message, "no such table: other_t"));
}

TEST_CASE("drain cancels one owner's queued jobs and waits for its running one") {
   SqlService service(":memory:");
   Answers answers;
   Gate gate;
   int a = 0, b = 0, c = 0;
   // c's job holds the thread while a's and b's queue behind it.
   service.execute(&c, spam, "CREATE TABLE spam_t(n INTEGER)", "",
                   [&](modkit_status, std::string_view, const std::string &) { gate.wait(); });
   gate.until_entered();
   for (int i = 0; i < 3; ++i) {
      service.execute(&a, spam, "INSERT INTO spam_t VALUES (1)", "", answers.done(10 + i));
      service.execute(&b, spam, "INSERT INTO spam_t VALUES (2)", "", answers.done(20 + i));
   }
   service.drain(&a); // c runs, not a: no wait
   {
      const auto list = answers.wait(3);
      for (const auto &answer : list) {
         CHECK(answer.tag / 10 == 1);
         CHECK(answer.status == MODKIT_E_CANCELLED);
         CHECK(answer.message == "cancelled: the module is being unloaded");
      }
   }
   gate.release();
   const auto list = answers.wait(6);
   for (size_t i = 3; i < 6; ++i) {
      CHECK(list[i].tag == static_cast<int>(20 + i - 3));
      CHECK(list[i].status == MODKIT_OK);
   }

   SUBCASE("drain returns only after the running job's done has") {
      Gate held;
      std::atomic<bool> drained{false};
      service.execute(&a, spam, "SELECT 1", "", [&](modkit_status, std::string_view, const std::string &) { held.wait(); });
      held.until_entered();
      std::thread drainer([&] {
         service.drain(&a);
         drained = true;
      });
      std::this_thread::sleep_for(50ms);
      CHECK_FALSE(drained);
      held.release();
      drainer.join();
      CHECK(drained);
   }
}

TEST_CASE("the thread takes what is queued as one batch; drain cancels the owner's jobs in it, in order") {
   SqlService service(":memory:");
   Answers answers;
   Gate first, second;
   int a = 0, c = 0;
   auto gated = [](Gate &gate) { return [&gate](modkit_status, std::string_view, const std::string &) { gate.wait(); }; };
   service.execute(&c, spam, "SELECT 1", "", gated(first));
   first.until_entered();
   // Queued while the thread is held: the next batch is c's second gate, then a's three jobs.
   service.execute(&c, spam, "SELECT 1", "", gated(second));
   for (int i = 0; i < 3; ++i) service.execute(&a, spam, "SELECT 1", "", answers.done(i));
   first.release();
   second.until_entered(); // the batch is taken: a's jobs wait in it, behind c's
   std::atomic<bool> drained{false};
   std::thread drainer([&] {
      service.drain(&a);
      drained = true;
   });
   std::this_thread::sleep_for(50ms);
   CHECK_FALSE(drained); // it waits for the batch, which holds a's jobs
   second.release();
   drainer.join();
   const auto list = answers.wait(3);
   REQUIRE(list.size() == 3);
   for (size_t i = 0; i < 3; ++i) {
      CHECK(list[i].tag == static_cast<int>(i)); // submission order
      CHECK(list[i].status == MODKIT_E_CANCELLED);
      CHECK(list[i].thread != std::this_thread::get_id());
   }
   // The service goes on for others, and for a once it submits again.
   service.execute(&a, spam, "SELECT 1", "", answers.done(10));
   CHECK(answers.wait(4)[3].status == MODKIT_OK);
}

TEST_CASE("destroying the service cancels its queued jobs") {
   auto service = std::make_unique<SqlService>(":memory:");
   Answers answers;
   Gate gate;
   int a = 0;
   service->execute(&a, spam, "SELECT 1", "", [&](modkit_status, std::string_view, const std::string &) { gate.wait(); });
   gate.until_entered();
   for (int i = 0; i < 3; ++i) service->execute(&a, spam, "SELECT 1", "", answers.done(i));
   // The destructor waits for the gated job, so the object outlives the polling below.
   SqlService *raw = service.get();
   std::thread destroyer([&] { service.reset(); });
   // Once stopping, the service refuses new jobs; the queued ones stay behind the gate.
   while (raw->execute(&a, spam, "SELECT 1", "", answers.done(100)) != MODKIT_E_STATE) std::this_thread::sleep_for(1ms);
   gate.release();
   destroyer.join();
   const auto list = answers.wait(3);
   CHECK(list.size() >= 3);
   for (const auto &answer : list) {
      CHECK(answer.status == MODKIT_E_CANCELLED);
      CHECK(answer.message == "cancelled: the storage service is shutting down");
   }
}

TEST_CASE("the service answers every job of a database it cannot open") {
   const std::string path = "/nonexistent-modkit-dir/sub/store.sqlite3";
   SqlService service(path);
   Answers answers;
   int a = 0;
   service.execute(&a, spam, "SELECT 1", "", answers.done(0));
   service.batch(&a, spam, "[]", answers.done(1));
   const auto list = answers.wait(2);
   for (const auto &answer : list) {
      CHECK(answer.status == MODKIT_E_INTERNAL);
      CHECK(contains(answer.message, "\"" + path + "\""));
   }
}
