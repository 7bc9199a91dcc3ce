// SPDX-License-Identifier: BSL-1.0
#include <singleflight/stats.hpp>

#include <fmt/format.h>

#include <ostream>

namespace singleflight {

std::string to_string(const Stats& s) {
  return fmt::format(
      "calls={} flights_started={} joins={} callers_cancelled={} loader_failures={} "
      "loaders_cancelled={} loaders_kept={} forgotten={} rejected={} in_flight={}",
      s.calls, s.flights_started, s.joins, s.callers_cancelled, s.loader_failures,
      s.loaders_cancelled, s.loaders_kept, s.forgotten, s.rejected, s.in_flight);
}

std::ostream& operator<<(std::ostream& os, const Stats& s) { return os << to_string(s); }

}  // namespace singleflight
