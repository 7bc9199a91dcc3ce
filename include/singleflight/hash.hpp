// SPDX-License-Identifier: BSL-1.0
// Default hashing of keys: keyed with a random key per group, so that callers
// who choose keys (a server's clients) cannot craft collisions.
#ifndef SINGLEFLIGHT_HASH_HPP
#define SINGLEFLIGHT_HASH_HPP

#include <boost/container_hash/hash.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

namespace singleflight {

namespace detail {
/// SipHash-1-3 of `len` bytes under the 128-bit key `k`.
std::uint64_t siphash13(const std::uint64_t k[2], const void* data, std::size_t len) noexcept;
/// A fresh random key: a process-wide random seed mixed with a counter.
void new_hash_key(std::uint64_t k[2]) noexcept;
}  // namespace detail

/// SipHash-1-3 of the key's bytes, with a random key drawn per instance
/// (each group constructs its own). Transparent: `std::string`,
/// `std::string_view` and string literals hash alike.
class SeededStringHash {
 public:
  using is_transparent = void;
  using is_avalanching = void;  // no extra mixing needed in Boost.Unordered

  SeededStringHash() noexcept { detail::new_hash_key(key_); }

  std::size_t operator()(std::string_view s) const noexcept {
    return static_cast<std::size_t>(detail::siphash13(key_, s.data(), s.size()));
  }

 private:
  std::uint64_t key_[2];
};

/// SipHash-1-3 of an integer's bytes, with a random key per instance.
template <class T>
class SeededIntegerHash {
 public:
  using is_avalanching = void;

  SeededIntegerHash() noexcept { detail::new_hash_key(key_); }

  std::size_t operator()(const T& v) const noexcept {
    return static_cast<std::size_t>(detail::siphash13(key_, &v, sizeof v));
  }

 private:
  std::uint64_t key_[2];
};

namespace detail {
template <class Key>
inline constexpr bool is_string_key_v =
    std::is_same_v<Key, std::string> || std::is_same_v<Key, std::string_view>;

template <class Key>
inline constexpr bool is_integer_key_v =
    (std::is_integral_v<Key> || std::is_enum_v<Key>) && std::has_unique_object_representations_v<Key>;
}  // namespace detail

/// The default `Hash` of `AsyncGroup<Key, ...>`: seeded for strings and
/// integers, `boost::hash<Key>` otherwise.
template <class Key>
using DefaultHash = std::conditional_t<
    detail::is_string_key_v<Key>, SeededStringHash,
    std::conditional_t<detail::is_integer_key_v<Key>, SeededIntegerHash<Key>, boost::hash<Key>>>;

/// The default `KeyEqual`: transparent for strings.
template <class Key>
using DefaultKeyEqual =
    std::conditional_t<detail::is_string_key_v<Key>, std::equal_to<>, std::equal_to<Key>>;

}  // namespace singleflight

#endif
