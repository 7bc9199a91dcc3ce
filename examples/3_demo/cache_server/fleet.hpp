// SPDX-License-Identifier: BSL-1.0
// The fleet tier of --redis: the cache shared with every instance that uses
// the same Redis.
#ifndef CACHE_SERVER_FLEET_HPP
#define CACHE_SERVER_FLEET_HPP

#include <singleflight/remote_tier.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace cache_server {

/// A Redis tier for host:port (a numeric or resolvable host). Connects on
/// first use; while Redis is down or slow every instance coalesces alone.
/// Throws std::invalid_argument when the server was built without hiredis.
std::shared_ptr<singleflight::remote_tier> make_fleet_tier(boost::asio::any_io_executor ex, const std::string& host,
                                                           std::uint16_t port, const std::string& prefix);

/// The tier's counters for /stats; empty without a tier.
boost::json::object fleet_stats(const singleflight::remote_tier* tier);

}  // namespace cache_server

#endif
