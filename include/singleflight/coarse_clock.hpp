// SPDX-License-Identifier: BSL-1.0
// The default clock of a Cache: steady, and cheap to read on every hit.
#ifndef SINGLEFLIGHT_COARSE_CLOCK_HPP
#define SINGLEFLIGHT_COARSE_CLOCK_HPP

#include <chrono>
#include <ctime>

namespace singleflight {

/// A steady clock read from the kernel's tick (Linux `CLOCK_MONOTONIC_COARSE`,
/// about 6 ns a read where `std::chrono::steady_clock` takes about 25, and a
/// fresh hit takes one read). Its resolution is the tick, 1–4 ms: a value may
/// be served up to one tick past its ttl. Elsewhere, `steady_clock` itself.
struct coarse_steady_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<coarse_steady_clock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
#if defined(CLOCK_MONOTONIC_COARSE)
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
#else
    return time_point(std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()));
#endif
  }
};

namespace detail {
/// The clock that times loads (XFetch's delta): the cache's own, but for
/// the coarse clock, whose tick would round most loads to 0.
template <class Clock>
struct load_timer {
  using clock = Clock;
};
template <>
struct load_timer<coarse_steady_clock> {
  using clock = std::chrono::steady_clock;
};
}  // namespace detail

}  // namespace singleflight

#endif
