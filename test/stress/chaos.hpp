// SPDX-License-Identifier: BSL-1.0
// A thread that forgets keys and reads the counters while callers run, and
// checks the identities that hold in every snapshot of stats().
#ifndef SINGLEFLIGHT_TEST_STRESS_CHAOS_HPP
#define SINGLEFLIGHT_TEST_STRESS_CHAOS_HPP

#include "round_state.hpp"

#include <atomic>
#include <cstdint>

namespace sfstress {

/// Runs until `stop`; its choices come from `seed`.
void chaos(round_state& s, std::uint64_t seed, std::atomic<bool>& stop);

}  // namespace sfstress

#endif
