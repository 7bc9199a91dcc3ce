// SPDX-License-Identifier: BSL-1.0
// singleflight::Cache: cache-aside with the group's stampede protection.
// A miss loads once for every concurrent caller; a fresh hit answers at
// once; after the ttl, within stale_ttl, callers get the stale value while
// one background refresh replaces it.
#include <singleflight/cache.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

struct Item {
  std::string name;
  int version = 0;
};

int main() {
  asio::io_context ioc;
  // [snippet cache]
  singleflight::CacheOptions opts;
  opts.ttl = 200ms;      // fresh: served with no load
  opts.stale_ttl = 5s;   // then stale: served at once, refreshed in the background
  opts.error_ttl = 1s;   // a failed load is answered for 1 s without a new one
  singleflight::Cache<std::string, Item> items(ioc.get_executor(), opts);
  // [end snippet]

  int loads = 0;
  auto load_item = [&]() -> asio::awaitable<Item> {
    const int version = ++loads;
    asio::steady_timer query(co_await asio::this_coro::executor, 20ms);
    co_await query.async_wait(asio::use_awaitable);
    co_return Item{"lamp", version};
  };

  int cold = 0, hit = 0, stale = 0, refreshed = 0;
  auto run = [&]() -> asio::awaitable<void> {
    auto get = [&]() -> asio::awaitable<Item> { co_return co_await items.get("item:1", load_item); };
    auto a = get();
    auto b = get();
    auto both = co_await (std::move(a) && std::move(b));  // a miss: one load for both
    cold = std::get<0>(both).version + std::get<1>(both).version;
    hit = (co_await get()).version;  // fresh: no load
    asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
    co_await t.async_wait(asio::use_awaitable);  // past the ttl
    stale = (co_await get()).version;            // the stale value, at once; a refresh starts
    t.expires_after(100ms);
    co_await t.async_wait(asio::use_awaitable);  // the refresh (20 ms) is done
    refreshed = (co_await get()).version;
  };
  asio::co_spawn(ioc, run(), asio::detached);
  ioc.run();

  std::printf("cold: %d+%d, hit: v%d, stale: v%d, refreshed: v%d, loads: %d\n", cold / 2, cold / 2, hit, stale,
              refreshed, loads);
  return cold == 2 && hit == 1 && stale == 1 && refreshed == 2 && loads == 2 ? 0 : 1;
}
