// SPDX-License-Identifier: BSL-1.0
#include "model.hpp"

#include "check.hpp"

#include <algorithm>
#include <iterator>

namespace sffuzz {

std::size_t model::linked_in_current() const {
  std::size_t n = 0;
  for (const auto& [k, f] : table)
    if (k.first == gen) ++n;
  return n;
}

void model::determine(int c, observed o, int flight) {
  m_caller& mc = callers[static_cast<std::size_t>(c)];
  mc.state = m_state::determined;
  mc.expect = o;
  mc.flight = flight;
}

void model::join(int c, const caller_rec& r) {
  ++stats.calls;
  auto it = table.find({gen, r.key});
  if (it != table.end()) {
    ++stats.joins;
    flights[it->second].waiters.push_back(c);
    callers[static_cast<std::size_t>(c)].state = m_state::parked;
    callers[static_cast<std::size_t>(c)].flight = it->second;
  } else if (linked_in_current() >= max_in_flight) {
    ++stats.rejected;
    determine(c, {outcome::too_many}, -1);
  } else {
    ++stats.flights_started;
    m_flight f;
    f.id = c;
    f.key = r.key;
    f.gen = gen;
    f.waiters.push_back(c);
    flights[c] = f;
    table[{gen, r.key}] = c;
    callers[static_cast<std::size_t>(c)].state = m_state::parked;
    callers[static_cast<std::size_t>(c)].flight = c;
  }
}

void model::unlink(m_flight& f) {
  if (!f.linked) return;
  table.erase({f.gen, f.key});
  f.linked = false;
}

void model::detach(int c) {
  m_caller& mc = callers[static_cast<std::size_t>(c)];
  if (mc.state != m_state::parked) return;
  m_flight& f = flights[mc.flight];
  std::erase(f.waiters, c);
  determine(c, {outcome::aborted}, mc.flight);
  if (f.gen == gen) ++stats.callers_cancelled;
  if (f.waiters.empty() && !f.done && !f.abandoned) {
    if (keep) {
      if (f.gen == gen) ++stats.loaders_kept;
    } else {
      unlink(f);
      f.abandoned = true;
      if (f.gen == gen) ++stats.loaders_cancelled;
    }
  }
}

void model::cancel(int c, const caller_rec& r, cancellation_type_t t) {
  const cancellation_type_t all3 = cancellation_type::terminal | cancellation_type::partial | cancellation_type::total;
  m_caller& mc = callers[static_cast<std::size_t>(c)];
  if (r.f == form::callback) {
    if ((t & all3) != cancellation_type::none) detach(c);
  } else if (mc.state == m_state::spawned) {
    mc.pending = t & cancellation_type::terminal;  // co_spawn's default filter; the last emit wins
  } else {
    const cancellation_type_t mask = r.reset_filter ? all3 : cancellation_type_t(cancellation_type::terminal);
    if ((t & mask) != cancellation_type::none) detach(c);
  }
}

bool model::forget(int key) {
  auto it = table.find({gen, key});
  if (it == table.end()) return false;
  unlink(flights[it->second]);
  ++stats.forgotten;
  return true;
}

void model::close() {
  for (auto& [id, f] : flights) {
    if (f.gen != gen || f.done) continue;
    for (int w : f.waiters) determine(w, {outcome::aborted}, id);
    f.waiters.clear();
    f.linked = false;
    if (!f.abandoned && !keep) f.abandoned = true;
  }
  for (auto it = table.begin(); it != table.end();) it = it->first.first == gen ? table.erase(it) : std::next(it);
  ++gen;
  stats = {};
}

void model::finish(int id, end_kind k) {
  m_flight& f = flights[id];
  SFFUZZ_CHECK(f.started && !f.done, "flight %d ended twice or before it started", id);
  f.done = true;
  unlink(f);
  // An abandoned (cancelled) loader's failure reaches no one: not counted.
  if (k != end_kind::value && !f.abandoned && f.gen == gen) ++stats.loader_failures;
  const bool shared = f.waiters.size() > 1;
  for (int w : f.waiters) {
    observed o;
    if (k == end_kind::value) {
      o.kind = outcome::value;
      o.value = id;
      o.shared = shared;
    } else if (k == end_kind::thrown) {
      o.kind = outcome::loader_error;
      o.value = id;
    } else {
      o.kind = outcome::aborted;  // a cancelled loader's own operation_aborted
    }
    determine(w, o, id);
  }
  f.waiters.clear();
}

}  // namespace sffuzz
