// The asynchronous operations behind do_, do_shared and async_do.
#ifndef SINGLEFLIGHT_DETAIL_JOIN_OP_HPP
#define SINGLEFLIGHT_DETAIL_JOIN_OP_HPP

#include <singleflight/detail/waiter_op.hpp>

#include <boost/asio/async_result.hpp>

#include <cstddef>
#include <exception>
#include <type_traits>

namespace singleflight::detail {

/// The initiation of async_do: the key is read, and copied only if a new
/// flight starts, when the operation is initiated. `KeyParam` is a reference
/// to the caller's lvalue key, or the key itself.
template <class Core, class KeyParam>
struct initiate_join {
  Core* core;
  KeyParam key;

  template <class Handler, class F>
  void operator()(Handler&& handler, F loader) const {
    core->template join<false>(key, loader, std::forward<Handler>(handler), waiter_slab{});
  }
};

/// An Asio asynchronous operation (a callable taking a completion token)
/// that carries room for its own waiter. Awaited in place by do_, so the
/// waiter lives in do_'s coroutine frame.
template <class Core, class K, class F>
class join_op {
  using result_type = outcome<typename Core::value_type>;

 public:
  join_op(Core& core, const K& key, F& loader) noexcept : core_(core), key_(key), loader_(loader) {}
  join_op(const join_op&) = delete;
  join_op& operator=(const join_op&) = delete;

  // Constrained so that the awaitable frame's hook for callables taking a
  // frame pointer never considers this one.
  template <class Token>
    requires(!std::is_pointer_v<std::decay_t<Token>>)
  auto operator()(Token&& token) {
    return boost::asio::async_initiate<Token, void(result_type)>(
        [this](auto handler) {
          core_.template join<true>(key_, loader_, std::move(handler),
                                          waiter_slab{slab_, sizeof slab_});
        },
        token);
  }

 private:
  Core& core_;
  const K& key_;
  F& loader_;
  // A waiter holds a few pointers, the result and the caller's handler.
  alignas(std::max_align_t) unsigned char slab_[sizeof(result_waiter<typename Core::value_type>) + 64];
};

}  // namespace singleflight::detail

#endif
