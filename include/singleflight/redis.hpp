// SPDX-License-Identifier: BSL-1.0
// Fleet-wide coalescing for singleflight::Cache on Redis: give a cache
// `CacheOptions::remote = co_await redis::tier::connect(ex, cfg)` and one process of all
// those sharing the Redis loads each missing key; the others get its value.
#ifndef SINGLEFLIGHT_REDIS_HPP
#define SINGLEFLIGHT_REDIS_HPP

#include <singleflight/redis/config.hpp>
#include <singleflight/redis/error.hpp>
#include <singleflight/remote_tier.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>

namespace singleflight::redis {

/// What the tier did, for tests and dashboards.
struct tier_stats {
  std::uint64_t claims = 0;       // claim() calls
  std::uint64_t hits = 0;         // answered from Redis (value or kept error)
  std::uint64_t leads = 0;        // this process loads
  std::uint64_t woken = 0;        // followers answered by a published message
  std::uint64_t local = 0;        // fell back to a local load
  std::uint64_t commits = 0;      // commits stored
  std::uint64_t refused = 0;      // commits refused (lease lost or invalidated)
  std::uint64_t failures = 0;     // Redis errors and timeouts
  std::uint64_t round_trips = 0;  // commands on the command connection
};

/// The Redis tier. Two connections per process (commands, subscriber),
/// whatever the number of keys; every hiredis call on one strand of `ex`.
///
/// @par Thread Safety
/// Every member function may be called from any thread.
///
/// @par Object Lifetimes
/// Claims, leases and renewals in flight hold the tier; when the last
/// reference goes, both connections are closed (in that thread: drop it
/// where its executor runs, or once that executor is idle). A Cache holds
/// its tier through `CacheOptions::remote`.
///
/// @par Per-Operation Cancellation
/// A claim honours terminal, partial and total cancellation while it waits
/// for another process's load; a command already sent is always waited for
/// (up to `command_timeout`), and a lease it won is given back.
class tier : public remote_tier {
 public:
  /// Connects (and checks AUTH) at once; throws system_error with errc on a
  /// bad address, a refused connection or AUTH, or a timeout.
  static boost::asio::awaitable<std::shared_ptr<tier>> connect(boost::asio::any_io_executor ex, config cfg);
  /// Does not connect until first use; failures then go local. Under a
  /// burst the first claims wait for the connection, and past their
  /// deadline they load locally: prefer connect at startup.
  static std::shared_ptr<tier> make(boost::asio::any_io_executor ex, config cfg);

  virtual tier_stats stats() const = 0;
  /// Whether the breaker is open now.
  virtual bool breaker_open() const = 0;
};

}  // namespace singleflight::redis

#endif
