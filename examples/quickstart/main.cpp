// Quickstart: a hundred concurrent requests for one key cause one load.
#include <singleflight/fmt.hpp>
#include <singleflight/singleflight.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <chrono>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main() {
  asio::io_context ioc;
  singleflight::AsyncGroup<std::string, std::string> group(ioc.get_executor());

  int loads = 0;
  // The slow call that a stampede would repeat: a database query, say.
  auto load_user = [&]() -> asio::awaitable<std::string> {
    ++loads;
    asio::steady_timer delay(co_await asio::this_coro::executor, 50ms);
    co_await delay.async_wait(asio::use_awaitable);
    co_return std::string("{\"id\": 7, \"name\": \"Ada\"}");
  };

  int answered = 0;
  for (int i = 0; i < 100; ++i) {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          // Named first: g++ 12 frees twice a non-trivial temporary that stands
          // in a co_await expression (see README).
          auto result = co_await group.do_shared("user:7", load_user);
          if (++answered == 100) fmt::print("last answer: {} (shared: {})\n", result.value, result.shared);
        },
        asio::detached);
  }
  ioc.run();
  fmt::print("{} requests, {} load(s)\n{}\n", answered, loads, group.stats());
  return loads == 1 && answered == 100 ? 0 : 1;
}
