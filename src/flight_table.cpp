// SPDX-License-Identifier: BSL-1.0
#include <singleflight/detail/flight_table.hpp>

#include <limits>
#include <mutex>

namespace singleflight::detail {

static_assert((flight_table::shard_count & (flight_table::shard_count - 1)) == 0, "a power of two: shard_index masks");
static_assert(flight_table::shard_count <= waiter_base::no_shard, "a waiter's shard fits its byte");

flight_table::flight_table(const Options& opts, loader_canceller canceller)
    : options_(opts),
      canceller_(canceller),
      bounded_(opts.max_in_flight != (std::numeric_limits<std::size_t>::max)()) {}

void flight_table::link(flight_node& f, waiter_base& w) noexcept {
  w.flight = &f;
  w.prev = f.tail;
  w.next = nullptr;
  if (f.tail != nullptr)
    f.tail->next = &w;
  else
    f.head = &w;
  f.tail = &w;
  ++f.waiters;
  if (w.core != nullptr) ++f.cancellable;
}

void flight_table::unlink(flight_node& f, waiter_base& w) noexcept {
  if (w.prev != nullptr)
    w.prev->next = w.next;
  else
    f.head = w.next;
  if (w.next != nullptr)
    w.next->prev = w.prev;
  else
    f.tail = w.prev;
  w.prev = w.next = nullptr;
  w.flight = nullptr;
  --f.waiters;
}

void flight_table::erase_linked(shard& s, flight_node& f) noexcept {
  if (f.state != flight_state::linked) return;
  s.flights.erase(&f);
  unreserve_linked(1);
}

void flight_table::live_push(shard& s, flight_node& f) noexcept {
  f.live_prev = nullptr;
  f.live_next = s.live_head;
  if (s.live_head != nullptr) s.live_head->live_prev = &f;
  s.live_head = &f;
}

void flight_table::live_erase(shard& s, flight_node& f) noexcept {
  if (f.live_prev != nullptr)
    f.live_prev->live_next = f.live_next;
  else
    s.live_head = f.live_next;
  if (f.live_next != nullptr) f.live_next->live_prev = f.live_prev;
  f.live_prev = f.live_next = nullptr;
}

void flight_table::abandon(shard& s, flight_node& f) noexcept {
  erase_linked(s, f);
  f.state = flight_state::abandoned;
  ++s.counters.loaders_cancelled;
  f.cancel_requested.store(true, std::memory_order_release);
  f.add_ref();  // for the canceller
  canceller_.cancel(canceller_.context, f);
}

bool flight_table::reserve_linked() noexcept {
  if (!bounded_) return true;
  if (linked_.fetch_add(1, std::memory_order_relaxed) < options_.max_in_flight) return true;
  linked_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

void flight_table::unreserve_linked(std::size_t n) noexcept {
  if (bounded_) linked_.fetch_sub(n, std::memory_order_relaxed);
}

flight_table::admit_result flight_table::admit(const key_probe& key, waiter_base& w, flight_node* fresh) {
  const std::uint32_t index = shard_index(key.hash);
  // Before w is linked: detach() finds its lock by it.
  w.shard.store(static_cast<std::uint8_t>(index), std::memory_order_release);
  shard& s = shards_[index];
  std::lock_guard lock(s.mutex);
  if (s.refuses()) return admit_result::closed;
  if (auto it = s.flights.find(key); it != s.flights.end()) {
    ++s.counters.calls;
    ++s.counters.joins;
    link(**it, w);
    return admit_result::joined;
  }
  if (bounded_ && linked_.load(std::memory_order_relaxed) >= options_.max_in_flight) {
    ++s.counters.calls;
    ++s.counters.rejected;
    return admit_result::rejected;
  }
  if (fresh == nullptr) return admit_result::need_flight;
  if (!reserve_linked()) {  // another shard took the last place meanwhile
    ++s.counters.calls;
    ++s.counters.rejected;
    return admit_result::rejected;
  }
  try {
    s.flights.insert(fresh);  // may grow the set (amortized; it never shrinks)
  } catch (...) {
    unreserve_linked(1);
    throw;
  }
  ++s.counters.calls;
  ++s.counters.flights_started;
  fresh->state = flight_state::linked;
  live_push(s, *fresh);
  link(*fresh, w);
  return admit_result::started;
}

bool flight_table::detach(waiter_base& w) noexcept {
  // Not admitted yet, so not linked: nothing to leave. Once set, the shard
  // never changes, and its lock orders this with admit()'s linking.
  const std::uint8_t index = w.shard.load(std::memory_order_acquire);
  if (index == waiter_base::no_shard) return false;
  shard& s = shards_[index];
  std::lock_guard lock(s.mutex);
  const waiter_state state = w.state.load(std::memory_order_acquire);
  // Completing or ready: its deliverer (or close()) owns it, and its flight
  // may be gone.
  if (state != waiter_state::parked && state != waiter_state::initiating) return false;
  flight_node* f = w.flight;
  // Unlinked by close() or shut_down(), or its flight finished: the
  // deliverer marks every waiter and then takes this mutex (sync()) before
  // any can resume, so the flight is alive while we hold the mutex here.
  if (f == nullptr || !f->running()) return false;
  unlink(*f, w);
  ++s.counters.callers_cancelled;
  if (f->waiters == 0 && f->state != flight_state::abandoned) {
    if (options_.keep_abandoned_loaders)
      ++s.counters.loaders_kept;
    else
      abandon(s, *f);  // unlinked at once: the next caller starts afresh
  }
  return true;
}

waiter_list flight_table::finish(flight_node& f, bool failed) noexcept {
  const std::uint32_t index = shard_index(f.hash);
  shard& s = shards_[index];
  std::lock_guard lock(s.mutex);
  // An abandoned loader's error (usually its own cancellation) reaches no one.
  if (failed && f.state != flight_state::abandoned) ++s.counters.loader_failures;
  erase_linked(s, f);
  const bool listed = !s.refuses();
  f.state = flight_state::finished;
  if (listed) live_erase(s, f);
  // The waiters are marked by the deliverer, outside the mutex: holding it
  // is O(1) however many callers wait.
  waiter_list list{f.head, f.waiters, index, f.cancellable != 0};
  f.head = f.tail = nullptr;
  f.waiters = 0;
  return list;
}

void flight_table::sync(const waiter_list& finished) noexcept {
  std::lock_guard lock(shards_[finished.shard].mutex);
}

bool flight_table::forget(const key_probe& key) {
  shard& s = shards_[shard_index(key.hash)];
  std::lock_guard lock(s.mutex);
  auto it = s.flights.find(key);
  if (it == s.flights.end()) return false;
  flight_node& f = **it;
  erase_linked(s, f);
  f.state = flight_state::forgotten;
  ++s.counters.forgotten;
  return true;
}

void flight_table::take_all_waiters(shard& s, waiter_list& all, waiter_base*& tail) noexcept {
  for (flight_node* f = s.live_head; f != nullptr; f = f->live_next) {
    for (waiter_base* w = f->head; w != nullptr; w = w->next) w->flight = nullptr;
    if (f->head != nullptr) {
      if (tail != nullptr) {
        tail->next = f->head;
        f->head->prev = tail;
      } else {
        all.head = f->head;
      }
      tail = f->tail;
      all.count += f->waiters;
    }
    f->head = f->tail = nullptr;
    f->waiters = 0;
  }
  unreserve_linked(s.flights.size());
  s.flights.clear();
}

waiter_list flight_table::close() noexcept {
  waiter_list aborted;
  waiter_base* tail = nullptr;
  for (shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    if (s.refuses()) continue;
    take_all_waiters(s, aborted, tail);  // clears the set: no flight is linked now
    while (s.live_head != nullptr) {
      flight_node& f = *s.live_head;
      live_erase(s, f);
      if (f.state == flight_state::linked) f.state = flight_state::forgotten;
      if (f.state != flight_state::abandoned && !options_.keep_abandoned_loaders) abandon(s, f);
    }
    s.closed = true;
  }
  return aborted;
}

waiter_list flight_table::shut_down() noexcept {
  waiter_list parked;
  waiter_base* tail = nullptr;
  for (shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    if (s.shut_down) continue;
    take_all_waiters(s, parked, tail);
    while (s.live_head != nullptr) {
      flight_node& f = *s.live_head;
      live_erase(s, f);
      if (f.state == flight_state::linked) f.state = flight_state::forgotten;
    }
    s.shut_down = true;
  }
  return parked;
}

Stats flight_table::stats() const {
  Stats total;
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    total.calls += s.counters.calls;
    total.flights_started += s.counters.flights_started;
    total.joins += s.counters.joins;
    total.callers_cancelled += s.counters.callers_cancelled;
    total.loader_failures += s.counters.loader_failures;
    total.loaders_cancelled += s.counters.loaders_cancelled;
    total.loaders_kept += s.counters.loaders_kept;
    total.forgotten += s.counters.forgotten;
    total.rejected += s.counters.rejected;
  }
  total.in_flight = in_flight();
  return total;
}

std::size_t flight_table::in_flight() const {
  // Bounded, the count of places taken is exact: never above the bound.
  // Unbounded, the shards are summed one after another, each at its own
  // instant.
  if (bounded_) return linked_.load(std::memory_order_relaxed);
  std::size_t n = 0;
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.flights.size();
  }
  return n;
}

}  // namespace singleflight::detail
