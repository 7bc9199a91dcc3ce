// SPDX-License-Identifier: BSL-1.0
// How a stress run is chosen: the seed, its length and scale, and the
// switches (see test_stress.cpp for each environment variable).
#ifndef SINGLEFLIGHT_TEST_STRESS_CONFIG_HPP
#define SINGLEFLIGHT_TEST_STRESS_CONFIG_HPP

#include <cstdint>

namespace sfstress {

struct config {
  std::uint64_t seed = 0;
  double seconds = 3.0;
  double scale = 1.0;
  int only_round = -1;
  bool unpinned = false;
  bool off_strand = false;
};

/// From the environment and the test's command line (`--seed=<n>`); a
/// random seed when none is given.
config read_config();

}  // namespace sfstress

#endif
