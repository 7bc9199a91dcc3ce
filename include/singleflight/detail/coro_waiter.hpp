// SPDX-License-Identifier: BSL-1.0
// A do_ caller: the waiter lives in the do_ coroutine's frame and, while
// parked, holds that coroutine's thread of execution, the way Asio's own
// awaitable handlers do. Joining allocates nothing.
#ifndef SINGLEFLIGHT_DETAIL_CORO_WAITER_HPP
#define SINGLEFLIGHT_DETAIL_CORO_WAITER_HPP

#include <singleflight/detail/canceller.hpp>
#include <singleflight/detail/group_impl.hpp>
#include <singleflight/detail/waiter.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/version.hpp>

#include <optional>
#include <utility>

// The frame hook (an awaited callable taking the frame, run once the
// coroutine has suspended) and the awaitable thread types are Asio's own,
// in asio::detail; this is the version they are tested with.
#if BOOST_ASIO_VERSION < 102400
#error "singleflight needs Boost.Asio 1.24 (Boost 1.80) or newer"
#endif

namespace singleflight::detail {

template <class Value>
class coro_waiter final : public result_waiter<Value> {
  using executor_type = boost::asio::any_io_executor;
  using frame_type = boost::asio::detail::awaitable_frame_base<executor_type>;
  using handler_type = boost::asio::detail::awaitable_async_op_handler<void(), executor_type>;

 public:
  coro_waiter() noexcept : result_waiter<Value>(&resume_op, &destroy_op) {}
  coro_waiter(const coro_waiter&) = delete;
  coro_waiter& operator=(const coro_waiter&) = delete;

  /// Run from the frame hook, with the do_ coroutine suspended in `frame`:
  /// joins, and parks the coroutine unless its result is already here (then
  /// it goes on at once, without a post, when the hook returns).
  template <class Core, class K, class F>
  void join(Core& core, const K& key, F& loader, frame_type* frame, boost::asio::cancellation_slot slot) {
    slot_ = slot;
    arm_cancellation(*this, slot_, core);
    switch (core.join(key, loader, *this)) {
      case join_result::closed: {
        // Destroyed unrun, as Asio does with work for a context that has shut down.
        disarm_cancellation(*this, slot_);
        handler_type doomed(frame->detach_thread(), dummy_);
        return;
      }
      case join_result::failed:
        disarm_cancellation(*this, slot_);
        return;  // the error is known at once: go on and throw it
      case join_result::linked:
        break;
    }
    if (this->state.load(std::memory_order_acquire) == waiter_state::ready) {
      disarm_cancellation(*this, slot_);
      return;
    }
    handler_.emplace(frame->detach_thread(), dummy_);
    executor_type ex = handler_->get_executor();
    if (!same_executor(ex, core.executor()))
      work_.emplace(boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked));
    waiter_state s = waiter_state::initiating;
    if (!this->state.compare_exchange_strong(s, waiter_state::parked, std::memory_order_acq_rel)) {
      // Its result came from another thread while we were parking: post it,
      // never resume inline from here.
      this->state.store(waiter_state::completing, std::memory_order_release);
      resume_op(this, true);
    }
  }

 private:
  class resumer {
   public:
    explicit resumer(coro_waiter* w) noexcept : w_(w) {}
    resumer(resumer&& o) noexcept : w_(std::exchange(o.w_, nullptr)) {}
    resumer& operator=(resumer&&) = delete;
    ~resumer() {
      if (w_ != nullptr) destroy_op(w_);  // never run: context shut down
    }
    void operator()() { complete(std::exchange(w_, nullptr)); }

   private:
    coro_waiter* w_;
  };

  static void resume_op(waiter_base* base, bool force_post) {
    auto* self = static_cast<coro_waiter*>(base);
    executor_type ex = self->handler_->get_executor();
    if (!force_post && runs_here(ex)) {
      complete(self);
      return;
    }
    if (force_post)
      boost::asio::post(ex, resumer(self));
    else
      boost::asio::dispatch(ex, resumer(self));
  }

  // The coroutine's frame, and this waiter in it, may be gone once the
  // handler runs: take everything out first.
  static void complete(coro_waiter* self) {
    disarm_cancellation(*self, self->slot_);
    handler_type handler(std::move(*self->handler_));
    self->work_.reset();
    handler();
  }

  static void destroy_op(waiter_base* base) {
    auto* self = static_cast<coro_waiter*>(base);
    disarm_cancellation(*self, self->slot_);
    self->work_.reset();
    if (self->handler_) {
      handler_type doomed(std::move(*self->handler_));  // unwinds the coroutine's frames
    }
  }

  typename handler_type::result_type dummy_;
  boost::asio::cancellation_slot slot_;
  std::optional<handler_type> handler_;
  std::optional<executor_type> work_;  // tracked: the caller's executor stays busy
};

}  // namespace singleflight::detail

#endif
