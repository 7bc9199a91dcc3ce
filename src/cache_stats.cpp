// SPDX-License-Identifier: BSL-1.0
#include <singleflight/cache_stats.hpp>

#include <fmt/format.h>

#include <ostream>

namespace singleflight {

std::string to_string(const CacheStats& s) {
  return fmt::format(
      "hits={} stale_hits={} error_hits={} misses={} loads={} load_failures={} refreshes={} "
      "early_refreshes={} refresh_failures={} invalidated={} evictions={} size={} group: {}",
      s.hits, s.stale_hits, s.error_hits, s.misses, s.loads, s.load_failures, s.refreshes,
      s.early_refreshes, s.refresh_failures, s.invalidated, s.evictions, s.size, to_string(s.group));
}

std::ostream& operator<<(std::ostream& os, const CacheStats& s) { return os << to_string(s); }

}  // namespace singleflight
