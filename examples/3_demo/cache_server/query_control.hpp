// SPDX-License-Identifier: BSL-1.0
// How a caller's cancellation reaches a query that blocks a pool thread.
#ifndef CACHE_SERVER_QUERY_CONTROL_HPP
#define CACHE_SERVER_QUERY_CONTROL_HPP

#include <sqlite3.h>

#include <atomic>
#include <mutex>

namespace cache_server {

/// Shared by a query running on a pool thread and its caller's cancellation
/// handler, which runs on another thread.
///
/// sqlite3_interrupt stops the statement running on a connection, but it must
/// never be called on a closed connection, and it is a no-op while no
/// statement runs (between two statements, before the first). Hence the mutex
/// around the connection pointer, and a flag that the query checks through its
/// progress handler.
class QueryControl {
 public:
  /// From the cancellation handler: stop the query as soon as possible.
  void cancel() noexcept {
    cancelled_.store(true, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    if (db_ != nullptr) sqlite3_interrupt(db_);
  }

  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

  /// From the query, once its connection is open. False if already cancelled.
  bool attach(sqlite3* db) noexcept {
    std::lock_guard lock(mutex_);
    if (cancelled()) return false;
    db_ = db;
    return true;
  }

  /// From the query, before its connection is closed.
  void detach() noexcept {
    std::lock_guard lock(mutex_);
    db_ = nullptr;
  }

 private:
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::atomic<bool> cancelled_{false};
};

}  // namespace cache_server

#endif
