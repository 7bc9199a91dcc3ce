// SPDX-License-Identifier: BSL-1.0
// Cache: cache-aside over an AsyncGroup. Values are kept for a TTL, served
// stale while one background refresh runs, failures kept briefly, hot keys
// refreshed before they expire (XFetch), and invalidations win over the
// loads they race with.
#ifndef SINGLEFLIGHT_CACHE_HPP
#define SINGLEFLIGHT_CACHE_HPP

#include <singleflight/async_group.hpp>
#include <singleflight/cache_options.hpp>
#include <singleflight/cache_stats.hpp>
#include <singleflight/coarse_clock.hpp>
#include <singleflight/detail/cache_load.hpp>
#include <singleflight/detail/cache_store.hpp>
#include <singleflight/hash.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

namespace singleflight {

/// A cache in front of an expensive, asynchronous origin, with the group's
/// stampede protection: a miss runs one load per key, whatever the number of
/// callers.
///
/// - A fresh hit answers at once: `co_await cache.get(k, f)` neither posts
///   nor waits for anything but the cache's mutex.
/// - A miss joins or starts the key's flight in an `AsyncGroup`, with all its
///   semantics (per-caller cancellation; the loader cancelled when every
///   caller has left); the value is kept for `CacheOptions::ttl`.
/// - Within `stale_ttl` after that, callers get the stale value at once and
///   one background refresh replaces it (if it fails, the stale value stays).
/// - With `error_ttl`, a loader's exception is kept and rethrown, the same
///   object, with no new load. A load cancelled because every caller left is
///   never kept.
/// - `put`, `erase` and `clear` win over the loads they race with: such a
///   load's callers get its result, but it is not stored.
/// - With `early_refresh_beta`, hits refresh a key before it expires, with
///   XFetch's probability.
///
/// @par Thread Safety
/// Every member function may be called from any thread at once.
///
/// @par Object Lifetimes
/// As for the group: the cache may be destroyed with loads and refreshes in
/// flight (their waiting callers complete with `operation_aborted`, their
/// results are dropped), and its execution context may be shut down first.
/// An awaitable returned by `get` must be awaited while the cache lives.
///
/// @tparam Clock a `std::chrono` clock: its static `now()` is the time of
/// every expiry decision (tests inject a manual one). The default reads the
/// kernel's tick: cheap on every hit, with the tick's resolution (1-4 ms);
/// pass `std::chrono::steady_clock` for ttls of a few milliseconds.
template <class Key, class Value, class Hash = DefaultHash<Key>, class KeyEqual = DefaultKeyEqual<Key>,
          class Clock = coarse_steady_clock>
class Cache {
  using group_type = AsyncGroup<Key, Value, Hash, KeyEqual>;
  using store_type = detail::cache_store<Key, Value, Hash, KeyEqual, Clock>;
  template <class F>
  using load_type = detail::cache_load<store_type, Key, Value, Clock, std::decay_t<F>>;

 public:
  using key_type = Key;
  using value_type = Value;
  using clock = Clock;
  using executor_type = boost::asio::any_io_executor;

  /// As for the group: `Key`, or what its transparent hash accepts
  /// (`std::string_view` and string literals for `std::string` keys).
  template <class K>
  static constexpr bool is_lookup_key_v = group_type::template is_lookup_key_v<K>;

  /// @param ex where loads run (on a strand of it), and the executor of
  /// completions whose handler has none.
  explicit Cache(executor_type ex, CacheOptions opts = {})
      : store_(std::make_shared<store_type>(opts)),
        remote_{opts.remote, detail::whole_ms(opts.ttl), detail::whole_ms(opts.error_ttl)},
        group_(std::move(ex), opts.group) {
    if constexpr (!(has_codec<Value> && has_key_bytes<Key>))
      if (opts.remote) throw std::invalid_argument("CacheOptions::remote needs codec<Value> and byte keys");
  }

  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  executor_type get_executor() const noexcept { return group_.get_executor(); }

  /// The value of `key`: from the cache if fresh (or stale within
  /// `stale_ttl`, then refreshed in the background), else from `loader`,
  /// one call per key for every caller that misses meanwhile.
  ///
  /// A fresh hit returns without a post or a wait. The key is looked up when
  /// `get` is called; on a miss it is copied. Throws what `AsyncGroup::do_`
  /// throws: the loader's exception (the same object for every caller, and
  /// for `error_ttl` after), `operation_aborted` when this caller is
  /// cancelled or the cache destroyed.
  ///
  /// @par Per-Operation Cancellation
  /// On a miss, as `do_`: terminal, partial and total detach this caller
  /// alone. A hit completes before any cancellation can arrive.
  template <class K, class F>
    requires is_lookup_key_v<std::remove_cvref_t<K>> && Loader<F, Value>
  boost::asio::awaitable<Value> get(K&& key, F loader) {
    const auto& lookup_key = view(key);  // named: `h` refers to it
    const auto h = store_->hash(lookup_key);
    auto d = store_->shard(h).lookup(h, Clock::now());
    if (d.action == detail::cache_action::load)
      return load(h.hash, make_key(std::forward<K>(key)), std::move(loader), d.lease, d.seen_serial);
    if (d.action == detail::cache_action::hit_refresh) refresh(h, std::move(loader), d);
    return answer(std::move(d.value), std::move(d.error));
  }

  /// The hit path of get, for code that answers hits at once and misses
  /// elsewhere (say, racing them against a client's disconnect): the fresh
  /// or stale value (a stale one, or an early refresh, starts its background
  /// refresh with `loader`, as get does); nullopt on a miss or a kept
  /// failure, counted by the get() that follows.
  template <class K, class F>
    requires is_lookup_key_v<std::remove_cvref_t<K>> && Loader<F, Value>
  std::optional<Value> try_get(const K& key, F loader) {
    const auto& lookup_key = view(key);  // named: `h` refers to it
    const auto h = store_->hash(lookup_key);
    auto d = store_->shard(h).lookup(h, Clock::now(), true);
    if (d.action == detail::cache_action::load) return std::nullopt;
    if (d.action == detail::cache_action::hit_refresh) refresh(h, std::move(loader), d);
    return std::move(d.value);
  }

  /// The completion-token form of get.
  ///
  /// @par Completion Signature
  /// `void(std::exception_ptr, Value)`.
  ///
  /// A hit never completes inside this call: it is posted to the handler's
  /// associated executor (the cache's executor when it has none). A miss is
  /// `AsyncGroup::async_do` (the handler's executor, allocator and
  /// cancellation slot are the group's to respect).
  ///
  /// @par Per-Operation Cancellation
  /// As get.
  template <class K, class F,
            BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::exception_ptr, Value))
                CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    requires is_lookup_key_v<std::remove_cvref_t<K>> && Loader<F, Value>
  auto async_get(K&& key, F loader,
                 CompletionToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Value)>(
        initiation{this}, token, std::forward<K>(key), std::decay_t<F>(std::move(loader)));
  }

  /// Stores `v` as fresh for `ttl`. A load of `key` in progress is not
  /// stored when it ends (its callers still get its result), and the next
  /// miss starts a new one.
  template <class K>
    requires is_lookup_key_v<K>
  void put(const K& key, Value v) {
    const auto& lookup_key = view(key);  // named: `h` refers to it
    const auto h = store_->hash(lookup_key);
    store_->shard(h).put(h, std::move(v), Clock::now());
    group_.forget(key);
    invalidate_remote(key);
  }

  /// Removes `key`; a load of it in progress is not stored when it ends.
  /// Returns whether an entry was removed.
  template <class K>
    requires is_lookup_key_v<K>
  bool erase(const K& key) {
    const auto& lookup_key = view(key);  // named: `h` refers to it
    const auto h = store_->hash(lookup_key);
    const bool erased = store_->shard(h).erase(h);
    group_.forget(key);
    invalidate_remote(key);
    return erased;
  }

  /// Removes every entry; no load in progress is stored.
  void clear() {
    for (const Key& key : store_->clear()) {
      group_.forget(key);
      invalidate_remote(key);
    }
  }

  /// Entries held: values, fresh or stale, and kept failures.
  std::size_t size() const { return store_->size(); }

  CacheStats stats() const {
    CacheStats s = store_->stats();
    s.group = group_.stats();
    return s;
  }

 private:
  // With a remote tier, the fleet's copy goes too (and a load in flight
  // elsewhere cannot commit any more).
  template <class K>
  void invalidate_remote(const K& key) {
    if constexpr (has_key_bytes<Key>)
      if (remote_.tier) remote_.tier->invalidate(key_bytes(make_key(key)));
  }

  // How a key is looked up: string-like keys of a string cache as a
  // std::string_view (one hash for literals, views and strings alike).
  template <class K>
  static decltype(auto) view(const K& key) {
    if constexpr (detail::is_string_key_v<Key> && !std::is_same_v<K, Key> &&
                  std::is_convertible_v<const K&, std::string_view>)
      return std::string_view(key);
    else
      return (key);
  }

  template <class K>
  static Key make_key(K&& key) {
    if constexpr (std::is_same_v<std::remove_cvref_t<K>, Key>)
      return Key(std::forward<K>(key));
    else
      return Key(view(key));
  }

  static boost::asio::awaitable<Value> answer(std::optional<Value> value, std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
    co_return std::move(*value);
  }

  // A miss: the group's flight, with a loader that stores its outcome.
  // Nothing of `this` is used after the flight: the cache may be gone.
  template <class F>
  boost::asio::awaitable<Value> load(std::size_t hash, Key key, F loader, std::uint64_t lease, std::uint64_t seen) {
    load_type<F> op(store_, hash, key, std::move(loader), lease, seen, remote_);
    boost::asio::awaitable<Value> flight = group_.do_(key, std::move(op));
    Value v = co_await std::move(flight);
    co_return std::move(v);
  }

  // A background refresh: a caller of the group like any other, whose
  // completion clears the entry's refresh mark.
  template <class K, class F>
  void refresh(const detail::hashed<const K&>& key, F&& loader, const detail::cache_decision<Value>& d) {
    struct done {
      std::weak_ptr<store_type> store;
      detail::hashed<Key> key;
      std::uint64_t id;
      void operator()(std::exception_ptr e, Value) const {
        const auto k = detail::hashed_ref(key.hash, key.key);
        if (auto s = store.lock()) s->shard(k).refresh_done(k, id, e != nullptr);
      }
    };
    Key k(key.key);
    load_type<F> op(store_, key.hash, k, std::forward<F>(loader), d.lease, d.seen_serial, remote_);
    group_.async_do(k, std::move(op), done{store_, {key.hash, k}, d.refresh_id});
  }

  struct initiation {
    Cache* self;
    template <class Handler, class K, class F>
    void operator()(Handler&& handler, K&& key, F&& loader) const {
      self->initiate_get(std::forward<Handler>(handler), std::forward<K>(key), std::forward<F>(loader));
    }
  };

  template <class Handler, class K, class F>
  void initiate_get(Handler&& handler, K&& key, F&& loader) {
    const auto& lookup_key = view(key);  // named: `h` refers to it
    const auto h = store_->hash(lookup_key);
    auto d = store_->shard(h).lookup(h, Clock::now());
    if (d.action == detail::cache_action::load) {
      const std::size_t hash = h.hash;
      Key k = make_key(std::forward<K>(key));
      load_type<F> op(store_, hash, k, std::forward<F>(loader), d.lease, d.seen_serial, remote_);
      group_.async_do(std::move(k), std::move(op), std::forward<Handler>(handler));
      return;
    }
    if (d.action == detail::cache_action::hit_refresh) refresh(h, std::forward<F>(loader), d);
    // Known at once, delivered later: never inside the initiating function.
    auto ex = boost::asio::get_associated_executor(handler, group_.get_executor());
    Value v = d.error ? Value() : std::move(*d.value);
    boost::asio::post(ex, boost::asio::append(std::forward<Handler>(handler), d.error, std::move(v)));
  }

  std::shared_ptr<store_type> store_;
  detail::remote_hook remote_;
  // Declared last, destroyed first: its callers complete and its loaders are
  // cancelled while the store may still take their (ignored) results.
  group_type group_;
};

}  // namespace singleflight

#endif
