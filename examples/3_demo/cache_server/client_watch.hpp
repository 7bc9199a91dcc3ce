// SPDX-License-Identifier: BSL-1.0
// Noticing, while a request waits for a load, that its client has gone.
#ifndef CACHE_SERVER_CLIENT_WATCH_HPP
#define CACHE_SERVER_CLIENT_WATCH_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>

namespace cache_server {

enum class WatchResult {
  hangup,   // the client closed or reset its connection
  deadline  // the request took longer than the server allows
};

/// Completes when the client hangs up or `timeout` passes, whichever comes
/// first; meant to race (`||`) the wait for a load, so that the wait is
/// cancelled when the client is gone. Reads nothing from the socket.
boost::asio::awaitable<WatchResult> watch_client(boost::asio::ip::tcp::socket& socket,
                                                 std::chrono::steady_clock::duration timeout);

}  // namespace cache_server

#endif
