// SPDX-License-Identifier: BSL-1.0
// do_shared: the value and whether it went to more than one caller (Go's
// `shared`), e.g. to count how much a coalescing layer saves.
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
  singleflight::AsyncGroup<int, std::string> group(ioc.get_executor());
  auto render = [](int page) {
    return [page]() -> asio::awaitable<std::string> {
      asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
      co_await t.async_wait(asio::use_awaitable);
      co_return "page " + std::to_string(page);
    };
  };

  int shared = 0, alone = 0;
  // [snippet do_shared]
  auto serve = [&](int page) -> asio::awaitable<void> {
    auto render_page = render(page);  // named: see the g++ 12 note
    singleflight::Shared<std::string> r = co_await group.do_shared(page, render_page);
    ++(r.shared ? shared : alone);  // r.value is the page
  };
  // [end snippet]
  for (int i = 0; i < 3; ++i) asio::co_spawn(ioc, serve(1), asio::detached);  // three callers, one render
  asio::co_spawn(ioc, serve(2), asio::detached);                              // a caller alone
  ioc.run();

  std::printf("shared results: %d, unshared: %d\n", shared, alone);
  return shared == 3 && alone == 1 ? 0 : 1;
}
