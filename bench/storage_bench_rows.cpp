// storage_bench_rows.cpp - the storage engine against raw SQLite, one row per call, in :memory::
//   BM_storage_insert_service   SqlStore::execute("INSERT ...", "[name, score]")
//   BM_storage_insert_raw       the same insert: sqlite3 bind, step, reset on a prepared statement
//   BM_storage_read_service     SqlStore::execute("SELECT ... WHERE id = ?", "[id]"), JSON out
//   BM_storage_read_raw         the same read: bind, step, read each column, reset
// The service rows pay for what the raw ones skip: parsing the JSON parameters, the statement
// cache lookup, the authorizer's prefix being armed, and writing the rows as JSON. The JSON
// parameter texts are made before the timed loop, as a module would hand them over ready.
#include "services/sql_store.hpp"

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using modkit::loader::services::SqlResult;
using modkit::loader::services::SqlStore;

const std::string prefix = "bench_";
constexpr const char *create_sql = "CREATE TABLE bench_rows(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)";
constexpr const char *insert_sql = "INSERT INTO bench_rows(name, score) VALUES (?, ?)";
constexpr const char *read_sql = "SELECT id, name, score FROM bench_rows WHERE id = ?";
constexpr int rows = 10000; // for the reads
constexpr int texts = 1024; // distinct parameter texts, cycled

std::string name_of(int i) { return "row-" + std::to_string(i); }

void require(SqlStore &store, const std::string &sql, const std::string &params) {
   const SqlResult r = store.execute(prefix, sql, params);
   if (r.status != MODKIT_OK) throw std::runtime_error(sql + ": " + r.message);
}

// The same row the raw inserts bind: [name, i + 0.5].
std::string insert_params(int i) { return "[\"" + name_of(i) + "\", " + std::to_string(i) + ".5]"; }

void fill(SqlStore &store) {
   require(store, create_sql, "");
   std::string batch = "[";
   for (int i = 0; i < rows; ++i) {
      if (i) batch += ',';
      batch += "{\"sql\": \"" + std::string(insert_sql) + "\", \"params\": " + insert_params(i) + "}";
   }
   batch += ']';
   const SqlResult r = store.batch(prefix, batch);
   if (r.status != MODKIT_OK) throw std::runtime_error(r.message);
}

struct Raw {
   sqlite3 *db = nullptr;
   sqlite3_stmt *stmt = nullptr;
   explicit Raw(const char *sql) {
      sqlite3_open(":memory:", &db);
      sqlite3_exec(db, create_sql, nullptr, nullptr, nullptr);
      sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
   }
   ~Raw() {
      sqlite3_finalize(stmt);
      sqlite3_close(db);
   }
   void fill() {
      sqlite3_stmt *insert = nullptr;
      sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      sqlite3_prepare_v2(db, insert_sql, -1, &insert, nullptr);
      for (int i = 0; i < rows; ++i) {
         const std::string name = name_of(i);
         sqlite3_bind_text(insert, 1, name.c_str(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
         sqlite3_bind_double(insert, 2, i + 0.5);
         sqlite3_step(insert);
         sqlite3_reset(insert);
      }
      sqlite3_finalize(insert);
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
   }
};

void BM_storage_insert_service(benchmark::State &state) {
   SqlStore store(":memory:");
   require(store, create_sql, "");
   std::vector<std::string> params;
   for (int i = 0; i < texts; ++i) params.push_back(insert_params(i));
   size_t i = 0;
   for (auto _ : state) {
      SqlResult r = store.execute(prefix, insert_sql, params[i++ % texts]);
      benchmark::DoNotOptimize(r.json.data());
   }
   state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_storage_insert_service);

void BM_storage_insert_raw(benchmark::State &state) {
   Raw raw(insert_sql);
   std::vector<std::string> names;
   for (int i = 0; i < texts; ++i) names.push_back(name_of(i));
   size_t i = 0;
   for (auto _ : state) {
      const size_t k = i++ % texts;
      sqlite3_bind_text(raw.stmt, 1, names[k].data(), static_cast<int>(names[k].size()), SQLITE_STATIC);
      sqlite3_bind_double(raw.stmt, 2, static_cast<double>(k) + 0.5);
      if (sqlite3_step(raw.stmt) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(raw.db));
      sqlite3_reset(raw.stmt);
   }
   state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_storage_insert_raw);

void BM_storage_read_service(benchmark::State &state) {
   SqlStore store(":memory:");
   fill(store);
   std::vector<std::string> params;
   for (int i = 0; i < texts; ++i) params.push_back("[" + std::to_string((i * 7919) % rows + 1) + "]");
   size_t i = 0;
   for (auto _ : state) {
      SqlResult r = store.execute(prefix, read_sql, params[i++ % texts]);
      benchmark::DoNotOptimize(r.json.data());
   }
   state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_storage_read_service);

void BM_storage_read_raw(benchmark::State &state) {
   Raw raw(read_sql);
   raw.fill();
   size_t i = 0;
   for (auto _ : state) {
      sqlite3_bind_int64(raw.stmt, 1, static_cast<sqlite3_int64>((i++ % texts) * 7919 % rows + 1));
      if (sqlite3_step(raw.stmt) != SQLITE_ROW) state.SkipWithError("no row");
      benchmark::DoNotOptimize(sqlite3_column_int64(raw.stmt, 0));
      benchmark::DoNotOptimize(sqlite3_column_text(raw.stmt, 1));
      benchmark::DoNotOptimize(sqlite3_column_double(raw.stmt, 2));
      sqlite3_reset(raw.stmt);
   }
   state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_storage_read_raw);

} // namespace
