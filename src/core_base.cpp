#include <singleflight/detail/core_base.hpp>

#include "registry.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <utility>

namespace singleflight::detail {

namespace {
boost::asio::execution_context& context_of(const boost::asio::any_io_executor& ex) {
  return boost::asio::query(ex, boost::asio::execution::context);
}

std::vector<loader_strand> make_strands(const boost::asio::any_io_executor& ex, std::size_t n) {
  std::vector<loader_strand> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.emplace_back(ex);
  return v;
}
}  // namespace

const std::exception_ptr& operation_aborted_error() noexcept {
  static const std::exception_ptr e =
      std::make_exception_ptr(boost::system::system_error(boost::asio::error::operation_aborted));
  return e;
}

const std::exception_ptr& group_error(errc e) noexcept {
  switch (e) {
    case errc::too_many_flights:
      break;
  }
  static const std::exception_ptr too_many =
      std::make_exception_ptr(boost::system::system_error(make_error_code(errc::too_many_flights)));
  return too_many;
}

core_base::core_base(boost::asio::any_io_executor ex, const Options& opts)
    : options_(opts),
      executor_(std::move(ex)),
      strands_(make_strands(executor_, std::max<std::size_t>(opts.loader_strands, 1))),
      strand_count_(static_cast<std::uint32_t>(strands_.size())),
      registry_(boost::asio::use_service<group_service>(context_of(executor_)).registry()) {
  if (!registry_->add(this)) (void)shut_down();
}

core_base::~core_base() = default;

void core_base::link_waiter(flight_base& f, waiter_base& w) noexcept {
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

void core_base::unlink_waiter(flight_base& f, waiter_base& w) noexcept {
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

void core_base::start_flight(flight_base& f) noexcept {
  f.state = flight_state::linked;
  f.live_next = live_head_;
  if (live_head_ != nullptr) live_head_->live_prev = &f;
  live_head_ = &f;
  ++counters_.flights_started;
}

void core_base::unlink_flight(flight_base& f) noexcept {
  if (f.state == flight_state::linked) table_erase(f);
}

void core_base::live_erase(flight_base& f) noexcept {
  if (f.live_prev != nullptr)
    f.live_prev->live_next = f.live_next;
  else
    live_head_ = f.live_next;
  if (f.live_next != nullptr) f.live_next->live_prev = f.live_prev;
  f.live_prev = f.live_next = nullptr;
}

void core_base::cancel_loader(flight_base& f) noexcept {
  unlink_flight(f);
  f.state = flight_state::abandoned;
  ++counters_.loaders_cancelled;
  f.cancel_requested.store(true, std::memory_order_release);
  if (shut_down_) return;  // no strand left to emit on; the loader goes with its context
  f.add_ref();
  // The signal belongs to the loader's coroutine, which runs on its strand.
  boost::asio::post(strands_[f.strand_index].executor(), [ref = flight_ref(&f)] {
    emit_cancellation(*ref.get());
  });
}

void emit_cancellation(flight_base& f) noexcept {
  // `state` is written under the mutex by finish(), which runs on this
  // strand too: no race with this read.
  if (!f.loader_started || f.cancellation_emitted || !f.running()) return;
  f.cancellation_emitted = true;
  f.loader_signal.emit(boost::asio::cancellation_type::terminal);
}

bool core_base::detach(waiter_base& w) noexcept {
  std::lock_guard lock(mutex_);
  const waiter_state s = w.state.load(std::memory_order_acquire);
  // Completing or ready: its deliverer (or close()) owns it, and its flight
  // may be gone.
  if (s != waiter_state::parked && s != waiter_state::initiating) return false;
  flight_base* f = w.flight;
  // Unlinked by close() or shut_down(), or its flight finished: the
  // deliverer marks every waiter and then takes this mutex before any can
  // resume, so the flight is alive while we hold the mutex here.
  if (f == nullptr || !f->running()) return false;
  unlink_waiter(*f, w);
  ++counters_.callers_cancelled;
  if (f->waiters == 0 && f->state != flight_state::abandoned) {
    if (options_.keep_abandoned_loaders) {
      ++counters_.loaders_kept;
    } else {
      // Unlinked at once: the next caller starts a new flight rather than
      // joining one that is being cancelled.
      cancel_loader(*f);
    }
  }
  return true;
}

waiter_list core_base::finish(flight_base& f, bool failed) noexcept {
  std::lock_guard lock(mutex_);
  // An abandoned loader's error (usually its own cancellation) reaches no one.
  if (failed && f.state != flight_state::abandoned) ++counters_.loader_failures;
  unlink_flight(f);
  const bool listed = !closed();  // close() and shut_down() empty the live list
  f.state = flight_state::finished;
  if (listed) live_erase(f);
  // The waiters are marked by the deliverer, outside the mutex: holding it
  // is O(1) however many callers wait.
  waiter_list list{f.head, f.waiters, f.cancellable != 0};
  f.head = f.tail = nullptr;
  f.waiters = 0;
  return list;
}

void core_base::sync_with_detach() noexcept { std::lock_guard lock(mutex_); }

waiter_list core_base::take_all_waiters() noexcept {
  waiter_list all;
  waiter_base* tail = nullptr;
  for (flight_base* f = live_head_; f != nullptr; f = f->live_next) {
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
  table_clear();
  return all;
}

void core_base::close() noexcept {
  registry_->remove(this);
  waiter_list aborted;
  {
    std::lock_guard lock(mutex_);
    if (closed()) return;
    aborted = take_all_waiters();  // clears the table: no flight is linked now
    while (live_head_ != nullptr) {
      flight_base& f = *live_head_;
      live_erase(f);
      if (f.state == flight_state::linked) f.state = flight_state::forgotten;
      if (f.state != flight_state::abandoned && !options_.keep_abandoned_loaders) cancel_loader(f);
    }
    closed_ = true;
  }
  const std::exception_ptr& error = operation_aborted_error();
  for (waiter_base* w = aborted.head; w != nullptr;) {
    waiter_base* next = w->next;  // completing w may free it
    w->error = error;
    w->hand_over(true);
    w = next;
  }
}

waiter_list core_base::shut_down() noexcept {
  std::vector<loader_strand> strands;
  boost::asio::any_io_executor executor;
  std::lock_guard lock(mutex_);
  if (shut_down_) return {};
  const bool was_closed = closed_;
  waiter_list parked = was_closed ? waiter_list{} : take_all_waiters();
  while (live_head_ != nullptr) {
    flight_base& f = *live_head_;
    live_erase(f);
    if (f.state == flight_state::linked) f.state = flight_state::forgotten;
  }
  shut_down_ = true;
  strands.swap(strands_);
  executor.swap(executor_);
  return parked;
}

bool core_base::forget_locked(flight_base& f) noexcept {
  if (f.state != flight_state::linked) return false;
  table_erase(f);
  f.state = flight_state::forgotten;
  ++counters_.forgotten;
  return true;
}

Stats core_base::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = counters_;
  s.in_flight = table_size();
  return s;
}

std::size_t core_base::in_flight() const {
  std::lock_guard lock(mutex_);
  return table_size();
}

}  // namespace singleflight::detail
