// SPDX-License-Identifier: BSL-1.0
// XFetch, the probabilistic early expiration of Vattani, Chierichetti and
// Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015:
// refresh when  now - delta * beta * ln(rand) >= expiry,  rand uniform in
// (0, 1], delta the time the last load took. The closer the expiry and the
// longer the load, the likelier; one hit of the many that a hot key gets
// refreshes it before it expires.
#ifndef SINGLEFLIGHT_DETAIL_XFETCH_HPP
#define SINGLEFLIGHT_DETAIL_XFETCH_HPP

#include <chrono>
#include <cmath>
#include <cstdint>

namespace singleflight::detail {

/// The XFetch test for a draw `r` in (0, 1].
template <class TimePoint, class Duration>
bool xfetch_due(TimePoint now, TimePoint expiry, Duration delta, double beta, double r) noexcept {
  using seconds = std::chrono::duration<double>;
  const double gap = std::chrono::duration_cast<seconds>(expiry - now).count();
  const double scale = std::chrono::duration_cast<seconds>(delta).count() * beta;
  if (scale <= 0) return false;
  // -ln(r) <= ln(2^53) ~ 36.7 for the draws of xfetch_draw: far from the
  // expiry no draw can pass, so skip the logarithm (the hit path's cost).
  if (gap > 37 * scale) return false;
  return -scale * std::log(r) >= gap;
}

/// A uniform draw in (0, 1]: splitmix64 on a per-thread state (cheap and
/// lock-free; no need for quality beyond "uniform enough").
inline double xfetch_draw() noexcept {
  thread_local std::uint64_t state =
      0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(&state) ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>((z >> 11) + 1) * 0x1.0p-53;
}

}  // namespace singleflight::detail

#endif
