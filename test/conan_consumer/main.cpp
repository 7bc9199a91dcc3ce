// SPDX-License-Identifier: BSL-1.0
// Built against the Conan package: two callers of one key share one flight;
// prints the stats through the opt-in fmt formatter.
#include <singleflight/fmt.hpp>
#include <singleflight/singleflight.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>

namespace asio = boost::asio;

int main() {
  asio::io_context ioc;
  singleflight::AsyncGroup<std::string, std::string> group(ioc.get_executor());
  int loader_runs = 0;
  // The loader waits on a timer, so the second caller arrives mid-flight.
  auto loader = [&]() -> asio::awaitable<std::string> {
    ++loader_runs;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
    co_return std::string("value");
  };
  singleflight::Shared<std::string> results[2];
  for (auto& r : results) {
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { r = co_await group.do_shared("key", loader); }, asio::detached);
  }
  ioc.run();

  const singleflight::Stats stats = group.stats();
  fmt::print("conan_consumer: loader ran {} time(s); results \"{}\"/{} \"{}\"/{}; stats: {}\n", loader_runs,
             results[0].value, results[0].shared, results[1].value, results[1].shared, stats);
  const bool ok = loader_runs == 1 && results[0].value == "value" && results[1].value == "value" &&
                  results[0].shared && results[1].shared && stats.calls == 2 && stats.flights_started == 1 &&
                  stats.joins == 1;
  return ok ? 0 : 1;
}
