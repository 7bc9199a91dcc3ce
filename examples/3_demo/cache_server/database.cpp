// SPDX-License-Identifier: BSL-1.0
#include "database.hpp"

#include "sqlite.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include <thread>

namespace cache_server {

namespace {
// Readers wait this long for a writer's lock before failing with SQLITE_BUSY:
// a locked database answers 503 quickly rather than holding a pool thread.
constexpr int busy_timeout_ms = 250;
// How often (in virtual machine instructions) a running statement checks
// QueryControl's flag.
constexpr int progress_period = 1000;

// sleep_ms(n): an SQL function for --query-delay-ms.
void sql_sleep_ms(sqlite3_context* ctx, int, sqlite3_value** argv) {
  std::this_thread::sleep_for(std::chrono::milliseconds(sqlite3_value_int(argv[0])));
  sqlite3_result_int(ctx, 0);
}

int progress(void* control) { return static_cast<QueryControl*>(control)->cancelled() ? 1 : 0; }

// The whole query with its delay: row after row of a recursive CTE that each
// sleep 10 ms. Between rows SQLite checks for sqlite3_interrupt, so the delay
// is stopped like any other SQL, and it costs no CPU.
constexpr const char* delay_sql =
    "WITH RECURSIVE tick(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM tick WHERE n < ?1)"
    " SELECT sum(sleep_ms(10)) FROM tick";
constexpr std::int64_t delay_step_ms = 10;

constexpr const char* name_sql = "SELECT name FROM items WHERE id = ?1";
// A full scan: sales has no index on item_id (see create_database).
constexpr const char* aggregate_sql =
    "SELECT count(*), coalesce(sum(amount), 0), count(DISTINCT customer_id),"
    "       coalesce(min(amount), 0), coalesce(max(amount), 0)"
    " FROM sales WHERE item_id = ?1";

// Steps a statement that returns at most one row: SQLITE_ROW or SQLITE_DONE,
// else the error.
boost::system::error_code step_one(sqlite3_stmt* s, bool& has_row) {
  const int rc = sqlite3_step(s);
  has_row = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return {};
  if (rc == SQLITE_INTERRUPT) return boost::asio::error::operation_aborted;
  return sqlite_error(rc);
}
}  // namespace

Database::Database(std::string path, std::chrono::milliseconds delay) : path_(std::move(path)), delay_(delay) {}

std::int64_t Database::max_item_id() const {
  boost::system::error_code ec;
  Connection db = open_connection(path_, SQLITE_OPEN_READONLY, ec);
  Statement s;
  if (!ec) s = prepare(db.get(), "SELECT coalesce(max(id), 0) FROM items", ec);
  bool row = false;
  if (!ec) ec = step_one(s.get(), row);
  if (ec) throw boost::system::system_error(ec, "cannot read " + path_);
  return sqlite3_column_int64(s.get(), 0);
}

boost::system::error_code Database::load_item(std::int64_t id, QueryControl& control, Item& item) {
  if (control.cancelled()) {
    ++stats_.skipped;
    return boost::asio::error::operation_aborted;
  }
  ++stats_.started;
  boost::system::error_code ec;
  // One connection per query: sqlite3_interrupt acts on a whole connection,
  // and opening a read-only SQLite file is cheap next to the query.
  Connection db = open_connection(path_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, ec);
  if (!ec) {
    sqlite3_busy_timeout(db.get(), busy_timeout_ms);
    sqlite3_progress_handler(db.get(), progress_period, &progress, &control);
    sqlite3_create_function(db.get(), "sleep_ms", 1, SQLITE_UTF8, nullptr, &sql_sleep_ms, nullptr, nullptr);
    if (control.attach(db.get())) {
      ec = run_queries(db.get(), id, item);
      control.detach();
    } else {
      ec = boost::asio::error::operation_aborted;
    }
  }
  // An interrupt can surface from any call (sqlite3_prepare_v2 as well as
  // sqlite3_step), and as SQLITE_INTERRUPT or the progress handler's abort.
  if (ec && control.cancelled()) ec = boost::asio::error::operation_aborted;
  if (!ec) {
    ++stats_.completed;
  } else if (ec == boost::asio::error::operation_aborted) {
    ++stats_.interrupted;
  } else if (ec != boost::asio::error::not_found) {
    ++stats_.failed;
    fmt::print(stderr, "cache_server: query for item {} failed: {}\n", id, ec.message());
  }
  return ec;
}

boost::system::error_code Database::run_queries(sqlite3* db, std::int64_t id, Item& item) const {
  boost::system::error_code ec;
  bool row = false;
  if (delay_.count() > 0) {
    Statement delay = prepare(db, delay_sql, ec);
    if (ec) return ec;
    sqlite3_bind_int64(delay.get(), 1, (delay_.count() + delay_step_ms - 1) / delay_step_ms);
    if ((ec = step_one(delay.get(), row))) return ec;
  }

  Statement name = prepare(db, name_sql, ec);
  if (ec) return ec;
  sqlite3_bind_int64(name.get(), 1, id);
  if ((ec = step_one(name.get(), row))) return ec;
  if (!row) return boost::asio::error::not_found;
  item.id = id;
  item.name = reinterpret_cast<const char*>(sqlite3_column_text(name.get(), 0));

  Statement aggregate = prepare(db, aggregate_sql, ec);
  if (ec) return ec;
  sqlite3_bind_int64(aggregate.get(), 1, id);
  if ((ec = step_one(aggregate.get(), row))) return ec;
  item.sales = sqlite3_column_int64(aggregate.get(), 0);
  item.revenue = sqlite3_column_int64(aggregate.get(), 1);
  item.customers = sqlite3_column_int64(aggregate.get(), 2);
  item.min_amount = sqlite3_column_int64(aggregate.get(), 3);
  item.max_amount = sqlite3_column_int64(aggregate.get(), 4);
  return {};
}

}  // namespace cache_server
