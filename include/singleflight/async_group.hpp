// SPDX-License-Identifier: BSL-1.0
// AsyncGroup: at most one call of a loader per key in flight; callers that
// arrive meanwhile wait for it and share its result. Go's
// golang.org/x/sync/singleflight for Boost.Asio coroutines.
#ifndef SINGLEFLIGHT_ASYNC_GROUP_HPP
#define SINGLEFLIGHT_ASYNC_GROUP_HPP

#include <singleflight/detail/coro_waiter.hpp>
#include <singleflight/detail/group_impl.hpp>
#include <singleflight/detail/join_op.hpp>
#include <singleflight/error.hpp>
#include <singleflight/hash.hpp>
#include <singleflight/options.hpp>
#include <singleflight/shared.hpp>
#include <singleflight/stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/this_coro.hpp>

#include <concepts>
#include <cstddef>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace singleflight {

namespace detail {
template <class T>
concept transparent = requires { typename T::is_transparent; };

// How an initiating function keeps its key: a reference to an lvalue, the
// value itself for an rvalue.
template <class T>
struct key_param;
template <class T>
struct key_param<T&> {
  using type = const T&;
};
template <class T>
struct key_param<T&&> {
  using type = std::remove_cv_t<T>;
};
template <class T>
using key_param_t = typename key_param<T>::type;
}  // namespace detail

/// A loader: a callable with no arguments that returns
/// `boost::asio::awaitable<Value>`.
template <class F, class Value>
concept Loader = std::move_constructible<std::decay_t<F>> &&
                 std::same_as<std::invoke_result_t<std::decay_t<F>&>, boost::asio::awaitable<Value>>;

/// Coalesces concurrent calls per key.
///
/// The first caller for a key starts the loader on a strand of the group's
/// executor; callers that arrive while it runs are parked on that key's
/// waiter list, and all resume with the same value, or the same exception
/// object. Nothing is kept once the flight ends.
///
/// @par Thread Safety
/// Every member function may be called from any thread at once. Loaders of
/// one group run on one strand, so they never run concurrently.
///
/// @par Object Lifetimes
/// As for Asio's I/O objects: destroying the group completes its parked
/// callers with `operation_aborted` (posted) and cancels its loaders; the
/// execution context may be shut down or destroyed first, which destroys
/// parked callers without resuming them.
///
/// @tparam Value copy-constructible (each caller gets a copy; the last one
/// the original) and default-constructible (the value that accompanies an
/// exception in the completion signature).
template <class Key, class Value, class Hash = DefaultHash<Key>, class KeyEqual = DefaultKeyEqual<Key>>
class AsyncGroup {
  static_assert(std::is_default_constructible_v<Value>,
                "AsyncGroup<Key, Value>: Value must be default-constructible (it accompanies "
                "an exception in the completion signature void(std::exception_ptr, Value))");
  static_assert(std::is_copy_constructible_v<Value>,
                "AsyncGroup<Key, Value>: Value must be copy-constructible (every caller gets it)");

  using core_type = detail::group_impl<Key, Value, Hash, KeyEqual>;

 public:
  using key_type = Key;
  using value_type = Value;
  using hasher = Hash;
  using key_equal = KeyEqual;
  using executor_type = boost::asio::any_io_executor;

  /// A key to look up with: `Key` itself, or, when `Hash` and `KeyEqual`
  /// are transparent (the default for `std::string`), anything they accept
  /// that `Key` can be built from (`std::string_view`, a string literal).
  template <class K>
  static constexpr bool is_lookup_key_v =
      std::same_as<K, Key> ||
      (detail::transparent<Hash> && detail::transparent<KeyEqual> && std::constructible_from<Key, const K&> &&
       std::invocable<const Hash&, const K&>);

  /// @param ex where loaders run, on a strand of it; also the executor of
  /// callers' handlers that have no associated executor.
  explicit AsyncGroup(executor_type ex, Options opts = {})
      : core_(new core_type(std::move(ex), opts)) {}

  AsyncGroup(const AsyncGroup&) = delete;
  AsyncGroup& operator=(const AsyncGroup&) = delete;
  AsyncGroup(AsyncGroup&&) noexcept = default;
  AsyncGroup& operator=(AsyncGroup&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::move(other.core_);
    }
    return *this;
  }

  ~AsyncGroup() { close(); }

  executor_type get_executor() const noexcept { return core()->executor(); }

  /// Awaits the flight for `key`, starting `loader` if none is running.
  ///
  /// Returns the loader's value; rethrows the loader's exception (the same
  /// object in every caller); throws `boost::system::system_error` with
  /// `errc::too_many_flights` when a new flight would exceed
  /// `Options::max_in_flight`, and with `operation_aborted` when this caller
  /// is cancelled or the group is destroyed.
  ///
  /// The key is read when the returned awaitable first runs and copied only
  /// if a new flight starts. An lvalue key is held by reference until then
  /// (always alive in `co_await group.do_(key, f)`); an rvalue key is moved
  /// into the operation, so `co_spawn(ex, group.do_(std::move(key), f), ...)`
  /// is safe. `loader` is kept until its awaitable finishes, so a lambda that
  /// captures by value is safe.
  ///
  /// @par Per-Operation Cancellation
  /// `terminal`, `partial` and `total` all detach this caller alone, which
  /// completes with `operation_aborted`; the loader and the other callers go
  /// on. When the last caller of a flight leaves, the key is unlinked and the
  /// loader gets a `terminal` cancellation (unless
  /// `Options::keep_abandoned_loaders`).
  template <class K, class F>
    requires is_lookup_key_v<std::remove_cvref_t<K>> && Loader<F, Value>
  boost::asio::awaitable<Value> do_(K&& key, F loader) {
    return do_impl<detail::key_param_t<K&&>>(std::forward<K>(key), std::move(loader));
  }

  /// As do_, with Go's `shared` flag: true when the result went to more than
  /// one caller.
  template <class K, class F>
    requires is_lookup_key_v<std::remove_cvref_t<K>> && Loader<F, Value>
  boost::asio::awaitable<Shared<Value>> do_shared(K&& key, F loader) {
    return do_shared_impl<detail::key_param_t<K&&>>(std::forward<K>(key), std::move(loader));
  }

  /// The completion-token form of do_, for callbacks, `use_future`,
  /// `deferred` and other tokens.
  ///
  /// @par Completion Signature
  /// `void(std::exception_ptr, Value)`: the loader's exception (or a
  /// `system_error` as in do_) and a default-constructed Value, or null and
  /// the value.
  ///
  /// @par Per-Operation Cancellation
  /// As do_: terminal, partial and total detach this caller alone.
  ///
  /// The key is read when the operation is initiated (at once for most
  /// tokens; when a `deferred` operation is launched): an lvalue key is held
  /// by reference until then, an rvalue key is moved into the operation.
  template <class K, class F,
            BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::exception_ptr, Value))
                CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    requires is_lookup_key_v<std::remove_cvref_t<K>> && Loader<F, Value>
  auto async_do(K&& key, F loader,
                CompletionToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Value)>(
        detail::initiate_join<core_type, detail::key_param_t<K&&>>{core(), std::forward<K>(key)},
        token, std::decay_t<F>(std::move(loader)));
  }

  /// Go's Forget: the flight for `key`, if any, is unlinked, so the next
  /// caller starts a new one; callers of the forgotten flight still get its
  /// result. Returns whether a flight was unlinked.
  template <class K>
    requires is_lookup_key_v<K>
  bool forget(const K& key) {
    return core()->forget(key);
  }

  /// The number of keys with a flight in progress.
  std::size_t in_flight() const { return core()->in_flight(); }

  /// A snapshot of the group's counters.
  Stats stats() const { return core()->stats(); }

 private:
  // Coroutines: a `KeyParam` that is a reference refers to the caller's
  // lvalue; otherwise the key lives in this frame, as does the waiter.
  template <class KeyParam, class F>
  boost::asio::awaitable<Value> do_impl(KeyParam key, F loader) {
    detail::coro_waiter<Value> w;
    // What Asio's co_await of an operation checks first.
    const boost::asio::cancellation_state cs = co_await boost::asio::this_coro::cancellation_state;
    if (cs.cancelled() != boost::asio::cancellation_type::none && co_await boost::asio::this_coro::throw_if_cancelled())
      std::rethrow_exception(detail::operation_aborted_error());
    co_await join(key, loader, w, cs.slot());
    if (w.error) std::rethrow_exception(std::move(w.error));
    co_return std::move(*w.value);
  }

  template <class KeyParam, class F>
  boost::asio::awaitable<Shared<Value>> do_shared_impl(KeyParam key, F loader) {
    detail::coro_waiter<Value> w;
    // What Asio's co_await of an operation checks first.
    const boost::asio::cancellation_state cs = co_await boost::asio::this_coro::cancellation_state;
    if (cs.cancelled() != boost::asio::cancellation_type::none && co_await boost::asio::this_coro::throw_if_cancelled())
      std::rethrow_exception(detail::operation_aborted_error());
    co_await join(key, loader, w, cs.slot());
    if (w.error) std::rethrow_exception(std::move(w.error));
    co_return Shared<Value>{std::move(*w.value), w.shared};
  }

  // Joins through Asio's frame hook (an awaited callable that gets the
  // suspended frame): a result already known when the caller would suspend
  // (a loader that returned at once) is taken without a post, and a parked
  // caller is resumed as Asio resumes its own operations' callers. The
  // callable captures by reference only, so it is trivially destructible
  // (g++ 12's co_await temporary bug).
  template <class K, class F>
  auto join(const K& key, F& loader, detail::coro_waiter<Value>& w, boost::asio::cancellation_slot slot) {
    using frame_type = boost::asio::detail::awaitable_frame_base<executor_type>;
    using thread_type = boost::asio::detail::awaitable_thread<executor_type>;
    core_type* core = this->core();
    return [core, &key, &loader, &w, slot](frame_type* frame) -> thread_type* {
      w.join(*core, key, loader, frame, slot);
      return nullptr;
    };
  }

  void close() noexcept {
    if (core_) core()->close();
  }

  detail::group_state_ref core_;
  core_type* core() const noexcept { return static_cast<core_type*>(core_.get()); }
};

}  // namespace singleflight

#endif
