// The non-template half of a group: locking, waiter lists, cancellation,
// statistics, and the registration that lets an execution context's shutdown
// reach parked callers. Compiled once, in the library.
#ifndef SINGLEFLIGHT_DETAIL_CORE_BASE_HPP
#define SINGLEFLIGHT_DETAIL_CORE_BASE_HPP

#include <singleflight/detail/flight.hpp>
#include <singleflight/detail/loader_strand.hpp>
#include <singleflight/detail/waiter.hpp>
#include <singleflight/error.hpp>
#include <singleflight/options.hpp>
#include <singleflight/stats.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>

namespace singleflight::detail {

class group_registry;

/// A list of waiters handed over by the core, in arrival order.
struct waiter_list {
  waiter_base* head = nullptr;
  std::size_t count = 0;
};

class core_base : public std::enable_shared_from_this<core_base> {
 public:
  core_base(boost::asio::any_io_executor ex, const Options& opts);
  core_base(const core_base&) = delete;
  core_base& operator=(const core_base&) = delete;
  virtual ~core_base();

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const loader_strand& strand() const noexcept { return *strand_; }

  /// A cancelled caller leaves its flight. True if it was still parked: the
  /// caller must then be completed with operation_aborted.
  bool detach(waiter_base& w) noexcept;

  /// The loader of `f` has finished: unlinks `f` and hands over its waiters.
  /// The caller marks each one completing, then calls sync_with_detach()
  /// before resuming any.
  waiter_list finish(flight_base& f, bool failed) noexcept;

  /// Waits out any detach() that saw a waiter of a finished flight still
  /// parked: after it, the flight may be freed.
  void sync_with_detach() noexcept;

  /// The group is being destroyed: every parked caller is completed with
  /// operation_aborted (posted) and unfinished loaders are cancelled.
  void close() noexcept;

  /// The execution context shuts down: unlinks every parked caller, for the
  /// registry to destroy, and lets go of the executor and strand, which must
  /// not outlive their context.
  waiter_list shut_down() noexcept;

  bool forget_locked(flight_base& f) noexcept;
  Stats stats() const;
  std::size_t in_flight() const;

 protected:
  // With mutex_ held.
  virtual void table_erase(flight_base& f) noexcept = 0;
  virtual void table_clear() noexcept = 0;
  virtual std::size_t table_size() const noexcept = 0;

  void link_waiter(flight_base& f, waiter_base& w) noexcept;
  void start_flight(flight_base& f) noexcept;  // live list, counters
  /// Posts a terminal cancellation of f's loader to the strand.
  void cancel_loader(flight_base& f) noexcept;
  bool closed() const noexcept { return closed_ || shut_down_; }
  bool is_shut_down() const noexcept { return shut_down_; }

  mutable std::mutex mutex_;
  Stats counters_;
  const Options options_;

 private:
  void unlink_waiter(flight_base& f, waiter_base& w) noexcept;
  void live_erase(flight_base& f) noexcept;
  /// Unlinks every waiter of every unfinished flight; mutex_ held.
  waiter_list take_all_waiters() noexcept;

  boost::asio::any_io_executor executor_;
  std::optional<loader_strand> strand_;
  std::shared_ptr<group_registry> registry_;
  flight_base* live_head_ = nullptr;
  bool closed_ = false;
  bool shut_down_ = false;
};

/// The exception every caller that leaves early receives.
std::exception_ptr operation_aborted_error();
/// The exception of an `errc` failure.
std::exception_ptr group_error(errc e);

}  // namespace singleflight::detail

#endif
