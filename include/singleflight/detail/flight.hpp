// One call of a loader in progress, with the callers waiting for it.
#ifndef SINGLEFLIGHT_DETAIL_FLIGHT_HPP
#define SINGLEFLIGHT_DETAIL_FLIGHT_HPP

#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <cstddef>

namespace singleflight::detail {

struct waiter_base;

class flight_base {
 public:
  explicit flight_base(std::size_t h) noexcept : hash(h) {}
  flight_base(const flight_base&) = delete;
  flight_base& operator=(const flight_base&) = delete;
  virtual ~flight_base() = default;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // All below are guarded by the core's mutex, but for loader_signal, which
  // only the group's strand touches.
  const std::size_t hash;
  waiter_base* head = nullptr;
  waiter_base* tail = nullptr;
  std::size_t waiters = 0;
  flight_base* live_prev = nullptr;  // the core's list of unfinished flights
  flight_base* live_next = nullptr;
  bool linked = false;     // in the core's table: new callers join it
  bool live = false;       // in the core's live list
  bool done = false;       // the loader has finished
  bool abandoned = false;  // every caller left and the loader was cancelled
  boost::asio::cancellation_signal loader_signal;

 private:
  std::atomic<std::size_t> refs_{1};
};

/// Owns one reference to a flight (adopted: the caller has added it); the
/// loader's completion handler holds one so that the flight, and the
/// cancellation signal the loader's coroutine is bound to, outlive the loader.
class flight_ref {
 public:
  explicit flight_ref(flight_base* f) noexcept : f_(f) {}
  flight_ref(flight_ref&& o) noexcept : f_(o.f_) { o.f_ = nullptr; }
  flight_ref(const flight_ref& o) noexcept : f_(o.f_) {
    if (f_) f_->add_ref();
  }
  flight_ref& operator=(flight_ref) = delete;
  ~flight_ref() {
    if (f_) f_->release();
  }
  flight_base* get() const noexcept { return f_; }

  template <class... Args>
  void operator()(Args&&...) const noexcept {}

 private:
  flight_base* f_;
};

}  // namespace singleflight::detail

#endif
