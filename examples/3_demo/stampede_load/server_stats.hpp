// SPDX-License-Identifier: BSL-1.0
// Reading the server's counters.
#ifndef STAMPEDE_LOAD_SERVER_STATS_HPP
#define STAMPEDE_LOAD_SERVER_STATS_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace stampede_load {

/// The number of database queries the server has started so far:
/// "db_queries_started" of its GET /stats. Throws std::runtime_error.
boost::asio::awaitable<std::uint64_t> fetch_origin_loads(boost::asio::ip::tcp::endpoint server);

}  // namespace stampede_load

#endif
