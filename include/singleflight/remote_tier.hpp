// SPDX-License-Identifier: BSL-1.0
// The seam between a Cache and a store shared by several processes (a
// "remote tier", such as singleflight::redis): the cache asks the tier who
// loads a key fleet-wide, and hands it the outcome. The core library only
// declares it; implementations live in their own libraries.
#ifndef SINGLEFLIGHT_REMOTE_TIER_HPP
#define SINGLEFLIGHT_REMOTE_TIER_HPP

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace singleflight {

/// A loader's failure as another process reported it: only its message
/// crosses processes.
class remote_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A claim on one key's load for the whole fleet, held by the process that
/// won it. While it lives the tier keeps it alive (renews it); dropping it
/// without commit or abandon releases it.
class remote_lease {
 public:
  virtual ~remote_lease() = default;
};

/// What a Cache with a tier does on a local miss (one coroutine per process
/// per key, since the cache coalesces locally first):
///   claim → value: another process loaded it; decode it, no load.
///         → error: another process's loader failed (rethrown as remote_error).
///         → lead:  this process loads, then commit (or abandon on failure).
///         → local: the tier cannot help (down, slow, gave up): load locally.
/// A tier never throws from claim for a tier failure: it answers `local`.
///
/// Every awaitable may complete on the tier's own executor; callers resume on
/// theirs (they are returned through co_spawn).
class remote_tier {
 public:
  enum class outcome { value, error, lead, local };
  struct claim_result {
    outcome kind = outcome::local;
    std::string bytes;                    // the value, or the error's message
    std::shared_ptr<remote_lease> lease;  // lead only
    /// value, error: how long the shared copy lives on (a copy kept locally
    /// must not outlive it, or the fleet's copies drift apart); none: the
    /// full ttl (a fresh commit).
    std::optional<std::chrono::milliseconds> remaining_ttl;
  };

  virtual ~remote_tier() = default;

  /// Throws operation_aborted when the caller's cancellation arrives.
  virtual boost::asio::awaitable<claim_result> claim(std::string key) = 0;
  /// Stores the value for `ttl` if the lease is still held; false if it was
  /// lost (expired, or the key invalidated meanwhile): nothing is stored.
  virtual boost::asio::awaitable<bool> commit(std::shared_ptr<remote_lease> lease, std::string bytes,
                                              std::chrono::milliseconds ttl) = 0;
  /// Releases the lease and wakes the followers; with an error message they
  /// get it, and with `error_ttl` > 0 it is kept for that long.
  virtual boost::asio::awaitable<void> abandon(std::shared_ptr<remote_lease> lease,
                                               std::optional<std::string> error,
                                               std::chrono::milliseconds error_ttl) = 0;
  /// Deletes the key's value and lease fleet-wide (a late commit then fails).
  virtual void invalidate(std::string key) = 0;
};

/// How values cross processes: specialize `codec<T>` with
///   static std::string encode(const T&);
///   static T decode(std::string_view);
/// `std::string` works out of the box. Including <singleflight/json_codec.hpp>
/// gives a JSON codec to every type that Boost.JSON converts both ways
/// (tag_invoke, Boost.Describe, standard containers); the program links
/// Boost::json then (a compiled library, so the tier does not impose it).
template <class T, class = void>
struct codec;

template <>
struct codec<std::string> {
  static std::string encode(const std::string& v) { return v; }
  static std::string decode(std::string_view b) { return std::string(b); }
};

template <class T>
concept has_codec = requires(const T& v, std::string_view b) {
  { codec<T>::encode(v) } -> std::convertible_to<std::string>;
  { codec<T>::decode(b) } -> std::convertible_to<T>;
};

/// How keys become the tier's bytes: string-like keys as they are, other
/// types through codec<Key>::encode.
template <class Key>
concept has_key_bytes = std::is_convertible_v<const Key&, std::string_view> || has_codec<Key>;

template <class Key>
  requires has_key_bytes<Key>
std::string key_bytes(const Key& k) {
  if constexpr (std::is_convertible_v<const Key&, std::string_view>)
    return std::string(std::string_view(k));
  else
    return codec<Key>::encode(k);
}

}  // namespace singleflight

#endif
