// SPDX-License-Identifier: BSL-1.0
// A flight as the Asio layer sees it: the table's node, plus the loader's
// cancellation signal, which only the flight's strand touches, and the unit
// of work that keeps the group's executor busy while the loader waits.
#ifndef SINGLEFLIGHT_DETAIL_FLIGHT_HPP
#define SINGLEFLIGHT_DETAIL_FLIGHT_HPP

#include <singleflight/detail/flight_table.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace singleflight::detail {

class flight_base : public flight_node {
 public:
  using flight_node::flight_node;

  // Only the flight's strand touches these.
  bool loader_started = false;
  bool cancellation_emitted = false;
  boost::asio::cancellation_signal loader_signal;

  // While the loader is suspended, one unit of outstanding work on the
  // group's executor keeps its run() from returning, as co_spawn's does. A
  // loader that ends before it first suspends never takes it.
  enum class work_state : std::uint8_t {
    none,   // not taken
    taken,  // `work` holds it; the loader's end lets it go
    ended   // the loader's thread has ended: nothing may take it any more
  };
  std::atomic<work_state> work_taken{work_state::none};
  boost::asio::any_io_executor work;  // written before `taken`, read after

 protected:
  ~flight_base() = default;
};

/// After the loader first suspends (on the flight's strand): takes the unit
/// of work, unless the loader's thread has ended meanwhile, on any thread.
void keep_executor_busy(flight_base& f, const boost::asio::any_io_executor& ex) noexcept;

/// The loader's thread ends (or is destroyed unfinished): lets go of the
/// unit of work if it was taken, and keeps it from being taken later.
void stop_keeping_executor_busy(flight_base& f) noexcept;

/// Emits the loader's terminal cancellation, once, if the loader has started
/// and not finished. On the flight's strand only.
void emit_cancellation(flight_base& f) noexcept;

/// Owns one reference to a flight (adopted: the caller has added it).
class flight_ref {
 public:
  explicit flight_ref(flight_node* f) noexcept : f_(f) {}
  flight_ref(flight_ref&& o) noexcept : f_(o.f_) { o.f_ = nullptr; }
  flight_ref(const flight_ref& o) noexcept : f_(o.f_) {
    if (f_) f_->add_ref();
  }
  flight_ref& operator=(flight_ref) = delete;
  ~flight_ref() {
    if (f_) f_->release();
  }
  flight_node* get() const noexcept { return f_; }

 private:
  flight_node* f_;
};

}  // namespace singleflight::detail

#endif
