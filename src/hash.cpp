// SPDX-License-Identifier: BSL-1.0
// SipHash-1-3 (Aumasson and Bernstein): a keyed hash whose collisions cannot
// be predicted without the key, the choice of Rust's HashMap for the same
// reason. One compression round per 8-byte word keeps short keys cheap.
#include <singleflight/hash.hpp>

#include <atomic>
#include <bit>
#include <cstring>
#include <random>

namespace singleflight::detail {

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

struct sip_state {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }

  void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    v0 ^= m;
  }
};

std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// The last n < 8 bytes as a little-endian word, in at most three loads
// instead of one per byte; overlapping loads OR the same bytes into the
// same places.
std::uint64_t load_le_tail(const unsigned char* p, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, sizeof lo);
    std::memcpy(&hi, p + n - 4, sizeof hi);
    if constexpr (std::endian::native == std::endian::big) {
      lo = __builtin_bswap32(lo);
      hi = __builtin_bswap32(hi);
    }
    return lo | (static_cast<std::uint64_t>(hi) << (8 * (n - 4)));
  }
  if (n == 0) return 0;
  return p[0] | (static_cast<std::uint64_t>(p[n / 2]) << (8 * (n / 2))) |
         (static_cast<std::uint64_t>(p[n - 1]) << (8 * (n - 1)));
}

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t process_seed() {
  static const std::uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  return seed;
}
}  // namespace

std::uint64_t siphash13(const std::uint64_t k[2], const void* data, std::size_t len) noexcept {
  sip_state s{k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
              k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL};
  const auto* p = static_cast<const unsigned char*>(data);
  const std::size_t whole = len & ~std::size_t{7};
  for (std::size_t i = 0; i < whole; i += 8) s.absorb(load_le64(p + i));
  s.absorb((static_cast<std::uint64_t>(len) << 56) | load_le_tail(p + whole, len & 7));
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void new_hash_key(std::uint64_t k[2]) noexcept {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t x = process_seed() ^ (counter.fetch_add(1, std::memory_order_relaxed) * 0xd1342543de82ef95ULL);
  k[0] = splitmix64(x);
  k[1] = splitmix64(x);
}

}  // namespace singleflight::detail
