// Counters of an AsyncGroup, printable with fmt.
#ifndef SINGLEFLIGHT_STATS_HPP
#define SINGLEFLIGHT_STATS_HPP

#include <fmt/format.h>

#include <cstdint>
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

}  // namespace singleflight

template <>
struct fmt::formatter<singleflight::Stats> : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(const singleflight::Stats& s, FormatContext& ctx) const {
    const std::string text = singleflight::to_string(s);
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text), ctx);
  }
};

#endif
