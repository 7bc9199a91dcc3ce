// SPDX-License-Identifier: BSL-1.0
#include "stress_config.hpp"

#include "support/env.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>

namespace sfstress {

config read_config() {
  using sftest::env_double;
  using sftest::env_u64;
  config c;
  std::optional<std::uint64_t> seed = env_u64("SF_STRESS_SEED");
  auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i)
    if (std::strncmp(suite.argv[i], "--seed=", 7) == 0) seed = std::strtoull(suite.argv[i] + 7, nullptr, 0);
  if (!seed) {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  }
  c.seed = *seed;
  c.seconds = env_double("SF_STRESS_SECONDS", 3.0);
  c.scale = std::max(0.05, env_double("SF_STRESS_SCALE", 1.0));
  if (auto r = env_u64("SF_STRESS_ROUND")) c.only_round = static_cast<int>(*r);
  c.unpinned = env_u64("SF_STRESS_UNPINNED").value_or(1) != 0;
  c.off_strand = env_u64("SF_STRESS_OFF_STRAND").value_or(1) != 0;
  return c;
}

}  // namespace sfstress
