// SPDX-License-Identifier: BSL-1.0
// The fleet tier of --redis: the cache shared with every instance that uses
// the same Redis.
#ifndef CACHE_SERVER_FLEET_HPP
#define CACHE_SERVER_FLEET_HPP

#include <singleflight/remote_tier.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace cache_server {

/// A Redis tier for host:port (a numeric or resolvable host), connected
/// before the server listens, by running `ioc` (not yet serving) until the
/// connection is up: a bad address or a refused connection stops the server
/// with Redis's error, and the first requests do not pay for the connection
/// (under a burst that can take past a command's deadline, sending them to
/// local loads). Later, while Redis is down or slow, every instance
/// coalesces alone. Throws std::invalid_argument when the server was built
/// without hiredis.
std::shared_ptr<singleflight::remote_tier> make_fleet_tier(boost::asio::io_context& ioc, const std::string& host,
                                                           std::uint16_t port, const std::string& prefix);

/// The tier's counters for /stats; empty without a tier.
boost::json::object fleet_stats(const singleflight::remote_tier* tier);

}  // namespace cache_server

#endif
