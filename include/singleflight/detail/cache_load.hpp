// The loader that a Cache hands its group: it runs the user's loader once per
// flight and stores the outcome in the cache's store under the flight's
// lease. It holds the store weakly: a cache destroyed meanwhile is not kept
// alive by its loads, and their results go nowhere.
#ifndef SINGLEFLIGHT_DETAIL_CACHE_LOAD_HPP
#define SINGLEFLIGHT_DETAIL_CACHE_LOAD_HPP

#include <singleflight/coarse_clock.hpp>
#include <singleflight/detail/cache_store.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace singleflight::detail {

template <class Store, class Key, class Value, class Clock, class F>
class cache_load {
 public:
  cache_load(std::weak_ptr<Store> store, std::size_t hash, Key key, F loader, std::uint64_t lease,
             std::uint64_t seen_serial)
      : store_(std::move(store)),
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
      boost::asio::awaitable<Value> load = loader_();
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
      store->shard(key()).load_done(key(), lease_, end, value ? &*value : nullptr, error, took, Clock::now());
    if (error) std::rethrow_exception(error);
    co_return std::move(*value);
  }

 private:
  hashed<const Key&> key() const { return hashed_ref(hash_, key_); }

  std::weak_ptr<Store> store_;
  std::size_t hash_;
  Key key_;
  F loader_;
  std::uint64_t lease_;
  std::uint64_t seen_serial_;
};

}  // namespace singleflight::detail

#endif
