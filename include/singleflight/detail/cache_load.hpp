// SPDX-License-Identifier: BSL-1.0
// The loader that a Cache hands its group: it runs the user's loader once per
// flight and stores the outcome in the cache's store under the flight's
// lease. It holds the store weakly: a cache destroyed meanwhile is not kept
// alive by its loads, and their results go nowhere.
#ifndef SINGLEFLIGHT_DETAIL_CACHE_LOAD_HPP
#define SINGLEFLIGHT_DETAIL_CACHE_LOAD_HPP

#include <singleflight/coarse_clock.hpp>
#include <singleflight/detail/cache_store.hpp>
#include <singleflight/remote_tier.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace singleflight::detail {

// What a load needs of the cache's remote tier (none when `tier` is null).
struct remote_hook {
  std::shared_ptr<remote_tier> tier;
  std::chrono::milliseconds ttl{0};
  std::chrono::milliseconds error_ttl{0};
};

inline std::chrono::milliseconds whole_ms(std::chrono::nanoseconds d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

template <class Store, class Key, class Value, class Clock, class F>
class cache_load {
 public:
  cache_load(std::weak_ptr<Store> store, std::size_t hash, Key key, F loader, std::uint64_t lease,
             std::uint64_t seen_serial, remote_hook remote = {})
      : remote_(std::move(remote)),
        store_(std::move(store)),
        hash_(hash),
        key_(std::move(key)),
        loader_(std::move(loader)),
        lease_(lease),
        seen_serial_(seen_serial) {}

  // The group keeps this object alive until the awaitable finishes, so the
  // coroutine may use its members.
  //
  // No temporary with a non-trivial destructor stands in a co_await
  // expression here (g++ 12.2 frees such temporaries twice).
  boost::asio::awaitable<Value> operator()() {
    if (auto store = store_.lock()) {
      // A caller that looked just before another load (or a put) stored a
      // newer value starts a flight of its own: answer with that value
      // instead of loading again.
      auto newer = store->shard(key()).newer(key(), seen_serial_, Clock::now());
      if (newer && newer->second) std::rethrow_exception(newer->second);
      if (newer) co_return std::move(*newer->first);
      store->shard(key()).count_load();
    }
    using timer = typename load_timer<Clock>::clock;
    const auto start = timer::now();
    std::exception_ptr error;
    std::optional<Value> value;
    try {
      boost::asio::awaitable<Value> load = run();
      Value v = co_await std::move(load);
      value.emplace(std::move(v));
    } catch (...) {
      error = std::current_exception();
    }
    load_end end = error ? load_end::failure : load_end::value;
    if (error) {
      // Cancelled by the group because every caller left (or the group was
      // destroyed): not a failure of the origin, never kept.
      const auto state = co_await boost::asio::this_coro::cancellation_state;
      if (state.cancelled() != boost::asio::cancellation_type::none) end = load_end::cancelled;
    }
    const auto took = std::chrono::duration_cast<typename Clock::duration>(timer::now() - start);
    if (auto store = store_.lock())
      store->shard(key()).load_done(key(), lease_, end, value ? &*value : nullptr, error, took, Clock::now(),
                                    shared_until_);
    if (error) std::rethrow_exception(error);
    co_return std::move(*value);
  }

 private:
  hashed<const Key&> key() const { return hashed_ref(hash_, key_); }

  boost::asio::awaitable<Value> run() {
    if constexpr (has_codec<Value> && has_key_bytes<Key>) {
      if (remote_.tier) {
        boost::asio::awaitable<Value> fleet = fleet_load();
        Value v = co_await std::move(fleet);
        co_return std::move(v);
      }
    }
    boost::asio::awaitable<Value> load = loader_();
    Value v = co_await std::move(load);
    co_return std::move(v);
  }

  // One load for the fleet: the tier says whether another process has the
  // value (or its failure), or whether this one loads and commits.
  boost::asio::awaitable<Value> fleet_load()
    requires(has_codec<Value> && has_key_bytes<Key>)
  {
    remote_tier& tier = *remote_.tier;
    std::string bytes = key_bytes(key_);
    boost::asio::awaitable<remote_tier::claim_result> claiming = tier.claim(std::move(bytes));
    remote_tier::claim_result c = co_await std::move(claiming);
    if (c.remaining_ttl) shared_until_ = Clock::now() + std::chrono::ceil<typename Clock::duration>(*c.remaining_ttl);
    if (c.kind == remote_tier::outcome::value) co_return codec<Value>::decode(c.bytes);
    if (c.kind == remote_tier::outcome::error) throw remote_error(c.bytes);
    std::optional<Value> value;
    std::exception_ptr error;
    try {
      boost::asio::awaitable<Value> load = loader_();
      Value v = co_await std::move(load);
      value.emplace(std::move(v));
    } catch (...) {
      error = std::current_exception();
    }
    if (c.kind == remote_tier::outcome::local) {
      if (error) std::rethrow_exception(error);
      co_return std::move(*value);
    }
    if (value) {
      std::string encoded = codec<Value>::encode(*value);
      boost::asio::awaitable<bool> committing = tier.commit(std::move(c.lease), std::move(encoded), remote_.ttl);
      co_await std::move(committing);
      co_return std::move(*value);
    }
    const auto state = co_await boost::asio::this_coro::cancellation_state;
    std::optional<std::string> message;
    if (state.cancelled() == boost::asio::cancellation_type::none) message = describe(error);
    boost::asio::awaitable<void> abandoning = tier.abandon(std::move(c.lease), std::move(message), remote_.error_ttl);
    co_await std::move(abandoning);
    std::rethrow_exception(error);
  }

  static std::string describe(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    } catch (...) {
      return "unknown exception";
    }
  }

  remote_hook remote_;

  std::weak_ptr<Store> store_;
  std::size_t hash_;
  Key key_;
  F loader_;
  std::uint64_t lease_;
  std::uint64_t seen_serial_;
  // When the fleet's copy of a value (or failure) read from the tier
  // expires: the local copy must not outlive it.
  std::optional<typename Clock::time_point> shared_until_;
};

}  // namespace singleflight::detail

#endif
