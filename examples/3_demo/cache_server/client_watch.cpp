// SPDX-License-Identifier: BSL-1.0
#include "client_watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cache_server {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Waits until the socket is readable and peeks at it: no bytes means EOF, an
// error means a reset; either way the client has gone. Bytes mean a pipelined
// request, left in the socket for the next read; EOF can no longer be seen
// without reading them, so from then on this waits until it is cancelled.
// (Like nginx, a client that half-closes its side counts as gone.)
asio::awaitable<void> wait_for_hangup(tcp::socket& socket) {
  // A readiness report can be stale (a read already took the bytes that
  // caused it): the peek must not block an io_context thread. Beast's
  // asynchronous operations do not care about this mode.
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  for (;;) {
    auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_read, use_tuple);
    if (wait_ec) co_return;  // cancelled: the load won the race; or a socket error
    char byte = 0;
    const std::size_t n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (ec || n == 0) co_return;
    asio::steady_timer forever(socket.get_executor(), asio::steady_timer::time_point::max());
    co_await forever.async_wait(use_tuple);
    co_return;
  }
}
}  // namespace

asio::awaitable<WatchResult> watch_client(tcp::socket& socket, std::chrono::steady_clock::duration timeout) {
  asio::steady_timer deadline(socket.get_executor(), timeout);
  // Named before the co_await (g++ 12, see ItemService::load).
  auto hangup = wait_for_hangup(socket);
  auto expiry = deadline.async_wait(asio::use_awaitable);
  auto first = std::move(hangup) || std::move(expiry);
  const auto which = co_await std::move(first);
  co_return which.index() == 0 ? WatchResult::hangup : WatchResult::deadline;
}

}  // namespace cache_server
