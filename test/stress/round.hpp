// SPDX-License-Identifier: BSL-1.0
// One round of the stress test: a multi-threaded io_context, a group and a
// thread pool; a few hundred callers at a few keys; the round ends normally,
// by destroying the group, or by shutting the context down; then every
// caller's outcome and the counters are checked.
#ifndef SINGLEFLIGHT_TEST_STRESS_ROUND_HPP
#define SINGLEFLIGHT_TEST_STRESS_ROUND_HPP

#include "stress_config.hpp"

namespace sfstress {

/// Sums over the rounds of a run, for its summary line.
struct totals {
  int rounds = 0, rounds_by_kind[3] = {};
  long callers = 0, cancels_emitted = 0, cancels_by_type[5] = {}, timeouts = 0, values = 0, loader_errors = 0,
       aborted = 0, too_many = 0, destroyed_unresumed = 0, forgets = 0, forgets_true = 0, loaders = 0,
       loaders_threw = 0, loaders_cancelled = 0;
};

/// Runs round `round` of the run `cfg` describes, adds it to `tot`, and
/// reports its failures (with the seed and round to reproduce them) as
/// Boost.Test errors; false if it failed. Aborts on a hang.
bool run_round(const config& cfg, int round, totals& tot);

}  // namespace sfstress

#endif
