// SPDX-License-Identifier: BSL-1.0
#include "create_database.hpp"

#include "sqlite.hpp"

#include <boost/system/system_error.hpp>

#include <cstdio>
#include <random>

namespace cache_server {

namespace {
void check(const boost::system::error_code& ec, const char* what) {
  if (ec) throw boost::system::system_error(ec, what);
}

void exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw boost::system::system_error(sqlite_error(rc), sqlite3_errmsg(db));
}

void step_and_reset(sqlite3* db, sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) throw boost::system::system_error(sqlite_error(rc), sqlite3_errmsg(db));
  sqlite3_reset(s);
}
}  // namespace

void create_database(const std::string& path, std::int64_t items, std::int64_t sales) {
  // Built beside the target and renamed over it, so that a server reading
  // the old file never sees a half-written one.
  const std::string tmp = path + ".tmp";
  std::remove(tmp.c_str());
  boost::system::error_code ec;
  Connection db = open_connection(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, ec);
  check(ec, "create database");

  // A throwaway file: no journal, no fsync.
  exec(db.get(), "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN");
  // sales has no index on item_id on purpose: the query for one item scans
  // the whole table, the expensive origin load that the cache protects.
  exec(db.get(),
       "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
       "CREATE TABLE sales (item_id INTEGER NOT NULL, customer_id INTEGER NOT NULL,"
       "                    amount INTEGER NOT NULL)");

  Statement item = prepare(db.get(), "INSERT INTO items (id, name) VALUES (?1, ?2)", ec);
  check(ec, "prepare items insert");
  for (std::int64_t id = 1; id <= items; ++id) {
    const std::string name = "item-" + std::to_string(id);
    sqlite3_bind_int64(item.get(), 1, id);
    sqlite3_bind_text(item.get(), 2, name.c_str(), -1, SQLITE_TRANSIENT);
    step_and_reset(db.get(), item.get());
  }

  Statement sale = prepare(db.get(), "INSERT INTO sales VALUES (?1, ?2, ?3)", ec);
  check(ec, "prepare sales insert");
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> item_id(1, items), customer(1, 5000), amount(1, 10000);
  for (std::int64_t i = 0; i < sales; ++i) {
    sqlite3_bind_int64(sale.get(), 1, item_id(rng));
    sqlite3_bind_int64(sale.get(), 2, customer(rng));
    sqlite3_bind_int64(sale.get(), 3, amount(rng));
    step_and_reset(db.get(), sale.get());
  }
  exec(db.get(), "COMMIT");
  item.reset();
  sale.reset();
  db.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw boost::system::system_error(errno, boost::system::generic_category(), "rename " + tmp);
}

}  // namespace cache_server
