// SPDX-License-Identifier: BSL-1.0
// group_impl: an AsyncGroup's implementation for its Key and Value, over the
// untyped group_state: hashing a key and building its flight for the flight
// table, running a loader on its flight's strand, and delivering its result.
#ifndef SINGLEFLIGHT_DETAIL_GROUP_IMPL_HPP
#define SINGLEFLIGHT_DETAIL_GROUP_IMPL_HPP

#include <singleflight/detail/group_state.hpp>
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

#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace singleflight::detail {

/// What join() did with a caller.
enum class join_result {
  linked,  // on a flight (maybe already handed its result: see waiter_state)
  failed,  // never linked; its error is set
  closed   // the context has shut down: destroy the caller unrun, as Asio does
};

template <class Key, class Value, class Hash, class KeyEqual>
class group_impl final : public group_state {
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

  group_impl(executor_type ex, const Options& opts) : group_state(std::move(ex), opts) {}
  ~group_impl() override = default;

  /// Links `w` (initiating) on the flight for `key`, starting one with
  /// `loader` if there is none. The loader may run, and even finish, before
  /// this returns: `w` is then `ready`. Never completes `w` itself.
  template <class K, class F>
  join_result join(const K& key, F& loader, result_waiter<Value>& w) noexcept {
    const lookup<K> probe_key{key, equal_};
    const key_probe probe{hash_of(key), &probe_key, &lookup<K>::equals};
    flight* fresh = nullptr;
    try {
      for (;;) {
        switch (table().admit(probe, w, fresh)) {
          case flight_table::admit_result::joined:
            if (fresh != nullptr) fresh->release();  // another caller started one meanwhile
            return join_result::linked;
          case flight_table::admit_result::started:
            launch(*fresh, loader, strand(fresh->strand_index));
            return join_result::linked;
          case flight_table::admit_result::rejected:
            if (fresh != nullptr) fresh->release();
            w.error = group_error(errc::too_many_flights);
            return join_result::failed;
          case flight_table::admit_result::closed:
            if (fresh != nullptr) fresh->release();  // never shared: freed here
            return join_result::closed;
          case flight_table::admit_result::need_flight:
            // Built outside the lock; then the table is asked again.
            fresh = flight::make(key, probe.hash, strand_for(probe.hash));
            break;
        }
      }
    } catch (...) {  // the key's copy, the flight's memory or the table's growth
      if (fresh != nullptr) fresh->release();
      w.error = std::current_exception();
      return join_result::failed;
    }
  }

  template <class K>
  bool forget(const K& key) {
    const lookup<K> probe_key{key, equal_};
    return table().forget(key_probe{hash_of(key), &probe_key, &lookup<K>::equals});
  }

 private:
  // A key to compare with a flight's, for the type-erased table.
  template <class K>
  struct lookup {
    const K& key;
    const KeyEqual& equal;
    static bool equals(const void* p, const flight_node& f) {
      const auto& self = *static_cast<const lookup*>(p);
      return self.equal(self.key, static_cast<const flight&>(f).key);
    }
  };

  // The table expects a well-mixed hash (it skips Boost.Unordered's own
  // mixing); a hash that does not declare itself avalanching is mixed here.
  template <class K>
  std::size_t hash_of(const K& key) const {
    std::size_t h = hasher_(key);
    if constexpr (!boost::unordered::hash_is_avalanching<Hash>::value) {
      h ^= h >> 32;
      h *= 0x9e3779b97f4a7c15ULL;
      h ^= h >> 29;
    }
    return h;
  }

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
      group_state_ref core(this);
      auto work = boost::asio::prefer(executor(), boost::asio::execution::outstanding_work.tracked);
      entry_type entry = flight_main(std::move(core), std::move(for_thread), F(std::move(loader)), std::move(work));
      f.add_ref();
      flight_ref for_launcher(&f);
      launcher start{std::move(entry), std::move(for_launcher), loader_ex.executor()};
      if (options().loader_yields_continue_here)
        loader_ex.dispatch_as_continuation(std::move(start));
      else
        loader_ex.dispatch(std::move(start));
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
      auto& f = static_cast<flight_base&>(*ref.get());
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
  static entry_type flight_main(group_state_ref core, flight_ref ref, F loader, executor_type work) {
    (void)work;
    auto& self = static_cast<group_impl&>(*core.get());
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
    const waiter_list list = table().finish(f, error != nullptr);
    deliver_to<Value>(*this, list, error, value);
  }

  Hash hasher_;
  KeyEqual equal_;
};

}  // namespace singleflight::detail

#endif
