// One call of a loader in progress, with the callers waiting for it.
#ifndef SINGLEFLIGHT_DETAIL_FLIGHT_HPP
#define SINGLEFLIGHT_DETAIL_FLIGHT_HPP

#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace singleflight::detail {

struct waiter_base;

/// Where a flight is in its life. Every flight starts `linked`; each arrow is
/// taken under the core's mutex:
///
///   linked ----forget()----> forgotten ---+
///     |  \                                 +--> finished (the loader ended)
///     |   +--last caller left--> abandoned +
///     +----------------------------------------^
///
/// `linked`: in the core's table, new callers join it. `forgotten`: out of
/// the table, its callers still wait for it. `abandoned`: out of the table,
/// every caller left and its loader was cancelled (or the group was closed).
/// While not `finished`, a flight is in the core's live list, unless the
/// core is closed or shut down (which empties that list).
enum class flight_state : std::uint8_t { linked, forgotten, abandoned, finished };

class flight_base {
 public:
  flight_base(std::size_t h, std::uint32_t strand) noexcept : hash(h), strand_index(strand) {}
  flight_base(const flight_base&) = delete;
  flight_base& operator=(const flight_base&) = delete;
  virtual ~flight_base() = default;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  bool running() const noexcept { return state != flight_state::finished; }

  // Guarded by the core's mutex, but for the constants and loader_signal,
  // which only the flight's strand touches.
  const std::size_t hash;
  const std::uint32_t strand_index;  // which of the core's loader strands
  flight_state state = flight_state::linked;
  waiter_base* head = nullptr;
  waiter_base* tail = nullptr;
  std::size_t waiters = 0;
  std::size_t cancellable = 0;  // waiters ever linked with a canceller
  flight_base* live_prev = nullptr;  // the core's list of running flights
  flight_base* live_next = nullptr;
  // Set under the mutex when the loader is cancelled: a cancellation that
  // reaches the strand before the loader has started is emitted once it has.
  std::atomic<bool> cancel_requested{false};
  // Only the flight's strand touches these.
  bool loader_started = false;
  bool cancellation_emitted = false;
  boost::asio::cancellation_signal loader_signal;

 protected:
  /// Frees the flight (with the allocator it was made with).
  virtual void destroy() noexcept = 0;

 private:
  std::atomic<std::size_t> refs_{1};
};

/// Emits the loader's terminal cancellation, once, if the loader has started
/// and not finished. On the flight's strand only.
void emit_cancellation(flight_base& f) noexcept;

/// Owns one reference to a flight (adopted: the caller has added it).
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

 private:
  flight_base* f_;
};

}  // namespace singleflight::detail

#endif
