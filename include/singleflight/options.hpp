// SPDX-License-Identifier: BSL-1.0
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

  /// How many strands the group's loaders are spread over, by key hash. A
  /// loader runs on its flight's strand (so that its cancellation is
  /// serialized with it, as Asio requires); loaders of different keys run at
  /// once unless their keys share a strand. 1 serializes every loader of the
  /// group. At least 1.
  std::size_t loader_strands = 16;

  /// A flight with more waiters than this, delivering on a multi-threaded
  /// executor, hands chunks of its waiter list to the executor's other
  /// threads instead of resuming them all from the thread that finished it.
  std::size_t spread_resumption_above = 1024;

  /// A loader that starts at once, inside the first caller's handler, and
  /// then yields (posts to its own strand) continues on the same thread once
  /// that handler returns, instead of waking another thread to run it at
  /// once: Asio's continuation relationship, as `asio::defer` uses. The
  /// loader stays on the core whose caches hold it, and callers that the
  /// same handler starts meanwhile join its flight instead of racing it into
  /// a second one. false = the yield may run on any thread at once. Only an
  /// io_context's executor honours it; completions from elsewhere (a timer,
  /// a socket, another pool) are not affected.
  bool loader_yields_continue_here = true;
};

}  // namespace singleflight

#endif
