// SPDX-License-Identifier: BSL-1.0
// What a caller's cancellation slot runs, and the helpers every kind of
// waiter shares to resume its caller.
#ifndef SINGLEFLIGHT_DETAIL_CANCELLER_HPP
#define SINGLEFLIGHT_DETAIL_CANCELLER_HPP

#include <singleflight/detail/group_state.hpp>
#include <singleflight/detail/waiter.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>

#include <type_traits>

namespace singleflight::detail {

/// Per-operation cancellation: terminal, partial and total all detach this
/// caller alone, which has no side effect on the shared work.
struct waiter_canceller {
  waiter_base* w;
  void operator()(boost::asio::cancellation_type_t type) const noexcept {
    if ((type & boost::asio::cancellation_type::all) == boost::asio::cancellation_type::none) return;
    // Cleared once the caller is on its way to completion (the waiter's
    // reference to the core goes with it).
    group_state* core = w->core;
    if (core == nullptr) return;
    if (core->detach(*w)) {
      w->error = operation_aborted_error();
      w->hand_over(true);
    }
  }
};

/// Connects `slot` to `w` before `w` is linked, so that no cancellation is
/// missed; the waiter then keeps its core alive until it completes.
inline void arm_cancellation(waiter_base& w, boost::asio::cancellation_slot& slot, group_state& core) {
  if (!slot.is_connected()) return;
  slot.template emplace<waiter_canceller>(&w);
  core.add_ref();
  w.core = &core;
}

/// Undoes arm_cancellation() once the caller completes (on its executor,
/// serialized with the canceller, as Asio requires of slot emissions).
inline void disarm_cancellation(waiter_base& w, boost::asio::cancellation_slot& slot) noexcept {
  if (slot.is_connected()) slot.clear();
  if (group_state* c = w.core) {
    w.core = nullptr;
    c->release();
  }
}

/// Whether `ex` is an io_context's executor that this thread is running, so
/// that a caller may be resumed inline.
template <class Executor>
bool runs_here(const Executor& ex) noexcept {
  using io_executor = boost::asio::io_context::executor_type;
  if constexpr (std::is_same_v<Executor, io_executor>) {
    return ex.running_in_this_thread();
  } else if constexpr (requires { ex.template target<io_executor>(); }) {
    const io_executor* io = ex.template target<io_executor>();
    return io != nullptr && io->running_in_this_thread();
  } else {
    return false;
  }
}

/// Whether a caller's executor is the group's, whose work the flight keeps.
template <class Executor>
bool same_executor(const Executor& ex, const boost::asio::any_io_executor& group_ex) noexcept {
  if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
    return ex == group_ex;
  } else if constexpr (requires { group_ex.template target<Executor>(); }) {
    const Executor* target = group_ex.template target<Executor>();
    return target != nullptr && *target == ex;
  } else {
    return false;
  }
}

}  // namespace singleflight::detail

#endif
