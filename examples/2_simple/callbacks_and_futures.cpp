// SPDX-License-Identifier: BSL-1.0
// async_do with other completion tokens than a coroutine: a callback, and a
// std::future waited for by a thread that runs no io_context. Both join the
// same flight: one load.
#include <singleflight/async_group.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <string>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main() {
  asio::io_context ioc;
  singleflight::AsyncGroup<std::string, int> group(ioc.get_executor());
  int loads = 0;
  auto count_rows = [&]() -> asio::awaitable<int> {
    ++loads;
    asio::steady_timer delay(co_await asio::this_coro::executor, 50ms);
    co_await delay.async_wait(asio::use_awaitable);
    co_return 42;
  };

  // [snippet callbacks_and_futures]
  // A callback: completion signature void(std::exception_ptr, Value). It
  // runs on its associated executor (here the group's), never inside async_do.
  int from_callback = 0;
  group.async_do("rows", count_rows, [&](std::exception_ptr e, int rows) {
    if (!e) from_callback = rows;
  });

  // A future: the loader's exception, if any, comes out of get().
  std::future<int> rows = group.async_do("rows", count_rows, asio::use_future);
  std::thread runner([&] { ioc.run(); });
  const int from_future = rows.get();
  // [end snippet]
  runner.join();

  std::printf("callback: %d, future: %d, loads: %d\n", from_callback, from_future, loads);
  return from_callback == 42 && from_future == 42 && loads == 1 ? 0 : 1;
}
