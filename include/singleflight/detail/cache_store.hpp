// SPDX-License-Identifier: BSL-1.0
// The state of a Cache, with no I/O: entries, their LRU order, the leases of
// loads in progress, and the counters, in shards of one lock each. Each call makes
// one decision and returns it; the Cache carries it out (answers, starts a
// load or a refresh through its group). Tested without an io_context.
//
// What guards what:
//   every field of a shard    that shard's mutex_, but the options (const)
//   the shard table, hash_    immutable after construction
//
// Leases (memcache at Facebook, NSDI 2013): a caller that misses takes the
// key's lease (or shares the one taken already); a load's result is stored
// only if the key still holds the lease it started under. put, erase and
// clear drop the key's lease, so a load that was running then is not stored.
//
// An entry holds either a value (fresh until `fresh_until`, then stale until
// `serve_until`) or a kept failure (until `fresh_until`). `serial` names the
// store that wrote it, so a load that starts after another one stored a
// newer value can answer with that value instead of loading again.
#ifndef SINGLEFLIGHT_DETAIL_CACHE_STORE_HPP
#define SINGLEFLIGHT_DETAIL_CACHE_STORE_HPP

#include <singleflight/cache_options.hpp>
#include <singleflight/cache_stats.hpp>
#include <singleflight/detail/spin_mutex.hpp>
#include <singleflight/detail/xfetch.hpp>

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace singleflight::detail {

enum class cache_action {
  hit,          ///< answer at once with `value` or `error`
  hit_refresh,  ///< answer at once with `value`, and start a background refresh
  load,         ///< nothing to serve: join or start a load under `lease`
};

template <class Value>
struct cache_decision {
  cache_action action = cache_action::load;
  std::optional<Value> value;     ///< hit: the value, unless `error`
  std::exception_ptr error;       ///< hit: a kept failure
  std::uint64_t lease = 0;        ///< load, hit_refresh: the lease the result is stored under
  std::uint64_t seen_serial = 0;  ///< the entry this caller saw (0: none)
  std::uint64_t refresh_id = 0;   ///< hit_refresh: ends with refresh_done(refresh_id)
};

/// What a load ended with, as far as the cache cares.
enum class load_end { value, failure, cancelled };

/// A key with its hash, computed once, outside the lock: the maps below
/// hash by reading it, so no hashing happens under a shard's mutex.
template <class K>
struct hashed {
  std::size_t hash;
  K key;
};
template <class K>
hashed<const K&> hashed_ref(std::size_t hash, const K& key) {
  return {hash, key};
}
struct by_hash {
  using is_transparent = void;
  using is_avalanching = void;  // the cache's Hash is asked to be a good one
  template <class T>
  std::size_t operator()(const T& k) const noexcept {
    return k.hash;
  }
};
template <class KeyEqual>
struct by_key {
  using is_transparent = void;
  [[no_unique_address]] KeyEqual eq;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return a.hash == b.hash && eq(a.key, b.key);
  }
};

template <class Key, class Value, class KeyEqual, class Clock>
class alignas(64) cache_shard {
 public:
  using time_point = typename Clock::time_point;
  using duration = typename Clock::duration;

  /// `max_entries`: this shard's share of the bound; `bounded`: whether
  /// there is one (else the LRU order is never needed on a hit).
  cache_shard(const CacheOptions& o, std::size_t max_entries, bool bounded)
      : ttl_(to_clock(o.ttl)),
        stale_ttl_(to_clock(o.stale_ttl)),
        error_ttl_(to_clock(o.error_ttl)),
        beta_(o.early_refresh_beta),
        max_entries_(max_entries),
        bounded_(bounded) {}

  /// What a get() for `key` at `now` does. With `values_only` (try_get), a
  /// kept failure or a miss is `load` with no lease taken and nothing
  /// counted: the get() that follows counts it.
  template <class K>
  cache_decision<Value> lookup(const hashed<const K&>& key, time_point now, bool values_only = false) {
    cache_decision<Value> d;
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      entry& e = it->second;
      if (now < e.fresh_until && !(values_only && e.error)) {
        if (bounded()) lru_.splice(lru_.begin(), lru_, e.lru);
        if (e.error) {
          ++stats_.error_hits;
          d.action = cache_action::hit;
          d.error = e.error;
          return d;
        }
        ++stats_.hits;
        d.value.emplace(e.value);
        if (beta_ > 0 && e.refresh == 0 && xfetch_due(now, e.fresh_until, e.load_time, beta_, xfetch_draw())) {
          ++stats_.early_refreshes;
          begin_refresh(key, e, d);
        } else {
          d.action = cache_action::hit;
        }
        return d;
      }
      if (!e.error && now < e.serve_until) {
        if (bounded()) lru_.splice(lru_.begin(), lru_, e.lru);
        ++stats_.stale_hits;
        d.value.emplace(e.value);
        if (e.refresh == 0 && now >= e.no_refresh_before)
          begin_refresh(key, e, d);
        else
          d.action = cache_action::hit;
        return d;
      }
      d.seen_serial = e.serial;
    }
    if (values_only) return d;
    ++stats_.misses;
    d.action = cache_action::load;
    d.lease = take_lease(key);
    return d;
  }

  /// At the start of a load: the value (or kept failure) that another load
  /// or a put stored after this caller looked (serial != seen), if fresh.
  template <class K>
  std::optional<std::pair<std::optional<Value>, std::exception_ptr>> newer(const hashed<const K&>& key,
                                                                            std::uint64_t seen, time_point now) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end() || it->second.serial == seen || now >= it->second.fresh_until) return std::nullopt;
    const entry& e = it->second;
    if (e.error) return std::pair{std::optional<Value>(), e.error};
    return std::pair{std::optional<Value>(e.value), std::exception_ptr()};
  }

  void count_load() {
    std::lock_guard lock(mutex_);
    ++stats_.loads;
  }

  /// The end of a load that ran under `lease`: stores its value or its
  /// failure if the lease still holds. `value` is null unless `end` is value.
  /// `expires`: a copy of a shared value (another process's load) is fresh
  /// no longer than the shared one, even when that ends before the ttl.
  template <class K>
  void load_done(const hashed<const K&>& key, std::uint64_t lease, load_end end, const Value* value, std::exception_ptr error,
                 duration took, time_point now, std::optional<time_point> expires = std::nullopt) {
    std::lock_guard lock(mutex_);
    if (end == load_end::failure) ++stats_.load_failures;
    auto lit = leases_.find(key);
    if (lit == leases_.end() || lit->second != lease) {
      // put, erase or clear ran meanwhile (or a newer load holds the key).
      if (end != load_end::cancelled) ++stats_.invalidated;
      return;
    }
    leases_.erase(lit);
    if (end == load_end::cancelled) return;  // every caller left: nothing learnt
    auto it = map_.find(key);
    if (end == load_end::failure) {
      if (it != map_.end() && !it->second.error && now < it->second.serve_until) {
        // A failed refresh: the stale value stays until its window ends.
        it->second.no_refresh_before = add(now, error_ttl_);
        return;
      }
      if (error_ttl_ <= duration::zero()) return;
      entry& e = upsert(it, key);
      e.value = Value();
      e.error = std::move(error);
      e.fresh_until = e.serve_until = expires ? (std::min)(add(now, error_ttl_), *expires) : add(now, error_ttl_);
      e.load_time = took;
      e.serial = ++ids_;
      e.no_refresh_before = {};
      return;
    }
    store_value(upsert(it, key), *value, now, took, expires);
  }

  /// A background refresh ended (delivered to its handler).
  template <class K>
  void refresh_done(const hashed<const K&>& key, std::uint64_t refresh_id, bool failed) {
    std::lock_guard lock(mutex_);
    if (failed) ++stats_.refresh_failures;
    auto it = map_.find(key);
    if (it != map_.end() && it->second.refresh == refresh_id) it->second.refresh = 0;
  }

  template <class K>
  void put(const hashed<const K&>& key, Value v, time_point now) {
    std::lock_guard lock(mutex_);
    leases_.erase(key);
    auto it = map_.find(key);
    const duration took = it != map_.end() ? it->second.load_time : duration::zero();
    store_value(upsert(it, key), std::move(v), now, took);
  }

  template <class K>
  bool erase(const hashed<const K&>& key) {
    std::lock_guard lock(mutex_);
    leases_.erase(key);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    lru_.erase(it->second.lru);
    map_.erase(it);
    return true;
  }

  /// Empties the cache; returns the keys that had a load in progress (for
  /// the group to forget).
  void clear(std::vector<Key>& loading) {
    std::lock_guard lock(mutex_);
    for (auto& [k, lease] : leases_) loading.push_back(k.key);
    leases_.clear();
    map_.clear();
    lru_.clear();
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return map_.size();
  }

  /// Adds this shard's counters to `s`.
  void add_stats(CacheStats& s) const {
    std::lock_guard lock(mutex_);
    s.hits += stats_.hits;
    s.stale_hits += stats_.stale_hits;
    s.error_hits += stats_.error_hits;
    s.misses += stats_.misses;
    s.loads += stats_.loads;
    s.load_failures += stats_.load_failures;
    s.refreshes += stats_.refreshes;
    s.early_refreshes += stats_.early_refreshes;
    s.refresh_failures += stats_.refresh_failures;
    s.invalidated += stats_.invalidated;
    s.evictions += stats_.evictions;
    s.size += map_.size();
  }

 private:
  // What a fresh hit reads comes first, next to the key in the map's slot.
  struct entry {
    time_point fresh_until{};
    std::exception_ptr error;
    Value value{};
    time_point serve_until{};
    std::uint64_t refresh = 0;  // the background refresh pending, 0 = none
    duration load_time{};       // XFetch's delta
    time_point no_refresh_before{};  // after a failed refresh, with error_ttl
    std::uint64_t serial = 0;
    typename std::list<hashed<Key>>::iterator lru;
  };
  using map_type = boost::unordered_flat_map<hashed<Key>, entry, by_hash, by_key<KeyEqual>>;

  static duration to_clock(std::chrono::nanoseconds d) {
    return d <= std::chrono::nanoseconds::zero() ? duration::zero() : std::chrono::ceil<duration>(d);
  }
  // now + d, saturated: a ttl of years must not wrap around.
  static time_point add(time_point t, duration d) {
    return d > time_point::max() - t ? time_point::max() : t + d;
  }
  bool bounded() const { return bounded_; }

  template <class K>
  std::uint64_t take_lease(const hashed<const K&>& key) {
    auto lit = leases_.find(key);
    if (lit != leases_.end()) return lit->second;  // share the load's lease
    const std::uint64_t lease = ++ids_;
    leases_.emplace(owned(key), lease);
    return lease;
  }

  template <class K>
  static hashed<Key> owned(const hashed<const K&>& key) {
    return {key.hash, Key(key.key)};
  }

  template <class K>
  void begin_refresh(const hashed<const K&>& key, entry& e, cache_decision<Value>& d) {
    ++stats_.refreshes;
    e.refresh = ++ids_;
    d.action = cache_action::hit_refresh;
    d.refresh_id = e.refresh;
    d.seen_serial = e.serial;
    d.lease = take_lease(key);
  }

  // The entry for `key` (`it` its lookup), inserted if missing, evicting the
  // least recently used to stay within max_entries.
  template <class K>
  entry& upsert(typename map_type::iterator it, const hashed<const K&>& key) {
    if (it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second;
    }
    while (!map_.empty() && map_.size() >= max_entries_) {
      map_.erase(lru_.back());
      lru_.pop_back();
      ++stats_.evictions;
    }
    lru_.push_front(owned(key));
    entry& e = map_.try_emplace(lru_.front()).first->second;
    e.lru = lru_.begin();
    return e;
  }

  template <class V>
  void store_value(entry& e, V&& v, time_point now, duration took, std::optional<time_point> expires = std::nullopt) {
    e.value = std::forward<V>(v);
    e.error = nullptr;
    e.fresh_until = expires ? (std::min)(add(now, ttl_), *expires) : add(now, ttl_);
    e.serve_until = add(e.fresh_until, stale_ttl_);
    e.no_refresh_before = {};
    e.load_time = took;
    e.serial = ++ids_;
    // e.refresh stays: the pending refresh's handler clears it.
  }

  const duration ttl_, stale_ttl_, error_ttl_;
  const double beta_;
  const std::size_t max_entries_;
  const bool bounded_;

  mutable spin_mutex mutex_;
  map_type map_;
  std::list<hashed<Key>> lru_;  // most recently used first
  boost::unordered_flat_map<hashed<Key>, std::uint64_t, by_hash, by_key<KeyEqual>> leases_;
  std::uint64_t ids_ = 0;  // leases, serials and refresh ids
  CacheStats stats_;
};

/// The shards of a cache: a key's hash, computed once outside any lock,
/// picks its shard, so that callers on different keys rarely meet on a
/// mutex. A bounded cache of fewer than `min_per_shard * shard_count`
/// entries has one shard, so that small bounds keep an exact LRU order;
/// larger ones split `max_entries` evenly (LRU within each shard).
template <class Key, class Value, class Hash, class KeyEqual, class Clock>
class cache_store {
  using shard_type = cache_shard<Key, Value, KeyEqual, Clock>;

 public:
  static constexpr std::size_t shard_count = 16;
  static_assert((shard_count & (shard_count - 1)) == 0, "shard() masks the hash");
  static constexpr std::size_t min_per_shard = 64;

  explicit cache_store(const CacheOptions& o) {
    const std::size_t max = o.max_entries == 0 ? 1 : o.max_entries;  // room for one at least
    const std::size_t n = max < min_per_shard * shard_count ? 1 : shard_count;
    shards_.reserve(n);
    const bool bounded = o.max_entries != (std::numeric_limits<std::size_t>::max)();
    for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<shard_type>(o, max / n, bounded));
  }

  template <class K>
  hashed<const K&> hash(const K& key) const {
    return hashed_ref(static_cast<std::size_t>(hash_(key)), key);
  }

  /// The shard of a hashed key: bits the maps' own placement uses least.
  /// A mask, not a division: the count is 1 or shard_count, a power of two.
  template <class K>
  shard_type& shard(const hashed<const K&>& key) const {
    return *shards_[(key.hash >> 8) & (shards_.size() - 1)];
  }

  std::vector<Key> clear() {
    std::vector<Key> loading;
    for (auto& s : shards_) s->clear(loading);
    return loading;
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (auto& s : shards_) n += s->size();
    return n;
  }

  CacheStats stats() const {
    CacheStats total;
    for (auto& s : shards_) s->add_stats(total);
    return total;
  }

 private:
  Hash hash_;
  std::vector<std::unique_ptr<shard_type>> shards_;
};

}  // namespace singleflight::detail

#endif
