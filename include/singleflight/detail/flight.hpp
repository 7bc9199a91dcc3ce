// SPDX-License-Identifier: BSL-1.0
// A flight as the Asio layer sees it: the table's node, plus the loader's
// cancellation signal, which only the flight's strand touches.
#ifndef SINGLEFLIGHT_DETAIL_FLIGHT_HPP
#define SINGLEFLIGHT_DETAIL_FLIGHT_HPP

#include <singleflight/detail/flight_table.hpp>

#include <boost/asio/cancellation_signal.hpp>

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

 protected:
  ~flight_base() = default;
};

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
