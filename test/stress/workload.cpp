// SPDX-License-Identifier: BSL-1.0
#include "workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace sfstress {

const char* name(round_kind k) {
  switch (k) {
    case round_kind::normal: return "normal";
    case round_kind::destroy: return "destroy";
    case round_kind::shutdown: return "shutdown";
  }
  return "?";
}

round_params make_params(std::mt19937_64& rng, int round, double scale, bool off_strand) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  round_params p;
  static constexpr round_kind first[] = {round_kind::normal, round_kind::destroy, round_kind::shutdown};
  if (round < 3)
    p.kind = first[round];
  else
    p.kind = pick(0, 9) < 6 ? round_kind::normal : (pick(0, 1) ? round_kind::destroy : round_kind::shutdown);
  p.threads = pick(2, 4);
  p.keys = pick(0, 3) == 0 ? pick(1, 3) : pick(4, 48);
  p.strands = pick(1, 8);
  p.callers = std::max(20, static_cast<int>(pick(150, 450) * scale));
  p.keep = pick(0, 3) == 0;
  if (pick(0, 3) == 0) p.max_in_flight = static_cast<std::size_t>(pick(1, 6));
  p.pct_cancel = pick(10, 50);
  p.pct_timeout = pick(10, 50);
  p.pct_forget = pick(0, 8);
  // value_now, value_later, throw_now, throw_deep, hop, hang, stubborn,
  // elsewhere (finishes on the pool's thread; SF_STRESS_OFF_STRAND=0 drops it)
  const int base[8] = {20, 25, 8, 10, 17, 8, 7, off_strand ? 10 : 0};
  for (int i = 0; i < 8; ++i) p.loader_weights[i] = base[i] * pick(0, 4);
  if (std::all_of(std::begin(p.loader_weights), std::end(p.loader_weights), [](int w) { return w == 0; }))
    p.loader_weights[0] = 1;
  return p;
}

std::string describe(const round_params& p) {
  return fmt::format(
      "kind={} threads={} keys={} strands={} callers={} keep_abandoned_loaders={} max_in_flight={} "
      "cancel={}% timeout={}% forget={}% loader_weights=[{},{},{},{},{},{},{},{}]",
      name(p.kind), p.threads, p.keys, p.strands, p.callers, p.keep,
      p.max_in_flight == SIZE_MAX ? std::string("unlimited") : std::to_string(p.max_in_flight), p.pct_cancel,
      p.pct_timeout, p.pct_forget, p.loader_weights[0], p.loader_weights[1], p.loader_weights[2],
      p.loader_weights[3], p.loader_weights[4], p.loader_weights[5], p.loader_weights[6], p.loader_weights[7]);
}

}  // namespace sfstress
