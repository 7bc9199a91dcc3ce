// SPDX-License-Identifier: BSL-1.0
// The asynchronous operations behind do_, do_shared and async_do.
#ifndef SINGLEFLIGHT_DETAIL_JOIN_OP_HPP
#define SINGLEFLIGHT_DETAIL_JOIN_OP_HPP

#include <singleflight/detail/coro_waiter.hpp>
#include <singleflight/detail/waiter_op.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace singleflight::detail {

/// The initiation of async_do: the key is read, and copied only if a new
/// flight starts, when the operation is initiated. `KeyParam` is a reference
/// to the caller's lvalue key, or the key itself.
template <class Core, class KeyParam>
struct initiate_join {
  using executor_type = boost::asio::any_io_executor;

  Core* core;
  KeyParam key;

  /// The group's executor: where loaders run, and the default for handlers.
  executor_type get_executor() const noexcept { return core->executor(); }

  template <class Handler, class F>
  void operator()(Handler&& handler, F loader) const {
    waiter_op<std::decay_t<Handler>, typename Core::value_type>::start(*core, key, loader,
                                                                       std::forward<Handler>(handler));
  }
};

}  // namespace singleflight::detail

#endif
