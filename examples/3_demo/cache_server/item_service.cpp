// SPDX-License-Identifier: BSL-1.0
#include "item_service.hpp"

#include "async_load_item.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace cache_server {

namespace {
singleflight::CacheOptions policy(singleflight::CacheOptions o, bool coalesce) {
  if (!coalesce) {
    o.stale_ttl = {};
    o.error_ttl = {};
    o.early_refresh_beta = 0;
  }
  return o;
}
}  // namespace

ItemService::ItemService(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool, Database& db,
                         singleflight::CacheOptions cache, bool coalesce)
    : pool_(pool), db_(db), fleet_(cache.remote), cache_(std::move(ex), policy(cache, coalesce)), coalesce_(coalesce) {}

std::optional<Item> ItemService::cached(std::int64_t id) {
  return cache_.try_get(id, [this, id] { return query(id); });
}

boost::asio::awaitable<Item> ItemService::load(std::int64_t id) {
  if (!coalesce_) {
    Item item = co_await query(id);
    cache_.put(id, item);
    co_return item;
  }
  // Named before the co_await: g++ 12 destroys twice a non-trivial temporary
  // that stands in a co_await expression.
  auto loader = [this, id] { return query(id); };
  auto get = cache_.get(id, loader);
  Item item = co_await std::move(get);
  co_return item;
}

boost::asio::awaitable<Item> ItemService::query(std::int64_t id) {
  return async_load_item(pool_, db_, id, boost::asio::use_awaitable);
}

}  // namespace cache_server
