// SPDX-License-Identifier: BSL-1.0
// The accept loop.
#ifndef CACHE_SERVER_LISTENER_HPP
#define CACHE_SERVER_LISTENER_HPP

#include "http_session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cache_server {

/// Accepts connections until `acceptor` is closed, and runs a session for
/// each on a strand of its own (the io_context has several threads).
boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor, const ServerContext& ctx);

}  // namespace cache_server

#endif
