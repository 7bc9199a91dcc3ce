// SPDX-License-Identifier: BSL-1.0
// Built with singleflight added by add_subdirectory: two callers of one key
// share one flight, and the stats print without fmt in this program.
#include <singleflight/singleflight.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>
#include <string>

#ifdef FMT_VERSION
#error "singleflight's public headers include fmt"
#endif

int main() {
  boost::asio::io_context ioc;
  singleflight::AsyncGroup<std::string, int> group(ioc.get_executor());
  int loads = 0;
  int sum = 0;
  auto loader = [&]() -> boost::asio::awaitable<int> {
    ++loads;
    co_return 21;
  };
  for (int i = 0; i < 2; ++i) {
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
          auto op = group.do_("answer", loader);
          sum += co_await std::move(op);
        },
        boost::asio::detached);
  }
  ioc.run();
  const singleflight::Stats stats = group.stats();
  std::cout << "subdirectory_consumer: sum " << sum << ", loads " << loads << ", stats: " << stats << '\n';
  return sum == 42 && stats.calls == 2 ? 0 : 1;
}
