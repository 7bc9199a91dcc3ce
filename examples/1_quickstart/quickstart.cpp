// SPDX-License-Identifier: BSL-1.0
// Quickstart: a hundred concurrent requests for one item cause one query;
// later requests are answered from a cache in front of the group.
#include <singleflight/async_group.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <unordered_map>

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Item {
  std::string id, name;
};

// The slow call that a stampede would repeat: a database query, say.
struct Database {
  int queries = 0;
  asio::awaitable<Item> query_item(const std::string& id) {
    ++queries;
    asio::steady_timer delay(co_await asio::this_coro::executor, 50ms);
    co_await delay.async_wait(asio::use_awaitable);
    co_return Item{id, "lamp"};
  }
};

// [snippet quickstart]
struct ItemService {
  singleflight::AsyncGroup<std::string, Item> group;
  std::unordered_map<std::string, Item> cache;  // one thread runs this service
  Database& db;

  asio::awaitable<Item> get_item(std::string id) {
    if (auto hit = cache.find(id); hit != cache.end()) co_return hit->second;
    auto load = [this, id]() -> asio::awaitable<Item> {
      co_return co_await db.query_item(id);  // runs once per key at a time
    };
    Item item = co_await group.do_(id, load);  // everyone else waits for it
    cache.emplace(id, item);
    co_return item;
  }
};
// [end snippet]

int main() {
  asio::io_context ioc;
  Database db;
  ItemService service{singleflight::AsyncGroup<std::string, Item>(ioc.get_executor()), {}, db};

  int answered = 0;
  auto request = [&]() -> asio::awaitable<void> {
    Item item = co_await service.get_item("7");
    if (item.id == "7") ++answered;
  };
  for (int i = 0; i < 100; ++i) asio::co_spawn(ioc, request(), asio::detached);  // a stampede
  ioc.run();
  ioc.restart();
  asio::co_spawn(ioc, request(), asio::detached);  // later: a cache hit
  ioc.run();

  std::printf("%d requests, %d query\n", answered, db.queries);
  return answered == 101 && db.queries == 1 ? 0 : 1;
}
