// The typed half of a group: the table of flights by key, joining, running a
// loader on its flight's strand, and delivering its result.
#ifndef SINGLEFLIGHT_DETAIL_GROUP_CORE_HPP
#define SINGLEFLIGHT_DETAIL_GROUP_CORE_HPP

#include <singleflight/detail/core_base.hpp>
#include <singleflight/detail/deliver.hpp>
#include <singleflight/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/unordered/hash_traits.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <cstddef>
#include <exception>
#include <mutex>
#include <new>
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

/// What join() did with a caller.
enum class join_result {
  linked,  // on a flight (maybe already handed its result: see waiter_state)
  failed,  // never linked; its error is set
  closed   // the context has shut down: destroy the caller unrun, as Asio does
};

template <class Key, class Value, class Hash, class KeyEqual>
class group_core final : public core_base {
  using executor_type = boost::asio::any_io_executor;
  using thread_type = boost::asio::detail::awaitable_thread<executor_type>;
  using entry_type = boost::asio::awaitable<boost::asio::detail::awaitable_thread_entry_point, executor_type>;

 public:
  struct flight final : flight_base {
    template <class K>
    flight(const K& k, std::size_t h, std::uint32_t strand) : flight_base(h, strand), key(k) {}
    Key key;

    template <class K>
    static flight* make(const K& k, std::size_t h, std::uint32_t strand) {
      boost::asio::recycling_allocator<flight> alloc;
      flight* p = alloc.allocate(1);
      try {
        return ::new (static_cast<void*>(p)) flight(k, h, strand);
      } catch (...) {
        alloc.deallocate(p, 1);
        throw;
      }
    }

   private:
    void destroy() noexcept override {
      boost::asio::recycling_allocator<flight> alloc;
      this->~flight();
      alloc.deallocate(this, 1);
    }
  };

  using value_type = Value;

  group_core(executor_type ex, const Options& opts) : core_base(std::move(ex), opts) {}
  ~group_core() override = default;

  /// Links `w` (initiating) on the flight for `key`, starting one with
  /// `loader` if there is none. The loader may run, and even finish, before
  /// this returns: `w` is then `ready`. Never completes `w` itself.
  template <class K, class F>
  join_result join(const K& key, F& loader, result_waiter<Value>& w) noexcept {
    const std::size_t h = hasher_(key);
    flight* fresh = nullptr;
    try {
      for (;;) {
        std::optional<loader_strand> loader_ex;
        bool linked = false;
        {
          std::lock_guard lock(mutex_);
          if (closed()) {
            if (fresh != nullptr) fresh->release();  // never shared: freed here
            return join_result::closed;
          }
          if (auto it = table_.find(hashed_key<K>{key, h}); it != table_.end()) {
            ++counters_.calls;
            ++counters_.joins;
            link_waiter(**it, w);
            linked = true;
          } else if (table_.size() >= options_.max_in_flight) {
            ++counters_.calls;
            ++counters_.rejected;
            w.error = group_error(errc::too_many_flights);
          } else if (fresh != nullptr) {
            ++counters_.calls;
            table_.insert(fresh);  // may grow the table (amortized)
            start_flight(*fresh);
            link_waiter(*fresh, w);
            linked = true;
            loader_ex.emplace(strand(fresh->strand_index));
          }
        }
        if (linked) {
          if (loader_ex)
            launch(*std::exchange(fresh, nullptr), loader, *loader_ex);
          else if (fresh != nullptr)
            fresh->release();  // another caller started the flight meanwhile
          return join_result::linked;
        }
        if (w.error) {
          if (fresh != nullptr) fresh->release();
          return join_result::failed;
        }
        // No flight for the key: build one outside the lock, then look again.
        fresh = flight::make(key, h, strand_for(h));
      }
    } catch (...) {  // the key's copy, the flight's memory or the table's growth
      if (fresh != nullptr) fresh->release();
      w.error = std::current_exception();
      return join_result::failed;
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

  // Starts the loader in a coroutine thread of its own, on the flight's
  // strand: at once when this thread can enter the strand, else queued
  // there. The flight's first reference, which join() made, goes to it.
  template <class F>
  void launch(flight& f, F& loader, const loader_strand& loader_ex) noexcept {
    const flight_ref first(&f);  // join()'s reference, kept until here
    try {
      f.add_ref();
      flight_ref for_thread(&f);
      add_ref();
      core_ref core(this);
      auto work = boost::asio::prefer(executor(), boost::asio::execution::outstanding_work.tracked);
      entry_type entry = flight_main(std::move(core), std::move(for_thread), F(std::move(loader)), std::move(work));
      f.add_ref();
      flight_ref for_launcher(&f);
      loader_ex.dispatch(launcher{std::move(entry), std::move(for_launcher), loader_ex.executor()});
    } catch (...) {
      // The loader never ran: the flight ends here, with the launch's error.
      std::optional<Value> none;
      deliver(f, std::current_exception(), none);
    }
  }

  // Runs on the flight's strand, which owns the loader's cancellation
  // signal from here on.
  struct launcher {
    entry_type entry;
    flight_ref ref;
    executor_type ex;
    void operator()() {
      flight_base& f = *ref.get();
      boost::asio::cancellation_slot slot = f.loader_signal.slot();
      thread_type thread(std::move(entry), ex, slot, boost::asio::cancellation_state(slot));
      f.loader_started = true;
      thread.launch();  // until the loader first suspends, or ends
      // Abandoned before it started: cancel_loader()'s emission found no
      // loader to cancel, so it is delivered now that the loader waits.
      if (f.cancel_requested.load(std::memory_order_acquire)) emit_cancellation(f);
    }
  };

  // The bottom frame of a loader's thread. Its parameters live as long as
  // the thread: the core, the flight (and so the cancellation signal the
  // thread is connected to), the loader, and one unit of work on the
  // group's executor, as co_spawn keeps.
  template <class F>
  static entry_type flight_main(core_ref core, flight_ref ref, F loader, executor_type work) {
    (void)work;
    auto& self = static_cast<group_core&>(*core.get());
    auto& f = static_cast<flight&>(*ref.get());
    std::exception_ptr error;
    std::optional<Value> value;
    try {
      auto load = loader();
      value.emplace(co_await std::move(load));
    } catch (...) {
      error = std::current_exception();
    }
    // A loader may end on another executor (it awaited with bind_executor);
    // the flight's end, like its cancellation, belongs on its strand.
    if (!self.strand(f.strand_index).running_in_this_thread()) {
      // Even when the loader was cancelled: this await must not throw, or
      // the flight would never end.
      co_await boost::asio::this_coro::throw_if_cancelled(false);
      const executor_type home = self.strand(f.strand_index).executor();
      co_await boost::asio::dispatch(home, boost::asio::use_awaitable);
    }
    self.deliver(f, error, value);
  }

  void deliver(flight& f, const std::exception_ptr& error, std::optional<Value>& value) noexcept {
    const waiter_list list = finish(f, error != nullptr);
    deliver_to<Value>(*this, list, error, value);
  }

  Hash hasher_;
  KeyEqual equal_;
  boost::unordered_flat_set<flight*, flight_hash, flight_equal> table_{0, flight_hash{}, flight_equal{&equal_}};
};

}  // namespace singleflight::detail

#endif
