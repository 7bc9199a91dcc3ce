// SPDX-License-Identifier: BSL-1.0
// One client connection: HTTP/1.1 requests, one after another (keep-alive).
#ifndef CACHE_SERVER_HTTP_SESSION_HPP
#define CACHE_SERVER_HTTP_SESSION_HPP

#include "database.hpp"
#include "item_service.hpp"
#include "server_stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>

namespace cache_server {

/// What every connection shares; outlives them all.
struct ServerContext {
  ItemService& items;
  Database& db;
  ServerStats& stats;
  std::int64_t max_id;  // item ids are 1..max_id
  std::chrono::milliseconds request_timeout;
  std::chrono::milliseconds idle_timeout;
};

/// Serves `socket` until the client closes, a timeout, or a malformed
/// request. Run it on a strand of its own (the socket's executor).
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, const ServerContext& ctx);

}  // namespace cache_server

#endif
