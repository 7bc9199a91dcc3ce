// SPDX-License-Identifier: BSL-1.0
#include "listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <chrono>
#include <exception>

namespace cache_server {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
void report_session_end(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    fmt::print(stderr, "cache_server: connection ended: {}\n", ex.what());
  }
}
}  // namespace

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const ServerContext& ctx) {
  for (;;) {
    tcp::socket socket(asio::make_strand(acceptor.get_executor()));
    auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors, say: keep the listener, let connections end.
      fmt::print(stderr, "cache_server: accept: {}\n", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    const auto ex = socket.get_executor();
    asio::co_spawn(ex, run_session(std::move(socket), ctx), report_session_end);
  }
}

}  // namespace cache_server
