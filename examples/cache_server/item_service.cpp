#include "item_service.hpp"

#include "async_load_item.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace cache_server {

ItemService::ItemService(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool, Database& db,
                         std::chrono::milliseconds cache_ttl, bool coalesce)
    : pool_(pool), db_(db), cache_(cache_ttl), group_(std::move(ex)), coalesce_(coalesce) {}

boost::asio::awaitable<Item> ItemService::load(std::int64_t id) {
  if (!coalesce_) co_return co_await query_and_cache(id);
  // Named before the co_await: g++ 12 destroys twice a non-trivial temporary
  // (this capturing lambda) that stands in a co_await expression.
  auto loader = [this, id] { return load_flight(id); };
  co_return co_await group_.do_(id, loader);
}

// The loader of a flight. A caller that missed the cache just before the
// previous flight for this id filled it would otherwise start a flight of its
// own and query again: look once more.
boost::asio::awaitable<Item> ItemService::load_flight(std::int64_t id) {
  if (auto hit = cache_.get(id)) co_return *hit;
  co_return co_await query_and_cache(id);
}

boost::asio::awaitable<Item> ItemService::query_and_cache(std::int64_t id) {
  Item item = co_await async_load_item(pool_, db_, id, boost::asio::use_awaitable);
  cache_.put(id, item);
  co_return item;
}

}  // namespace cache_server
