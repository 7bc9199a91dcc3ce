// SPDX-License-Identifier: BSL-1.0
// Conan's test_package: awaits one flight of the packaged library.
#include <singleflight/singleflight.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <string>

int main() {
  boost::asio::io_context ioc;
  singleflight::AsyncGroup<std::string, int> group(ioc.get_executor());
  int result = 0;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        result = co_await group.do_("answer", []() -> boost::asio::awaitable<int> { co_return 42; });
      },
      boost::asio::detached);
  ioc.run();
  // to_string is compiled in libsingleflight, which links fmt privately.
  std::printf("test_package: do_ returned %d, stats: %s\n", result, singleflight::to_string(group.stats()).c_str());
  return result == 42 && group.stats().flights_started == 1 ? 0 : 1;
}
