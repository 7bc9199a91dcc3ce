// Construction options of an AsyncGroup.
#ifndef SINGLEFLIGHT_OPTIONS_HPP
#define SINGLEFLIGHT_OPTIONS_HPP

#include <cstddef>
#include <limits>

namespace singleflight {

struct Options {
  /// Upper bound on the number of distinct keys in flight at once. A caller
  /// that would start one more flight fails at once with
  /// `errc::too_many_flights`; joining a running flight is always allowed.
  std::size_t max_in_flight = (std::numeric_limits<std::size_t>::max)();

  /// When every caller of a flight has left (cancelled), the loader is
  /// cancelled and the key unlinked, so the next caller starts afresh. Set
  /// this to keep such a loader running instead (to warm a cache): the flight
  /// stays linked and later callers join it.
  bool keep_abandoned_loaders = false;
};

}  // namespace singleflight

#endif
