// SPDX-License-Identifier: BSL-1.0
// Counters of a Cache, printable with to_string and operator<<
// (fmt: include <singleflight/fmt.hpp>).
#ifndef SINGLEFLIGHT_CACHE_STATS_HPP
#define SINGLEFLIGHT_CACHE_STATS_HPP

#include <singleflight/stats.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>

namespace singleflight {

struct CacheStats {
  std::uint64_t hits = 0;              ///< answered with a fresh value
  std::uint64_t stale_hits = 0;        ///< answered with a stale value (stale_ttl)
  std::uint64_t error_hits = 0;        ///< answered with a kept failure (error_ttl)
  std::uint64_t misses = 0;            ///< callers that waited for a load
  std::uint64_t loads = 0;             ///< loader calls
  std::uint64_t load_failures = 0;     ///< loader calls that threw, but for cancelled ones
  std::uint64_t refreshes = 0;         ///< background refreshes started (stale or early)
  std::uint64_t early_refreshes = 0;   ///< of which XFetch's early refreshes
  std::uint64_t refresh_failures = 0;  ///< background refreshes that failed
  std::uint64_t invalidated = 0;       ///< load results not stored: put/erase/clear won (lease rule)
  std::uint64_t evictions = 0;         ///< entries evicted by max_entries
  std::uint64_t size = 0;              ///< entries at the time of stats()
  Stats group{};                       ///< the underlying group's counters

  friend bool operator==(const CacheStats&, const CacheStats&) = default;
};

/// "hits=.. stale_hits=.. ... group: calls=.." on one line.
std::string to_string(const CacheStats& s);

/// Writes `to_string(s)`.
std::ostream& operator<<(std::ostream& os, const CacheStats& s);

}  // namespace singleflight

#endif
