// A small thread-safe cache whose entries expire a fixed time after they are
// stored.
#ifndef CACHE_SERVER_TTL_CACHE_HPP
#define CACHE_SERVER_TTL_CACHE_HPP

#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace cache_server {

/// One mutex is enough here: lookups are short, and the connections' threads
/// (as many as cores) are the only contenders. Expired entries are not swept:
/// they are overwritten by the next store, and the key space is bounded (item
/// ids are checked against the database's range before they reach the cache).
template <class Key, class Value>
class TtlCache {
 public:
  using clock = std::chrono::steady_clock;

  explicit TtlCache(clock::duration ttl) : ttl_(ttl) {}

  /// The value stored for `key` less than ttl ago, if any.
  std::optional<Value> get(const Key& key) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || clock::now() >= it->second.expires) return std::nullopt;
    return it->second.value;
  }

  void put(const Key& key, Value value) {
    const auto expires = clock::now() + ttl_;
    std::lock_guard lock(mutex_);
    entries_.insert_or_assign(key, Entry{std::move(value), expires});
  }

 private:
  struct Entry {
    Value value;
    clock::time_point expires;
  };

  const clock::duration ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, Entry> entries_;
};

}  // namespace cache_server

#endif
