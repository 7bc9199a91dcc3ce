// SPDX-License-Identifier: BSL-1.0
#include "round_state.hpp"

namespace sfstress {

stress_error::stress_error(int k, std::uint64_t s, bool killed)
    : std::runtime_error(fmt::format("loader {} of key {} {}", s, k, killed ? "killed" : "failed")),
      key(k),
      serial(s) {}

bool caller_rec::cancel_effective() const {
  cancellation_type_t mask = cancellation_type::terminal | cancellation_type::partial | cancellation_type::total;
  if (mode == caller_mode::timeout)
    mask = cancellation_type::terminal;  // the inner do_ of `||` keeps the default filter
  else if (mode != caller_mode::callback && !reset_filter)
    mask = cancellation_type::terminal;  // co_spawn's default filter
  return cancel_emitted.load() && (cancel_type & mask) != cancellation_type::none;
}

round_state::round_state(const round_params& params, std::uint64_t seed_, int round_)
    : p(params),
      seed(seed_),
      round(round_),
      ioc(std::make_unique<sftest::shutdown_context>(params.threads)),
      pool(2),
      forget_begun(static_cast<std::size_t>(params.keys + 1)),
      forget_done(static_cast<std::size_t>(params.keys + 1)),
      active(static_cast<std::size_t>(params.keys + 1)) {}

std::string round_state::key_name(int k) const {
  return k == p.keys ? std::string("pin") : fmt::format("key-{:03}", k);
}

void round_state::forget_key(int k) {
  const std::string name = key_name(k);
  ++forgets;
  ++forget_begun[static_cast<std::size_t>(k)];
  if (group->forget(name)) ++forgets_true;
  ++forget_done[static_cast<std::size_t>(k)];
}

}  // namespace sfstress
