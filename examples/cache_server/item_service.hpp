// Where an item comes from: the cache, else one load shared by every caller
// that misses meanwhile (singleflight), else, with coalescing off, a query of
// its own per miss.
#ifndef CACHE_SERVER_ITEM_SERVICE_HPP
#define CACHE_SERVER_ITEM_SERVICE_HPP

#include "database.hpp"
#include "item.hpp"
#include "ttl_cache.hpp"

#include <singleflight/singleflight.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace cache_server {

class ItemService {
 public:
  ItemService(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool, Database& db,
              std::chrono::milliseconds cache_ttl, bool coalesce);

  /// The cached item, if fresh. Never blocks for long.
  std::optional<Item> cached(std::int64_t id) const { return cache_.get(id); }

  /// Loads the item from the database and caches it; with coalescing, joins
  /// the load already running for `id`, if any. Throws system_error (see
  /// Database::load_item). Cancelling it leaves the load (with coalescing: as
  /// long as another caller waits for it); cancelling the last caller stops
  /// the query.
  boost::asio::awaitable<Item> load(std::int64_t id);

  bool coalescing() const noexcept { return coalesce_; }
  singleflight::Stats group_stats() const { return group_.stats(); }

 private:
  boost::asio::awaitable<Item> load_flight(std::int64_t id);
  boost::asio::awaitable<Item> query_and_cache(std::int64_t id);

  boost::asio::thread_pool& pool_;
  Database& db_;
  TtlCache<std::int64_t, Item> cache_;
  singleflight::AsyncGroup<std::int64_t, Item> group_;
  const bool coalesce_;
};

}  // namespace cache_server

#endif
