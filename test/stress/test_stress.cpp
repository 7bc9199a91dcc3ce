// SPDX-License-Identifier: BSL-1.0
// Randomized stress test of AsyncGroup.
//
// Each round (round.hpp) builds a multi-threaded io_context, a group and a
// thread pool, and throws a few hundred callers at a few keys: plain do_,
// do_shared, do_ raced against a timer with `||`, and async_do with a
// callback (callers.hpp); callers are cancelled at random moments with
// signals of every type (terminal, partial, total, none, combinations); keys
// are forgotten at random, also from another thread (chaos.hpp); loaders
// return, throw (at once or from deep inside nested awaits), hop through
// another executor, ignore cancellation for a while, or never finish unless
// cancelled (loaders.hpp). Rounds end normally, or by destroying the group,
// or by shutting the execution context down while callers are parked.
//
// Checked:
//  - every caller completes exactly once (value, the loader's exception, or
//    operation_aborted, or too_many_flights), or, in shutdown rounds only,
//    is destroyed without completing; no caller resumes after its frame died;
//  - a caller gets its own key's value or exception, the exception object is
//    the same in every caller of a flight, do_shared's flag is exact;
//  - operation_aborted only for callers that were cancelled, timed out or
//    whose group was destroyed;
//  - never two loaders at once for a key unless the older one was forgotten
//    or was cancelled (abandoned) in between;
//  - in_flight() back to 0, and the counters add up.
//
// Seeded: SF_STRESS_SEED=<n> (or `-- --seed=<n>`) reproduces a run's
// workload, SF_STRESS_ROUND=<r> runs one round of it. Bounded in time:
// SF_STRESS_SECONDS (default 3) of rounds, at least kMinRounds;
// SF_STRESS_SCALE multiplies the callers per round (soak runs). Two
// switches widen what the rounds reach (both on by default):
//  - SF_STRESS_UNPINNED=1: destroy rounds let a group's core be freed while
//    its callers can still be cancelled; =0 keeps the core alive with a
//    loader that outlives the group. A canceller must not touch a core that
//    the last loader may free meanwhile
//    (test_regressions: a_caller_cancelled_after_its_group_is_gone_still_completes_with_an_error).
//  - SF_STRESS_OFF_STRAND=1: some loaders finish on another executor's
//    thread; the group must bring their flights' ends back to its strand
//    (test_regressions: the two off-strand cases). Such a loader's own
//    coroutine must not read its cancellation state while it is elsewhere:
//    the group emits on its strand (see loader_scope).
#define BOOST_TEST_MODULE stress
#include "round.hpp"
#include "stress_config.hpp"
#include "tsan_suppressions.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace {
constexpr int kMinRounds = 6;
using clock_type = std::chrono::steady_clock;
}  // namespace

BOOST_AUTO_TEST_CASE(random_rounds_complete_every_caller_once_and_keep_the_counters_exact) {
  using namespace sfstress;
  const config cfg = read_config();
  BOOST_TEST_MESSAGE("stress: seed=" << cfg.seed << " (SF_STRESS_SEED to reproduce) seconds=" << cfg.seconds
                                     << " scale=" << cfg.scale);
  std::fprintf(stderr, "stress: seed=%llu\n", static_cast<unsigned long long>(cfg.seed));
  const auto start = clock_type::now();
  totals tot;
  if (cfg.only_round >= 0) {
    run_round(cfg, cfg.only_round, tot);
  } else {
    const auto budget = std::chrono::duration<double>(cfg.seconds);
    for (int round = 0; round < kMinRounds || clock_type::now() - start < budget; ++round) {
      if (!run_round(cfg, round, tot)) break;  // the failing round's seed and number are printed
    }
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  const std::string summary = fmt::format(
      "stress summary: seed={} rounds={} (normal {}, destroy {}, shutdown {}) callers={} values={} "
      "loader_errors={} aborted={} too_many_flights={} destroyed_unresumed={} cancellations={} "
      "(terminal {}, partial {}, total {}, none {}, combined {}) timeouts={} forgets={} (unlinked {}) "
      "loaders={} (threw {}, cancelled {}) elapsed={:.2f}s",
      cfg.seed, tot.rounds, tot.rounds_by_kind[0], tot.rounds_by_kind[1], tot.rounds_by_kind[2], tot.callers,
      tot.values, tot.loader_errors, tot.aborted, tot.too_many, tot.destroyed_unresumed, tot.cancels_emitted,
      tot.cancels_by_type[0], tot.cancels_by_type[1], tot.cancels_by_type[2], tot.cancels_by_type[3],
      tot.cancels_by_type[4], tot.timeouts, tot.forgets, tot.forgets_true, tot.loaders, tot.loaders_threw,
      tot.loaders_cancelled, secs);
  BOOST_TEST_MESSAGE(summary);
  std::fprintf(stderr, "%s\n", summary.c_str());
  BOOST_TEST(tot.rounds >= (cfg.only_round >= 0 ? 1 : kMinRounds));
}
