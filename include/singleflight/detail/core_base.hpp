// The non-template half of a group: locking, waiter lists, cancellation,
// statistics, the loaders' strands, and the registration that lets an
// execution context's shutdown reach parked callers. Compiled once, in the
// library.
//
// Who guards what:
// | what                                        | guarded by                    |
// |---------------------------------------------|-------------------------------|
// | the table, live list, counters, closed flags | mutex_                        |
// | a flight's state, waiter list and counts     | mutex_                        |
// | a waiter's links (prev/next/flight)          | mutex_ while linked; then its |
// |                                             | deliverer or canceller alone  |
// | a waiter's state                            | atomic (see waiter_state)     |
// | a flight's loader_signal                    | the flight's loader strand    |
// | refs_                                       | atomic                        |
#ifndef SINGLEFLIGHT_DETAIL_CORE_BASE_HPP
#define SINGLEFLIGHT_DETAIL_CORE_BASE_HPP

#include <singleflight/detail/flight.hpp>
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
#include <mutex>
#include <vector>

namespace singleflight::detail {

class group_registry;

/// A list of waiters handed over by the core, in arrival order.
struct waiter_list {
  waiter_base* head = nullptr;
  std::size_t count = 0;
  /// Some waiter had a canceller: the deliverer marks them all, then calls
  /// sync_with_detach(), before it resumes any.
  bool cancellable = false;
};

class core_base {
 public:
  core_base(boost::asio::any_io_executor ex, const Options& opts);
  core_base(const core_base&) = delete;
  core_base& operator=(const core_base&) = delete;
  virtual ~core_base();

  // The group, each running flight and each waiter with a canceller hold a
  // reference.
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  const Options& options() const noexcept { return options_; }

  /// The strand a flight's loader runs on; valid until shut_down().
  const loader_strand& strand(std::uint32_t index) const noexcept { return strands_[index]; }
  std::uint32_t strand_for(std::size_t hash) const noexcept {
    // The table indexes with the hash's low bits; use the high ones here.
    return static_cast<std::uint32_t>((hash >> 40) % strand_count_);
  }

  /// A cancelled caller leaves its flight. True if this call unlinked it:
  /// the caller must then be completed with operation_aborted.
  bool detach(waiter_base& w) noexcept;

  /// The loader of `f` has finished: unlinks `f` and hands over its waiters.
  waiter_list finish(flight_base& f, bool failed) noexcept;

  /// Waits out any detach() that saw a waiter of a finished flight still
  /// linked: after it, the flight may be freed.
  void sync_with_detach() noexcept;

  /// The group is being destroyed: every waiting caller is completed with
  /// operation_aborted (posted) and unfinished loaders are cancelled.
  void close() noexcept;

  /// The execution context shuts down: unlinks every waiting caller, for the
  /// registry to destroy, and lets go of the executor and strands, which
  /// must not outlive their context.
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
  /// Posts a terminal cancellation of f's loader to its strand.
  void cancel_loader(flight_base& f) noexcept;
  bool closed() const noexcept { return closed_ || shut_down_; }

  mutable std::mutex mutex_;
  Stats counters_;
  const Options options_;

 private:
  void unlink_waiter(flight_base& f, waiter_base& w) noexcept;
  void unlink_flight(flight_base& f) noexcept;  // out of the table, if linked
  void live_erase(flight_base& f) noexcept;
  /// Unlinks every waiter of every running flight; mutex_ held.
  waiter_list take_all_waiters() noexcept;

  std::atomic<std::size_t> refs_{1};
  boost::asio::any_io_executor executor_;
  std::vector<loader_strand> strands_;
  std::uint32_t strand_count_;
  std::shared_ptr<group_registry> registry_;
  flight_base* live_head_ = nullptr;
  bool closed_ = false;
  bool shut_down_ = false;
};

/// Owns one reference to a core (adopted).
class core_ref {
 public:
  core_ref() noexcept = default;
  explicit core_ref(core_base* c) noexcept : c_(c) {}
  core_ref(core_ref&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  core_ref& operator=(core_ref&& o) noexcept {
    if (this != &o) {
      reset();
      c_ = o.c_;
      o.c_ = nullptr;
    }
    return *this;
  }
  ~core_ref() { reset(); }
  void reset() noexcept {
    if (c_) c_->release();
    c_ = nullptr;
  }
  core_base* get() const noexcept { return c_; }
  explicit operator bool() const noexcept { return c_ != nullptr; }

 private:
  core_base* c_ = nullptr;
};

/// The exception every caller that leaves early receives: one object, made
/// once.
const std::exception_ptr& operation_aborted_error() noexcept;
/// The exception of an `errc` failure, made once per code.
const std::exception_ptr& group_error(errc e) noexcept;

}  // namespace singleflight::detail

#endif
