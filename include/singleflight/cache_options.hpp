// SPDX-License-Identifier: BSL-1.0
// Construction options of a Cache.
#ifndef SINGLEFLIGHT_CACHE_OPTIONS_HPP
#define SINGLEFLIGHT_CACHE_OPTIONS_HPP

#include <singleflight/options.hpp>
#include <singleflight/remote_tier.hpp>

#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>

namespace singleflight {

struct CacheOptions {
  /// How long a loaded (or put) value is fresh: served with no load.
  std::chrono::nanoseconds ttl = std::chrono::seconds(60);

  /// How long after `ttl` a value may still be served, stale, while one
  /// background refresh replaces it (stale-while-revalidate). 0 = off: an
  /// expired value is a miss and its callers wait for the load.
  std::chrono::nanoseconds stale_ttl{0};

  /// How long a loader's failure is kept and rethrown (the same exception
  /// object) with no new load; also how long a failed background refresh
  /// waits before the next one. 0 = failures are not kept, as in Go.
  std::chrono::nanoseconds error_ttl{0};

  /// XFetch (Vattani et al., VLDB 2015): a fresh hit also starts a background
  /// refresh when `now - delta * beta * ln(rand()) >= expiry`, delta being
  /// the key's last load time. 0 = off; 1 = the paper's default; above 1
  /// refreshes earlier.
  double early_refresh_beta = 0.0;

  /// Upper bound on the number of entries; the least recently used entry is
  /// evicted to make room.
  std::size_t max_entries = (std::numeric_limits<std::size_t>::max)();

  /// Options of the underlying AsyncGroup.
  Options group{};

  /// A store shared with other processes (singleflight::redis::make_tier):
  /// each local miss then asks it first, so one process in the fleet loads a
  /// key and the others get its value. Null = this process alone, as before.
  /// Needs codec<Value> and string-like keys (or codec<Key>).
  std::shared_ptr<remote_tier> remote;
};

}  // namespace singleflight

#endif
