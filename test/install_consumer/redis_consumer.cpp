// SPDX-License-Identifier: BSL-1.0
// Built against the installed component redis: connects to a loopback port
// that nothing listens on and expects the tier's clear error (no server
// needed, no hang).
#include <singleflight/redis.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>

namespace asio = boost::asio;

// A port that was free a moment ago: bound, then closed.
static std::uint16_t closed_port(asio::io_context& ioc) {
  asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

int main() {
  asio::io_context ioc;
  singleflight::redis::config cfg;
  cfg.port = closed_port(ioc);
  boost::system::error_code got;
  bool connected = false;
  asio::co_spawn(ioc, singleflight::redis::tier::connect(ioc.get_executor(), cfg),
                 [&](std::exception_ptr e, std::shared_ptr<singleflight::redis::tier> t) {
                   connected = t != nullptr;
                   try {
                     if (e) std::rethrow_exception(e);
                   } catch (const boost::system::system_error& x) {
                     got = x.code();
                   } catch (...) {
                   }
                 });
  ioc.run_for(std::chrono::seconds(10));
  std::printf("redis_consumer: connect to 127.0.0.1:%u: %s (%s)\n", unsigned(cfg.port), got.message().c_str(),
              got.category().name());
  return !connected && got == singleflight::redis::errc::connect_refused ? 0 : 1;
}
