// SPDX-License-Identifier: BSL-1.0
// The state machine of flights and waiters, with no I/O in it: which flight
// a caller joins or starts, who leaves, what a finished flight hands over,
// forget, close and shutdown. Each transition returns what the Asio layer
// (group_impl, group_state) must do next; that layer never edits a flight's or
// a waiter's links itself. Tested without an io_context (test_flight_table).
//
// The table is cut into shards by the key's hash, each with its own lock,
// flights and counters, so that threads working on different keys do not
// queue on one lock; a key's flights, old and new, are always in the same
// shard, and so are its waiters.
//
// States (one enum each; every arrow is taken under the flight's shard's
// lock, but the waiter's last ones, which are atomic):
//
//   flight:  linked --forget--> forgotten --+
//              |  \                          +--finish--> finished
//              |   +--last caller left--> abandoned (loader to cancel)
//              +-----------finish--------------^
//   waiter:  initiating --(caller suspends)--> parked --> completing
//               \--(result or abort during the initiating call)--> ready
//
// Who guards what:
// | what                                              | guarded by                |
// |---------------------------------------------------|---------------------------|
// | a shard's flights, live list, counters, closed    | the shard's mutex         |
// | a flight's state, waiter list, counts             | its shard's mutex         |
// | a waiter's links (prev, next, flight)             | its shard's mutex while   |
// |                                                   | linked; then its deliverer|
// |                                                   | or closer                 |
// | a waiter's shard                                  | atomic, written once by   |
// |                                                   | admit() before linking    |
// | a waiter's state                                  | atomic (waiter_state)     |
// | a flight's reference count, cancel_requested      | atomic                    |
// | the count of linked flights (max_in_flight only)  | atomic                    |
#ifndef SINGLEFLIGHT_DETAIL_FLIGHT_TABLE_HPP
#define SINGLEFLIGHT_DETAIL_FLIGHT_TABLE_HPP

#include <singleflight/detail/spin_mutex.hpp>
#include <singleflight/detail/waiter.hpp>
#include <singleflight/options.hpp>
#include <singleflight/stats.hpp>

#include <boost/unordered/unordered_flat_set.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace singleflight::detail {

enum class flight_state : std::uint8_t {
  linked,     // in the table: new callers join it
  forgotten,  // out of the table (forget, close); its callers still wait
  abandoned,  // out of the table; every caller left, its loader is cancelled
  finished    // the loader has ended
};

/// The table's part of a flight. While not finished it is in the live list,
/// unless the table is closed or shut down (which empties that list).
class flight_node {
 public:
  flight_node(std::size_t h, std::uint32_t strand) noexcept : hash(h), strand_index(strand) {}
  flight_node(const flight_node&) = delete;
  flight_node& operator=(const flight_node&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  bool running() const noexcept { return state != flight_state::finished; }

  const std::size_t hash;
  const std::uint32_t strand_index;  // which loader strand (the Asio layer's)
  flight_state state = flight_state::linked;
  waiter_base* head = nullptr;
  waiter_base* tail = nullptr;
  std::size_t waiters = 0;
  std::size_t cancellable = 0;  // waiters ever linked with a canceller
  flight_node* live_prev = nullptr;
  flight_node* live_next = nullptr;
  // Set when the loader is to be cancelled; read by its strand, so that a
  // cancellation that arrives before the loader starts is not lost.
  std::atomic<bool> cancel_requested{false};

 protected:
  ~flight_node() = default;
  /// Frees the flight, with the allocator it was made with.
  virtual void destroy() noexcept = 0;

 private:
  std::atomic<std::size_t> refs_{1};
};

/// A list of waiters handed over by the table, in arrival order.
struct waiter_list {
  waiter_base* head = nullptr;
  std::size_t count = 0;
  std::uint32_t shard = 0;  // finish(): the flight's shard, for sync()
  /// Some waiter had a canceller: mark them all, then sync(), before
  /// resuming any.
  bool cancellable = false;
};

/// A key to look up, type-erased: its hash, and how to compare it with a
/// flight's key.
struct key_probe {
  std::size_t hash;
  const void* key;
  bool (*equals)(const void* key, const flight_node& f);
};

/// Told, under its shard's mutex, of each loader to cancel, so that its
/// cancellation is queued before any new flight for the key can start; it
/// takes over one reference to the flight.
struct loader_canceller {
  void (*cancel)(void* context, flight_node& f) noexcept;
  void* context;
};

class flight_table {
 public:
  static constexpr std::uint32_t shard_count = 16;  // a power of two, below waiter_base::no_shard

  /// The shard of a key's flights. Bits 32-35: the flat sets place by the
  /// hash's high bits and match by its low byte, and the loaders' strands
  /// use bits 40 and up.
  static std::uint32_t shard_index(std::size_t hash) noexcept {
    return static_cast<std::uint32_t>(hash >> 32) & (shard_count - 1);
  }

  flight_table(const Options& opts, loader_canceller canceller);
  flight_table(const flight_table&) = delete;
  flight_table& operator=(const flight_table&) = delete;

  enum class admit_result {
    joined,       // `w` is linked on a running flight
    started,      // `w` is linked on `fresh`, which is now linked: start its loader
    need_flight,  // no flight for the key: build one (outside the lock), ask again
    rejected,     // max_in_flight reached
    closed        // closed or shut down: destroy the caller unrun
  };
  /// Links `w` (initiating) on the flight for `key`, or on `fresh` if there
  /// is none and `fresh` is given. `fresh` stays the caller's unless started.
  admit_result admit(const key_probe& key, waiter_base& w, flight_node* fresh);

  /// A cancelled caller leaves. True if it was unlinked: complete it with
  /// operation_aborted. When it was its flight's last caller, the flight is
  /// abandoned and its loader handed to the canceller.
  bool detach(waiter_base& w) noexcept;

  /// The loader of `f` has ended: unlinks `f`, hands over its waiters.
  waiter_list finish(flight_node& f, bool failed) noexcept;

  /// Waits out any detach() that saw a waiter of the flight that `finished`
  /// came from still linked: after it, the flight may be freed.
  void sync(const waiter_list& finished) noexcept;

  bool forget(const key_probe& key);

  /// The group goes: returns every linked waiter, to complete with
  /// operation_aborted; the running loaders go to the canceller, unless
  /// Options::keep_abandoned_loaders.
  waiter_list close() noexcept;

  /// The execution context shuts down: every linked waiter, to destroy
  /// unrun. Later admit()s answer `closed`.
  waiter_list shut_down() noexcept;

  Stats stats() const;
  std::size_t in_flight() const;

 private:
  struct node_hash {
    using is_transparent = void;
    using is_avalanching = void;  // the group's hash is (SipHash, or the user's)
    std::size_t operator()(const flight_node* f) const noexcept { return f->hash; }
    std::size_t operator()(const key_probe& k) const noexcept { return k.hash; }
  };
  struct node_equal {
    using is_transparent = void;
    bool operator()(const flight_node* a, const flight_node* b) const noexcept { return a == b; }
    bool operator()(const key_probe& k, const flight_node* f) const { return k.equals(k.key, *f); }
    bool operator()(const flight_node* f, const key_probe& k) const { return k.equals(k.key, *f); }
  };

  // One cache line apart, so that two threads in two shards do not share
  // one.
  struct alignas(64) shard {
    mutable spin_mutex mutex;
    Stats counters;
    boost::unordered_flat_set<flight_node*, node_hash, node_equal> flights;
    flight_node* live_head = nullptr;  // every unfinished flight
    bool closed = false;
    bool shut_down = false;
    bool refuses() const noexcept { return closed || shut_down; }
  };

  // With the shard's mutex held.
  void link(flight_node& f, waiter_base& w) noexcept;
  void unlink(flight_node& f, waiter_base& w) noexcept;
  void erase_linked(shard& s, flight_node& f) noexcept;  // out of s.flights
  void abandon(shard& s, flight_node& f) noexcept;       // marks, counts, hands to canceller_
  static void live_push(shard& s, flight_node& f) noexcept;
  static void live_erase(shard& s, flight_node& f) noexcept;
  // Unlinks every waiter of `s`, appending them to `all` (whose last is `tail`).
  void take_all_waiters(shard& s, waiter_list& all, waiter_base*& tail) noexcept;

  // max_in_flight: linked flights of every shard, counted only when bounded.
  bool reserve_linked() noexcept;
  void unreserve_linked(std::size_t n) noexcept;

  const Options options_;
  const loader_canceller canceller_;
  const bool bounded_;
  std::atomic<std::size_t> linked_{0};
  std::array<shard, shard_count> shards_;
};

}  // namespace singleflight::detail

#endif
