// SPDX-License-Identifier: BSL-1.0
// Where an item comes from: a singleflight::Cache, whose misses share one
// load per item (singleflight) and whose stale items are served while one
// background query refreshes them (--stale-ttl-ms); with coalescing off,
// every miss runs a query of its own.
#ifndef CACHE_SERVER_ITEM_SERVICE_HPP
#define CACHE_SERVER_ITEM_SERVICE_HPP

#include "database.hpp"
#include "item.hpp"
#include "item_codec.hpp"

#include <singleflight/singleflight.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <optional>

namespace cache_server {

class ItemService {
 public:
  /// With `coalesce` off, stale serving and kept failures are off too: they
  /// are the cache's coalescing of loads over time.
  ItemService(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool, Database& db,
              singleflight::CacheOptions cache, bool coalesce);

  /// The cached item, fresh or stale (a stale one starts its refresh in the
  /// background). Never blocks for long.
  std::optional<Item> cached(std::int64_t id);

  /// Loads the item from the database and caches it; with coalescing, joins
  /// the load already running for `id`, if any. Throws system_error (see
  /// Database::load_item), or, within --error-ttl-ms of a failure, that
  /// failure again. Cancelling it leaves the load (with coalescing: as long
  /// as another caller waits for it); cancelling the last caller stops the
  /// query.
  boost::asio::awaitable<Item> load(std::int64_t id);

  bool coalescing() const noexcept { return coalesce_; }
  singleflight::CacheStats cache_stats() const { return cache_.stats(); }
  /// The fleet tier (--redis), or null.
  const singleflight::remote_tier* fleet() const noexcept { return fleet_.get(); }

 private:
  boost::asio::awaitable<Item> query(std::int64_t id);

  boost::asio::thread_pool& pool_;
  Database& db_;
  std::shared_ptr<singleflight::remote_tier> fleet_;
  singleflight::Cache<std::int64_t, Item> cache_;
  const bool coalesce_;
};

}  // namespace cache_server

#endif
