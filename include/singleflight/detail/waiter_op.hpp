// SPDX-License-Identifier: BSL-1.0
// A caller of async_do with its completion handler: allocation, per-operation
// cancellation, outstanding work, and resumption on the caller's associated
// executor.
#ifndef SINGLEFLIGHT_DETAIL_WAITER_OP_HPP
#define SINGLEFLIGHT_DETAIL_WAITER_OP_HPP

#include <singleflight/detail/canceller.hpp>
#include <singleflight/detail/group_impl.hpp>
#include <singleflight/detail/waiter.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace singleflight::detail {

template <class Handler, class Value>
class waiter_op final : public result_waiter<Value> {
  using default_allocator = boost::asio::recycling_allocator<void>;
  using allocator_type = boost::asio::associated_allocator_t<Handler, default_allocator>;
  using op_allocator = typename std::allocator_traits<allocator_type>::template rebind_alloc<waiter_op>;
  using handler_executor =
      boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
  using work_executor = std::decay_t<decltype(boost::asio::prefer(
      std::declval<const handler_executor&>(), boost::asio::execution::outstanding_work.tracked))>;

 public:
  /// Joins the flight for `key` with a new waiter for `handler`. Never
  /// completes the handler inside this call.
  template <class Core, class K, class F, class H>
  static void start(Core& core, const K& key, F& loader, H&& handler) {
    op_allocator alloc(boost::asio::get_associated_allocator(handler, default_allocator()));
    waiter_op* op = std::allocator_traits<op_allocator>::allocate(alloc, 1);
    try {
      ::new (static_cast<void*>(op)) waiter_op(Handler(std::forward<H>(handler)), core.executor());
    } catch (...) {
      std::allocator_traits<op_allocator>::deallocate(alloc, op, 1);
      throw;
    }
    arm_cancellation(*op, op->slot_, core);
    switch (core.join(key, loader, *op)) {
      case join_result::closed:
        destroy_op(op);  // as Asio does with work for a context that has shut down
        return;
      case join_result::failed:
        op->state.store(waiter_state::completing, std::memory_order_release);
        resume_op(op, true);
        return;
      case join_result::linked:
        break;
    }
    waiter_state s = waiter_state::initiating;
    if (!op->state.compare_exchange_strong(s, waiter_state::parked, std::memory_order_acq_rel)) {
      // Its result came while we were initiating: post it, never call inline.
      op->state.store(waiter_state::completing, std::memory_order_release);
      resume_op(op, true);
    }
  }

 private:
  waiter_op(Handler&& h, const boost::asio::any_io_executor& group_ex)
      : result_waiter<Value>(&resume_op, &destroy_op),
        handler_(std::move(h)),
        executor_(boost::asio::get_associated_executor(handler_, group_ex)),
        slot_(boost::asio::get_associated_cancellation_slot(handler_)) {
    // The handler's executor is kept busy while the caller waits, as Asio's
    // own operations do; the group's own executor is kept busy by the flight.
    if (!same_executor(executor_, group_ex))
      work_.emplace(boost::asio::prefer(executor_, boost::asio::execution::outstanding_work.tracked));
  }

  // Runs on the caller's executor: hands the result to the handler once the
  // waiter's memory is released, as Asio requires.
  class resumer {
   public:
    explicit resumer(waiter_op* op) noexcept : op_(op) {}
    resumer(resumer&& o) noexcept : op_(std::exchange(o.op_, nullptr)) {}
    resumer& operator=(resumer&&) = delete;
    ~resumer() {
      if (op_ != nullptr) destroy_op(op_);  // never run: context shut down
    }
    void operator()() { complete(std::exchange(op_, nullptr)); }

   private:
    waiter_op* op_;
  };

  static void resume_op(waiter_base* base, bool force_post) {
    auto* self = static_cast<waiter_op*>(base);
    if (!force_post && runs_here(self->executor_)) {
      complete(self);  // what dispatch would do, without wrapping the handler
      return;
    }
    const handler_executor ex = self->executor_;
    if (force_post)
      boost::asio::post(ex, resumer(self));
    else
      boost::asio::dispatch(ex, resumer(self));
  }

  static void complete(waiter_op* self) {
    disarm_cancellation(*self, self->slot_);
    Handler handler(std::move(self->handler_));
    std::exception_ptr error = std::move(self->error);
    std::optional<Value> value = std::move(self->value);
    self->release(handler);  // also ends the work: the handler's invocation is work enough
    if (!value) value.emplace();
    std::move(handler)(std::move(error), std::move(*value));
  }

  static void destroy_op(waiter_base* base) {
    auto* self = static_cast<waiter_op*>(base);
    disarm_cancellation(*self, self->slot_);
    Handler handler(std::move(self->handler_));
    self->release(handler);
  }

  void release(const Handler& handler) noexcept {
    op_allocator alloc(boost::asio::get_associated_allocator(handler, default_allocator()));
    this->~waiter_op();
    std::allocator_traits<op_allocator>::deallocate(alloc, this, 1);
  }

  Handler handler_;
  handler_executor executor_;
  boost::asio::cancellation_slot slot_;
  std::optional<work_executor> work_;
};

}  // namespace singleflight::detail

#endif
