// SPDX-License-Identifier: BSL-1.0
// What one round throws at the group, drawn from the seed: the kind of
// round, its size, and the mix of callers and loaders.
#ifndef SINGLEFLIGHT_TEST_STRESS_WORKLOAD_HPP
#define SINGLEFLIGHT_TEST_STRESS_WORKLOAD_HPP

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace sfstress {

/// normal: every caller completes; destroy: the group is destroyed with
/// callers parked; shutdown: the execution context is shut down with
/// callers parked.
enum class round_kind { normal, destroy, shutdown };
enum class caller_mode { plain, shared, timeout, callback };
/// What a loader does (run_loader, loaders.cpp, says each).
enum class loader_mode { value_now, value_later, throw_now, throw_deep, hop, hang, stubborn, elsewhere, pin };

const char* name(round_kind k);

struct round_params {
  round_kind kind = round_kind::normal;
  int threads = 2;
  int keys = 8;
  int strands = 4;
  int callers = 300;
  bool keep = false;
  std::size_t max_in_flight = SIZE_MAX;
  int pct_cancel = 30;
  int pct_timeout = 30;
  int pct_forget = 3;
  int loader_weights[8] = {};  // the loader modes before pin
};

/// The first three rounds cover every kind; later ones pick at random.
round_params make_params(std::mt19937_64& rng, int round, double scale, bool off_strand);

/// One line, printed with every failure of the round.
std::string describe(const round_params& p);

}  // namespace sfstress

#endif
