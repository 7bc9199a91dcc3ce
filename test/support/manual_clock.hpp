// SPDX-License-Identifier: BSL-1.0
// A clock that tests move by hand: no test sleeps to wait for an expiry.
#ifndef SINGLEFLIGHT_TEST_MANUAL_CLOCK_HPP
#define SINGLEFLIGHT_TEST_MANUAL_CLOCK_HPP

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sftest {

struct manual_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept { return time_point(duration(ticks.load(std::memory_order_relaxed))); }
  static void advance(duration d) noexcept { ticks.fetch_add(d.count(), std::memory_order_relaxed); }
  /// Back to the start (an hour after the epoch), for each test.
  static void reset() noexcept { ticks.store(std::chrono::nanoseconds(std::chrono::hours(1)).count()); }

  static inline std::atomic<rep> ticks{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

/// The fixture of cache tests: an io_context stepped by hand, and the clock
/// reset.
struct clock_reset {
  clock_reset() { manual_clock::reset(); }
};

}  // namespace sftest

#endif
