// A parked caller with its completion handler: allocation, per-operation
// cancellation and resumption on the caller's associated executor.
#ifndef SINGLEFLIGHT_DETAIL_WAITER_OP_HPP
#define SINGLEFLIGHT_DETAIL_WAITER_OP_HPP

#include <singleflight/detail/core_base.hpp>
#include <singleflight/detail/waiter.hpp>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace singleflight::detail {

/// Memory in the caller's own operation state (the do_ coroutine frame) that
/// a waiter may be built in, so that joining allocates nothing.
struct waiter_slab {
  void* data = nullptr;
  std::size_t size = 0;
};

/// Everything a caller learns from its flight, delivered as one value to the
/// do_ coroutine (Asio 1.26 cannot co_await an operation whose signature is
/// void(std::exception_ptr, T) directly).
template <class Value>
struct outcome {
  std::exception_ptr error;
  Value value;
  bool shared;
};

/// How a waiter's handler is called: with one `outcome<Value>` (Boxed), or
/// with the public signature void(std::exception_ptr, Value).
template <class Handler, class Value, bool Boxed>
class waiter_op final : public result_waiter<Value> {
  using default_allocator = boost::asio::recycling_allocator<void>;
  using allocator_type = boost::asio::associated_allocator_t<Handler, default_allocator>;
  using op_allocator =
      typename std::allocator_traits<allocator_type>::template rebind_alloc<waiter_op>;

 public:
  /// Builds the waiter in `slab` if it fits, else with the handler's
  /// associated allocator (as Asio's own operations do).
  static waiter_op* create(Handler&& h, core_base* core, waiter_slab slab) {
    if (slab.data != nullptr && sizeof(waiter_op) <= slab.size &&
        alignof(waiter_op) <= alignof(std::max_align_t))
      return ::new (slab.data) waiter_op(std::move(h), core, true);
    op_allocator alloc(boost::asio::get_associated_allocator(h, default_allocator()));
    waiter_op* p = std::allocator_traits<op_allocator>::allocate(alloc, 1);
    return ::new (static_cast<void*>(p)) waiter_op(std::move(h), core, false);
  }

  /// Connects the caller's cancellation slot to this waiter. Done before the
  /// waiter is linked, so that no other thread can complete it meanwhile.
  void arm_cancellation() {
    slot_ = boost::asio::get_associated_cancellation_slot(handler_);
    if (slot_.is_connected()) slot_.template emplace<canceller>(this);
  }

  /// Completes a waiter that was never linked, with `error`.
  void fail(std::exception_ptr error) noexcept {
    this->state.store(waiter_state::completing, std::memory_order_release);
    this->error = std::move(error);
    resume_op(this, true);
  }

  /// Undoes create() after a failure to link.
  void discard() noexcept { destroy_op(this); }

 private:
  waiter_op(Handler&& h, core_base* core, bool in_slab)
      : result_waiter<Value>(core, &resume_op, &destroy_op),
        handler_(std::move(h)),
        in_slab_(in_slab) {}

  // Per-operation cancellation: terminal, partial and total all detach this
  // caller alone, which has no side effect on the shared work.
  struct canceller {
    waiter_op* self;
    void operator()(boost::asio::cancellation_type_t type) const {
      using boost::asio::cancellation_type;
      if ((type & (cancellation_type::terminal | cancellation_type::partial |
                   cancellation_type::total)) == cancellation_type::none)
        return;
      // A waiter already on its way out may belong to a group, and a core,
      // that are gone: look no further than the waiter itself.
      if (self->state.load(std::memory_order_acquire) != waiter_state::parked) return;
      if (self->core->detach(*self)) {
        self->error = operation_aborted_error();
        resume_op(self, true);
      }
    }
  };

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
    auto ex = boost::asio::get_associated_executor(self->handler_, self->core->executor());
    if (!force_post && runs_here(ex)) {
      complete(self);  // what dispatch would do, without wrapping the handler
      return;
    }
    if (force_post)
      boost::asio::post(ex, resumer(self));
    else
      boost::asio::dispatch(ex, resumer(self));
  }

  // Whether `ex` is an io_context's executor that this thread is running.
  template <class Executor>
  static bool runs_here(const Executor& ex) noexcept {
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

  static void complete(waiter_op* self) {
    if (self->slot_.is_connected()) self->slot_.clear();
    Handler handler(std::move(self->handler_));
    std::exception_ptr error = std::move(self->error);
    std::optional<Value> value = std::move(self->value);
    const bool shared = self->shared;
    self->release(handler);
    if (!value) value.emplace();
    if constexpr (Boxed)
      std::move(handler)(outcome<Value>{std::move(error), std::move(*value), shared});
    else
      std::move(handler)(std::move(error), std::move(*value));
  }

  static void destroy_op(waiter_base* base) {
    auto* self = static_cast<waiter_op*>(base);
    if (self->slot_.is_connected()) self->slot_.clear();
    Handler handler(std::move(self->handler_));
    self->release(handler);
  }

  void release(const Handler& handler) noexcept {
    const bool in_slab = in_slab_;
    this->~waiter_op();
    if (in_slab) return;
    op_allocator alloc(boost::asio::get_associated_allocator(handler, default_allocator()));
    std::allocator_traits<op_allocator>::deallocate(alloc, this, 1);
  }

  Handler handler_;
  boost::asio::cancellation_slot slot_;
  const bool in_slab_;
};

}  // namespace singleflight::detail

#endif
