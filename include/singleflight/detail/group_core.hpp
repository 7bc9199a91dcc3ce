// The typed half of a group: the table of flights by key, joining, and
// running a loader on the group's strand.
#ifndef SINGLEFLIGHT_DETAIL_GROUP_CORE_HPP
#define SINGLEFLIGHT_DETAIL_GROUP_CORE_HPP

#include <singleflight/detail/core_base.hpp>
#include <singleflight/detail/waiter_op.hpp>
#include <singleflight/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/unordered/hash_traits.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace singleflight::detail {

// Boost.Unordered skips its own mixing when the hash declares this.
template <bool Avalanching>
struct avalanching_if {};
template <>
struct avalanching_if<true> {
  using is_avalanching = void;
};

template <class Key, class Value, class Hash, class KeyEqual>
class group_core final : public core_base {
 public:
  struct flight final : flight_base {
    template <class K>
    flight(const K& k, std::size_t h) : flight_base(h), key(k) {}
    Key key;
  };

  using value_type = Value;

  group_core(boost::asio::any_io_executor ex, const Options& opts)
      : core_base(std::move(ex), opts) {}

  ~group_core() override = default;

  /// Parks the caller `handler` on the flight for `key`, starting one with
  /// `loader` if there is none.
  template <bool Boxed, class K, class F, class Handler>
  void join(const K& key, F& loader, Handler&& handler, waiter_slab slab) {
    using op_type = waiter_op<std::decay_t<Handler>, Value, Boxed>;
    op_type* op = op_type::create(std::move(handler), this, slab);
    op->arm_cancellation();
    const std::size_t h = hasher_(key);
    flight* started = nullptr;
    bool context_gone = false;
    errc failure{};
    try {
      std::lock_guard lock(mutex_);
      if (closed()) {
        context_gone = true;
      } else {
        ++counters_.calls;
        if (auto it = table_.find(hashed_key<K>{key, h}); it != table_.end()) {
          link_waiter(**it, *op);
          ++counters_.joins;
        } else if (table_.size() >= options_.max_in_flight) {
          failure = errc::too_many_flights;
          ++counters_.rejected;
        } else {
          auto fresh = std::make_unique<flight>(key, h);
          table_.insert(fresh.get());
          started = fresh.release();
          start_flight(*started);
          link_waiter(*started, *op);
        }
      }
    } catch (...) {  // the key's copy or the table's growth threw: tell this caller
      op->fail(std::current_exception());
      return;
    }
    if (context_gone) {
      op->discard();  // as Asio does with work for a context that has shut down
    } else if (failure != errc{}) {
      op->fail(group_error(failure));
    } else if (started != nullptr) {
      // join() holds the flight's first reference until the loader is launched,
      // so that a launch that throws can still complete the flight's callers.
      try {
        launch(*started, std::move(loader));
      } catch (...) {
        std::optional<Value> none;
        deliver(*started, std::current_exception(), none);
      }
      started->release();
    }
  }

  template <class K>
  bool forget(const K& key) {
    const std::size_t h = hasher_(key);
    std::lock_guard lock(mutex_);
    auto it = table_.find(hashed_key<K>{key, h});
    return it != table_.end() && forget_locked(**it);
  }

 private:
  // A lookup key with its hash computed before the lock is taken.
  template <class K>
  struct hashed_key {
    const K& key;
    std::size_t hash;
  };

  struct flight_hash : avalanching_if<boost::unordered::hash_is_avalanching<Hash>::value> {
    using is_transparent = void;
    std::size_t operator()(const flight* f) const noexcept { return f->hash; }
    template <class K>
    std::size_t operator()(const hashed_key<K>& k) const noexcept {
      return k.hash;
    }
  };

  struct flight_equal {
    using is_transparent = void;
    const KeyEqual* equal;
    bool operator()(const flight* a, const flight* b) const { return a == b; }
    template <class K>
    bool operator()(const hashed_key<K>& k, const flight* f) const {
      return (*equal)(k.key, f->key);
    }
    template <class K>
    bool operator()(const flight* f, const hashed_key<K>& k) const {
      return (*equal)(f->key, k.key);
    }
  };

  void table_erase(flight_base& f) noexcept override { table_.erase(static_cast<flight*>(&f)); }
  void table_clear() noexcept override { table_.clear(); }
  std::size_t table_size() const noexcept override { return table_.size(); }

  template <class F>
  void launch(flight& f, F&& loader) {
    auto self = std::static_pointer_cast<group_core>(shared_from_this());
    auto run = run_flight(std::move(self), &f, std::forward<F>(loader));
    // The completion handler holds a reference: the flight, and the signal
    // its loader is bound to, outlive the loader's coroutine.
    f.add_ref();
    auto done = boost::asio::bind_cancellation_slot(f.loader_signal.slot(), flight_ref(&f));
    if (strand().running_in_this_thread()) {
      // A loader of this group starting a flight: co_spawn would run the new
      // loader inline, inside its caller's initiation.
      const auto& ex = strand().executor();
      boost::asio::post(ex, [ex, run = std::move(run), done = std::move(done)]() mutable {
        boost::asio::co_spawn(ex, std::move(run), std::move(done));
      });
    } else {
      boost::asio::co_spawn(strand().executor(), std::move(run), std::move(done));
    }
  }

  template <class F>
  static boost::asio::awaitable<void> run_flight(std::shared_ptr<group_core> self, flight* f,
                                                 F loader) {
    std::exception_ptr error;
    std::optional<Value> value;
    try {
      auto load = loader();
      value.emplace(co_await std::move(load));
    } catch (...) {
      error = std::current_exception();
    }
    // A loader may end on another executor (it awaited with bind_executor);
    // the flight's end, like its cancellation, belongs on the strand.
    if (!self->strand().running_in_this_thread()) {
      // Even when the loader was cancelled: this await must not throw, or
      // the flight would never end.
      co_await boost::asio::this_coro::throw_if_cancelled(false);
      const auto& strand = self->strand().executor();
      co_await boost::asio::dispatch(strand, boost::asio::use_awaitable);
    }
    self->deliver(*f, error, value);
  }

  void deliver(flight& f, const std::exception_ptr& error, std::optional<Value>& value) noexcept {
    const waiter_list list = finish(f, error != nullptr);
    const bool shared = list.count > 1;
    for (waiter_base* w = list.head; w != nullptr; w = w->next) {
      auto& rw = static_cast<result_waiter<Value>&>(*w);
      rw.shared = shared;
      if (error) {
        rw.error = error;
      } else if (w->next == nullptr) {
        rw.value.emplace(std::move(*value));
      } else {
        try {
          rw.value.emplace(*value);
        } catch (...) {
          rw.error = std::current_exception();
        }
      }
      w->state.store(waiter_state::completing, std::memory_order_release);
    }
    sync_with_detach();
    for (waiter_base* w = list.head; w != nullptr;) {
      waiter_base* next = w->next;  // resuming w may free it
      w->resume(w, false);
      w = next;
    }
  }

  Hash hasher_;
  KeyEqual equal_;
  boost::unordered_flat_set<flight*, flight_hash, flight_equal> table_{
      0, flight_hash{}, flight_equal{&equal_}};
};

}  // namespace singleflight::detail

#endif
