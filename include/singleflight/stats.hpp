// SPDX-License-Identifier: BSL-1.0
// Counters of an AsyncGroup, printable with to_string and operator<<
// (fmt: include <singleflight/fmt.hpp>).
#ifndef SINGLEFLIGHT_STATS_HPP
#define SINGLEFLIGHT_STATS_HPP

#include <cstdint>
#include <iosfwd>
#include <string>

namespace singleflight {

struct Stats {
  std::uint64_t calls = 0;              ///< do_, do_shared and async_do calls
  std::uint64_t flights_started = 0;    ///< loaders started
  std::uint64_t joins = 0;              ///< callers that joined a running flight
  std::uint64_t callers_cancelled = 0;  ///< callers that left before the result
  std::uint64_t loader_failures = 0;    ///< loaders that ended with an exception, but for cancelled ones
  std::uint64_t loaders_cancelled = 0;  ///< loaders cancelled once abandoned
  std::uint64_t loaders_kept = 0;       ///< abandoned loaders kept running
  std::uint64_t forgotten = 0;          ///< successful forget() calls
  std::uint64_t rejected = 0;           ///< callers refused: too_many_flights
  std::uint64_t in_flight = 0;          ///< flights linked at the time of stats()

  friend bool operator==(const Stats&, const Stats&) = default;
};

/// "calls=.. flights_started=.. ..." on one line.
std::string to_string(const Stats& s);

/// Writes `to_string(s)`.
std::ostream& operator<<(std::ostream& os, const Stats& s);

}  // namespace singleflight

#endif
