// SPDX-License-Identifier: BSL-1.0
// Built against the installed package: awaits one flight and checks it.
#include <singleflight/singleflight.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <string>

#ifdef FMT_VERSION
#error "singleflight's public headers include fmt"
#endif

int main() {
  boost::asio::io_context ioc;
  singleflight::AsyncGroup<std::string, int> group(ioc.get_executor());
  int result = 0;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        auto loader = []() -> boost::asio::awaitable<int> { co_return 42; };
        result = co_await group.do_("answer", loader);
      },
      boost::asio::detached);
  ioc.run();
  std::printf("consumer: do_ returned %d, stats: %s\n", result, singleflight::to_string(group.stats()).c_str());
  return result == 42 ? 0 : 1;
}
