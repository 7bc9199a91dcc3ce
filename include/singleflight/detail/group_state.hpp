// SPDX-License-Identifier: BSL-1.0
// group_state: what a group shares with its flights and waiting callers,
// kept alive by their references (so it may outlive the AsyncGroup object),
// with no Key or Value type in it: the flight table (every rule about flights
// and waiters, and its sharded locks, live there), the loaders' strands, the
// loaders' cancellation, and the registration that lets an execution
// context's shutdown reach waiting callers. Compiled once, in the library.
#ifndef SINGLEFLIGHT_DETAIL_GROUP_STATE_HPP
#define SINGLEFLIGHT_DETAIL_GROUP_STATE_HPP

#include <singleflight/detail/flight.hpp>
#include <singleflight/detail/flight_table.hpp>
#include <singleflight/detail/loader_strand.hpp>
#include <singleflight/detail/waiter.hpp>
#include <singleflight/error.hpp>
#include <singleflight/options.hpp>
#include <singleflight/stats.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

namespace singleflight::detail {

class group_registry;

class group_state {
 public:
  group_state(boost::asio::any_io_executor ex, const Options& opts);
  group_state(const group_state&) = delete;
  group_state& operator=(const group_state&) = delete;
  virtual ~group_state();

  // The group, each running flight and each waiter with a canceller hold a
  // reference.
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const Options& options() const noexcept { return options_; }
  flight_table& table() noexcept { return table_; }

  /// The strand a flight's loader runs on. Valid until the execution
  /// context shuts down; the table refuses new flights from then on.
  const loader_strand& strand(std::uint32_t index) const noexcept { return strands_[index]; }
  std::uint32_t strand_for(std::size_t hash) const noexcept {
    // The table indexes with the hash's low bits; use the high ones here.
    return static_cast<std::uint32_t>((hash >> 40) % strand_count_);
  }

  /// A cancelled caller leaves its flight. True if it was unlinked: the
  /// caller must then be completed with operation_aborted.
  bool detach(waiter_base& w) noexcept;

  /// The group is being destroyed: every waiting caller is completed with
  /// operation_aborted (posted) and unfinished loaders are cancelled.
  void close() noexcept;

  /// The execution context shuts down: unlinks every waiting caller, for the
  /// registry to destroy, and lets go of the executor and strands, which
  /// must not outlive their context.
  waiter_list shut_down() noexcept;

  Stats stats() const { return table_.stats(); }
  std::size_t in_flight() const { return table_.in_flight(); }

 private:
  /// Posts the terminal cancellation of a loader to its strand; adopts the
  /// reference the table added. Called by the table, under its mutex.
  static void cancel_loader(void* self, flight_node& f) noexcept;

  std::atomic<std::size_t> refs_{1};
  const Options options_;
  flight_table table_;
  boost::asio::any_io_executor executor_;
  std::vector<loader_strand> strands_;
  std::uint32_t strand_count_;
  std::shared_ptr<group_registry> registry_;
};

/// Owns one reference to a core (adopted).
class group_state_ref {
 public:
  group_state_ref() noexcept = default;
  explicit group_state_ref(group_state* c) noexcept : c_(c) {}
  group_state_ref(group_state_ref&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  group_state_ref& operator=(group_state_ref&& o) noexcept {
    if (this != &o) {
      reset();
      c_ = o.c_;
      o.c_ = nullptr;
    }
    return *this;
  }
  ~group_state_ref() { reset(); }
  void reset() noexcept {
    if (c_) c_->release();
    c_ = nullptr;
  }
  group_state* get() const noexcept { return c_; }
  explicit operator bool() const noexcept { return c_ != nullptr; }

 private:
  group_state* c_ = nullptr;
};

/// The exception every caller that leaves early receives: one object, made
/// once.
const std::exception_ptr& operation_aborted_error() noexcept;
/// The exception of an `errc` failure, made once per code.
const std::exception_ptr& group_error(errc e) noexcept;

}  // namespace singleflight::detail

#endif
