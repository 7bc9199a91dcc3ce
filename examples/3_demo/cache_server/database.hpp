// SPDX-License-Identifier: BSL-1.0
// The origin: the expensive, blocking SQLite query for one item.
#ifndef CACHE_SERVER_DATABASE_HPP
#define CACHE_SERVER_DATABASE_HPP

#include "item.hpp"
#include "query_control.hpp"

#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace cache_server {

struct DatabaseStats {
  std::atomic<std::uint64_t> started{0};      // queries that opened a connection
  std::atomic<std::uint64_t> completed{0};    // ... and returned an item
  std::atomic<std::uint64_t> interrupted{0};  // ... and were stopped by a cancellation
  std::atomic<std::uint64_t> failed{0};       // ... and failed (missing file, locked, ...)
  std::atomic<std::uint64_t> skipped{0};      // cancelled while queued: never started
};

class Database {
 public:
  /// `delay` is added inside the SQL of every item query (see load_item).
  Database(std::string path, std::chrono::milliseconds delay);

  /// The largest item id (ids are 1..N). Blocking; throws system_error.
  std::int64_t max_item_id() const;

  /// Loads one item on a connection of its own. Blocking: call it on a pool
  /// thread. Errors: operation_aborted when `control` was cancelled,
  /// asio::error::not_found when there is no such item, a sqlite_category()
  /// code when the database fails (SQLITE_CANTOPEN, SQLITE_BUSY, ...).
  boost::system::error_code load_item(std::int64_t id, QueryControl& control, Item& item);

  DatabaseStats& stats() noexcept { return stats_; }
  const DatabaseStats& stats() const noexcept { return stats_; }

 private:
  boost::system::error_code run_queries(sqlite3* db, std::int64_t id, Item& item) const;

  const std::string path_;
  const std::chrono::milliseconds delay_;
  DatabaseStats stats_;
};

}  // namespace cache_server

#endif
