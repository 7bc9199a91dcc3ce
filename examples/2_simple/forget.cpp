// SPDX-License-Identifier: BSL-1.0
// forget: after a write, callers that arrive must not join a load that may
// have read the old value. Callers of the forgotten flight still get its
// result; the next caller starts a new load.
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

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main() {
  asio::io_context ioc;
  singleflight::AsyncGroup<std::string, int> group(ioc.get_executor());
  int balance = 100;  // the "database"
  int loads = 0;
  auto read_balance = [&]() -> asio::awaitable<int> {
    ++loads;
    const int seen = balance;  // read before the slow part: may be stale
    asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return seen;
  };

  int before = 0, after = 0;
  auto run = [&]() -> asio::awaitable<void> {
    auto first = [&]() -> asio::awaitable<void> { before = co_await group.do_("acct", read_balance); };
    asio::co_spawn(co_await asio::this_coro::executor, first(), asio::detached);
    asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
    co_await t.async_wait(asio::use_awaitable);  // the first load has read 100

    // [snippet forget]
    balance = 250;          // a write...
    group.forget("acct");   // ...then no later caller joins the load in flight
    after = co_await group.do_("acct", read_balance);  // a new load: 250
    // [end snippet]
  };
  asio::co_spawn(ioc, run(), asio::detached);
  ioc.run();

  std::printf("before the write: %d, after: %d, loads: %d, forgotten: %zu\n", before, after, loads,
              static_cast<std::size_t>(group.stats().forgotten));
  return before == 100 && after == 250 && loads == 2 ? 0 : 1;
}
