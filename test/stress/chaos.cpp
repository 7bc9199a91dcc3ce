// SPDX-License-Identifier: BSL-1.0
#include "chaos.hpp"

#include <chrono>
#include <random>
#include <thread>

namespace sfstress {

void chaos(round_state& s, std::uint64_t seed, std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  while (!stop.load()) {
    const int key = std::uniform_int_distribution<int>(0, s.p.keys - 1)(rng);
    if (std::uniform_int_distribution<int>(0, 99)(rng) < 10 * s.p.pct_forget) s.forget_key(key);
    const sf::Stats st = s.group->stats();
    if (st.calls != st.flights_started + st.joins + st.rejected)
      s.fail("snapshot: calls != flights_started + joins + rejected: {}", sf::to_string(st));
    if (st.in_flight > s.p.max_in_flight && s.p.kind == round_kind::normal)
      s.fail("snapshot: in_flight {} above max_in_flight {}", st.in_flight, s.p.max_in_flight);
    if (st.callers_cancelled > st.flights_started + st.joins)
      s.fail("snapshot: more callers cancelled than callers parked: {}", sf::to_string(st));
    if (st.forgotten > st.flights_started) s.fail("snapshot: more forgotten than flights: {}", sf::to_string(st));
    (void)s.group->in_flight();
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(50, 400)(rng)));
  }
}

}  // namespace sfstress
