// SPDX-License-Identifier: BSL-1.0
// The load itself: many connections requesting the hot items, back to back
// (closed loop) or each request at its time in a fixed-rate schedule (open loop).
#ifndef STAMPEDE_LOAD_LOAD_RUN_HPP
#define STAMPEDE_LOAD_LOAD_RUN_HPP

#include "options.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <vector>

namespace stampede_load {

struct LoadResult {
  std::uint64_t requests = 0;               // requests answered or failed
  std::uint64_t errors = 0;                 // failed (I/O error, timeout) or not 200
  std::uint64_t late = 0;                   // open loop: sent over 1 s behind schedule, or never sent
  std::vector<std::uint32_t> latencies_us;  // one per request sent; open loop: from its due time
};

/// Runs `options.connections` connections for `options.duration`, showing
/// progress; returns once every connection has finished its last request.
/// With `options.rate` > 0 the requests follow a Schedule, and a request's
/// latency counts from when it was due, not from when a connection got to
/// send it: a stall counts for every request it delays.
/// Runs on a single-threaded io_context: the counters need no lock.
/// Connection i talks to servers[i % servers.size()].
boost::asio::awaitable<LoadResult> run_load(const Options& options,
                                            const std::vector<boost::asio::ip::tcp::endpoint>& servers);

}  // namespace stampede_load

#endif
