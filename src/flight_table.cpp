// SPDX-License-Identifier: BSL-1.0
#include <singleflight/detail/flight_table.hpp>

namespace singleflight::detail {

flight_table::flight_table(const Options& opts, loader_canceller canceller) : options_(opts), canceller_(canceller) {}

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

void flight_table::unlink_flight(flight_node& f) noexcept {
  if (f.state == flight_state::linked) table_.erase(&f);
}

void flight_table::live_push(flight_node& f) noexcept {
  f.live_prev = nullptr;
  f.live_next = live_head_;
  if (live_head_ != nullptr) live_head_->live_prev = &f;
  live_head_ = &f;
}

void flight_table::live_erase(flight_node& f) noexcept {
  if (f.live_prev != nullptr)
    f.live_prev->live_next = f.live_next;
  else
    live_head_ = f.live_next;
  if (f.live_next != nullptr) f.live_next->live_prev = f.live_prev;
  f.live_prev = f.live_next = nullptr;
}

void flight_table::abandon(flight_node& f) noexcept {
  unlink_flight(f);
  f.state = flight_state::abandoned;
  ++counters_.loaders_cancelled;
  f.cancel_requested.store(true, std::memory_order_release);
  f.add_ref();  // for the canceller
  canceller_.cancel(canceller_.context, f);
}

flight_table::admit_result flight_table::admit(const key_probe& key, waiter_base& w, flight_node* fresh) {
  std::lock_guard lock(mutex_);
  if (closed()) return admit_result::closed;
  if (auto it = table_.find(key); it != table_.end()) {
    ++counters_.calls;
    ++counters_.joins;
    link(**it, w);
    return admit_result::joined;
  }
  if (table_.size() >= options_.max_in_flight) {
    ++counters_.calls;
    ++counters_.rejected;
    return admit_result::rejected;
  }
  if (fresh == nullptr) return admit_result::need_flight;
  table_.insert(fresh);  // may grow the table (amortized; it never shrinks)
  ++counters_.calls;
  ++counters_.flights_started;
  fresh->state = flight_state::linked;
  live_push(*fresh);
  link(*fresh, w);
  return admit_result::started;
}

bool flight_table::detach(waiter_base& w) noexcept {
  std::lock_guard lock(mutex_);
  const waiter_state s = w.state.load(std::memory_order_acquire);
  // Completing or ready: its deliverer (or close()) owns it, and its flight
  // may be gone.
  if (s != waiter_state::parked && s != waiter_state::initiating) return false;
  flight_node* f = w.flight;
  // Unlinked by close() or shut_down(), or its flight finished: the
  // deliverer marks every waiter and then takes this mutex before any can
  // resume, so the flight is alive while we hold the mutex here.
  if (f == nullptr || !f->running()) return false;
  unlink(*f, w);
  ++counters_.callers_cancelled;
  if (f->waiters == 0 && f->state != flight_state::abandoned) {
    if (options_.keep_abandoned_loaders)
      ++counters_.loaders_kept;
    else
      abandon(*f);  // unlinked at once: the next caller starts afresh
  }
  return true;
}

waiter_list flight_table::finish(flight_node& f, bool failed) noexcept {
  std::lock_guard lock(mutex_);
  // An abandoned loader's error (usually its own cancellation) reaches no one.
  if (failed && f.state != flight_state::abandoned) ++counters_.loader_failures;
  unlink_flight(f);
  const bool listed = !closed();
  f.state = flight_state::finished;
  if (listed) live_erase(f);
  // The waiters are marked by the deliverer, outside the mutex: holding it
  // is O(1) however many callers wait.
  waiter_list list{f.head, f.waiters, f.cancellable != 0};
  f.head = f.tail = nullptr;
  f.waiters = 0;
  return list;
}

void flight_table::sync() noexcept { std::lock_guard lock(mutex_); }

bool flight_table::forget(const key_probe& key) {
  std::lock_guard lock(mutex_);
  auto it = table_.find(key);
  if (it == table_.end()) return false;
  flight_node& f = **it;
  table_.erase(it);
  f.state = flight_state::forgotten;
  ++counters_.forgotten;
  return true;
}

waiter_list flight_table::take_all_waiters() noexcept {
  waiter_list all;
  waiter_base* tail = nullptr;
  for (flight_node* f = live_head_; f != nullptr; f = f->live_next) {
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
  table_.clear();
  return all;
}

waiter_list flight_table::close() noexcept {
  std::lock_guard lock(mutex_);
  if (closed()) return {};
  waiter_list aborted = take_all_waiters();  // clears the table: no flight is linked now
  while (live_head_ != nullptr) {
    flight_node& f = *live_head_;
    live_erase(f);
    if (f.state == flight_state::linked) f.state = flight_state::forgotten;
    if (f.state != flight_state::abandoned && !options_.keep_abandoned_loaders) abandon(f);
  }
  closed_ = true;
  return aborted;
}

waiter_list flight_table::shut_down() noexcept {
  std::lock_guard lock(mutex_);
  if (shut_down_) return {};
  waiter_list parked = take_all_waiters();
  while (live_head_ != nullptr) {
    flight_node& f = *live_head_;
    live_erase(f);
    if (f.state == flight_state::linked) f.state = flight_state::forgotten;
  }
  shut_down_ = true;
  return parked;
}

Stats flight_table::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = counters_;
  s.in_flight = table_.size();
  return s;
}

std::size_t flight_table::in_flight() const {
  std::lock_guard lock(mutex_);
  return table_.size();
}

}  // namespace singleflight::detail
