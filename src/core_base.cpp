#include <singleflight/detail/core_base.hpp>

#include "registry.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/system_error.hpp>

namespace singleflight::detail {

namespace {
boost::asio::execution_context& context_of(const boost::asio::any_io_executor& ex) {
  return boost::asio::query(ex, boost::asio::execution::context);
}
}  // namespace

std::exception_ptr operation_aborted_error() {
  return std::make_exception_ptr(
      boost::system::system_error(boost::asio::error::operation_aborted));
}

std::exception_ptr group_error(errc e) {
  return std::make_exception_ptr(boost::system::system_error(make_error_code(e)));
}

core_base::core_base(boost::asio::any_io_executor ex, const Options& opts)
    : options_(opts),
      executor_(std::move(ex)),
      strand_(std::in_place, executor_),
      registry_(boost::asio::use_service<group_service>(context_of(executor_)).registry()) {
  if (!registry_->add(this)) shut_down();
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
  f.linked = true;
  f.live = true;
  f.live_next = live_head_;
  if (live_head_ != nullptr) live_head_->live_prev = &f;
  live_head_ = &f;
  ++counters_.flights_started;
}

void core_base::live_erase(flight_base& f) noexcept {
  if (!f.live) return;
  if (f.live_prev != nullptr)
    f.live_prev->live_next = f.live_next;
  else
    live_head_ = f.live_next;
  if (f.live_next != nullptr) f.live_next->live_prev = f.live_prev;
  f.live_prev = f.live_next = nullptr;
  f.live = false;
}

void core_base::cancel_loader(flight_base& f) noexcept {
  f.abandoned = true;
  ++counters_.loaders_cancelled;
  f.add_ref();
  // The signal belongs to the loader's coroutine, which runs on the strand.
  boost::asio::post(strand_->executor(), [ref = flight_ref(&f)] {
    flight_base& fl = *ref.get();
    if (!fl.done) fl.loader_signal.emit(boost::asio::cancellation_type::terminal);
  });
}

bool core_base::detach(waiter_base& w) noexcept {
  // A waiter that is no longer parked is being completed; its core may even
  // be gone (the group was destroyed), so look no further.
  if (w.state.load(std::memory_order_acquire) != waiter_state::parked) return false;
  std::lock_guard lock(mutex_);
  if (w.state.load(std::memory_order_relaxed) != waiter_state::parked) return false;
  flight_base& f = *w.flight;
  // Finished: the deliverer owns the waiter. It marks every waiter
  // completing and then takes this mutex once before any waiter can resume,
  // so the flight is alive while we hold the mutex here.
  if (f.done) return false;
  unlink_waiter(f, w);
  w.state.store(waiter_state::completing, std::memory_order_release);
  ++counters_.callers_cancelled;
  if (f.waiters == 0 && !f.abandoned) {
    if (options_.keep_abandoned_loaders) {
      ++counters_.loaders_kept;
    } else {
      // Unlink at once: the next caller starts a new flight rather than
      // joining one that is being cancelled.
      if (f.linked) {
        table_erase(f);
        f.linked = false;
      }
      cancel_loader(f);
    }
  }
  return true;
}

waiter_list core_base::finish(flight_base& f, bool failed) noexcept {
  std::lock_guard lock(mutex_);
  f.done = true;
  if (f.linked) {
    table_erase(f);
    f.linked = false;
  }
  live_erase(f);
  // An abandoned loader's error (usually its own cancellation) reaches no one.
  if (failed && !f.abandoned) ++counters_.loader_failures;
  // The waiters are marked by the deliverer, outside the mutex: holding it
  // is O(1) however many callers wait.
  waiter_list list{f.head, f.waiters};
  f.head = f.tail = nullptr;
  f.waiters = 0;
  return list;
}

void core_base::sync_with_detach() noexcept { std::lock_guard lock(mutex_); }

waiter_list core_base::take_all_waiters() noexcept {
  waiter_list all;
  waiter_base* tail = nullptr;
  for (flight_base* f = live_head_; f != nullptr; f = f->live_next) {
    for (waiter_base* w = f->head; w != nullptr; w = w->next) {
      w->flight = nullptr;
      w->state.store(waiter_state::completing, std::memory_order_release);
    }
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
    f->linked = false;
  }
  table_clear();
  return all;
}

void core_base::close() noexcept {
  registry_->remove(this);
  waiter_list aborted;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    aborted = take_all_waiters();
    while (live_head_ != nullptr) {
      flight_base& f = *live_head_;
      if (!f.done && !f.abandoned && !options_.keep_abandoned_loaders) cancel_loader(f);
      live_erase(f);
    }
  }
  if (aborted.head == nullptr) return;
  const std::exception_ptr error = operation_aborted_error();
  for (waiter_base* w = aborted.head; w != nullptr;) {
    waiter_base* next = w->next;
    w->error = error;
    w->resume(w, true);
    w = next;
  }
}

waiter_list core_base::shut_down() noexcept {
  std::optional<loader_strand> strand;
  boost::asio::any_io_executor executor;
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  waiter_list parked = take_all_waiters();
  while (live_head_ != nullptr) live_erase(*live_head_);
  strand.swap(strand_);
  executor.swap(executor_);
  return parked;
}

bool core_base::forget_locked(flight_base& f) noexcept {
  if (!f.linked) return false;
  table_erase(f);
  f.linked = false;
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
