// SPDX-License-Identifier: BSL-1.0
// Hash flooding: keys that an attacker crafts to collide under an
// unseeded hash must not make joins slow with the group's default hash.
//
// libstdc++'s std::hash<std::string> is MurmurHash64A with a fixed seed
// (0xc70f6907, libsupc++ hash_bytes.cc). Each 8-byte block goes through an
// invertible mix and is folded into the state with xor and an odd
// multiplier, so for any first block one can solve the second block that
// brings the state to a chosen value: unlimited 16-byte keys with one and
// the same 64-bit std::hash, made at test start with no search.
//
// Measured, in one run: the time per join (a second caller on a key whose
// flight is in the table) for N crafted keys against N random keys of the
// same length, medians over interleaved repetitions:
//   - AsyncGroup's default hash (SipHash-1-3, per-group random key): must be
//     within 2x;
//   - control, std::hash<std::string> as the group's Hash: the crafted keys
//     all land on one probe sequence of the flat table; reported, not
//     asserted (its factor depends on N and the machine).
#define BOOST_TEST_MODULE hash_flood
#include <singleflight/async_group.hpp>

#include "support/env.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

namespace asio = boost::asio;
using u64 = std::uint64_t;

// ------------------------------------------------------------ crafting

constexpr u64 kMul = (u64{0xc6a4a793} << 32) + 0x5bd1e995;  // MurmurHash64A's m
constexpr u64 kSeed = 0xc70f6907;                           // std::hash<std::string>'s seed

constexpr u64 inverse(u64 a) {  // modulo 2^64, a odd: Newton's iteration
  u64 x = a;
  for (int i = 0; i < 6; ++i) x *= 2 - a * x;
  return x;
}
constexpr u64 kMulInv = inverse(kMul);
static_assert(kMul * kMulInv == 1);

constexpr u64 shift_mix(u64 v) { return v ^ (v >> 47); }  // an involution: 47 > 32
constexpr u64 block_mix(u64 b) { return shift_mix(b * kMul) * kMul; }
constexpr u64 block_unmix(u64 y) { return shift_mix(y * kMulInv) * kMulInv; }
static_assert(block_unmix(block_mix(0x0123456789abcdefULL)) == 0x0123456789abcdefULL);

u64 load_le(const char* p) {
  u64 v;
  std::memcpy(&v, p, 8);
  return v;  // libstdc++ loads blocks in native order; x86-64 and friends
}

// `n` distinct 16-byte keys whose MurmurHash64A state after both blocks is
// `state`, hence whose std::hash is equal. The first block is random text.
std::vector<std::string> crafted_keys(std::size_t n, std::mt19937_64& rng) {
  const u64 h0 = kSeed ^ (16 * kMul);
  const u64 state = rng();
  std::vector<std::string> keys;
  std::unordered_set<u64> firsts;
  std::uniform_int_distribution<int> letter('a', 'z');
  while (keys.size() < n) {
    std::string k(16, '\0');
    for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(i)] = static_cast<char>(letter(rng));
    const u64 b1 = load_le(k.data());
    if (!firsts.insert(b1).second) continue;
    const u64 h1 = (h0 ^ block_mix(b1)) * kMul;
    const u64 b2 = block_unmix((state * kMulInv) ^ h1);
    std::memcpy(k.data() + 8, &b2, 8);
    keys.push_back(std::move(k));
  }
  return keys;
}

std::vector<std::string> random_keys(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  while (keys.size() < n) {
    std::string k(16, '\0');
    const u64 a = rng(), b = rng();
    std::memcpy(k.data(), &a, 8);
    std::memcpy(k.data() + 8, &b, 8);
    if (seen.insert(k).second) keys.push_back(std::move(k));
  }
  return keys;
}

// ------------------------------------------------------------ measuring

struct timing {
  double start_ns;  // per call that starts a flight (inserts the key)
  double join_ns;   // per call that joins a flight in the table
};

// N flights, one per key, all in the table at once (their loaders run only
// when the context runs); then one joining caller per key, timed.
template <class Group>
timing measure(const std::vector<std::string>& keys) {
  using clock = std::chrono::steady_clock;
  asio::io_context ioc;
  Group group(ioc.get_executor());
  auto loader = []() -> asio::awaitable<int> { co_return 1; };
  std::size_t done = 0;
  auto count = [&done](std::exception_ptr e, int v) {
    if (!e && v == 1) ++done;
  };
  const auto t0 = clock::now();
  for (const auto& k : keys) group.async_do(k, loader, count);
  const auto t1 = clock::now();
  for (const auto& k : keys) group.async_do(k, loader, count);
  const auto t2 = clock::now();
  const auto s = group.stats();
  BOOST_REQUIRE_EQUAL(s.flights_started, keys.size());
  BOOST_REQUIRE_EQUAL(s.joins, keys.size());
  ioc.run();
  BOOST_REQUIRE_EQUAL(done, 2 * keys.size());
  BOOST_REQUIRE_EQUAL(group.in_flight(), 0u);
  const double n = static_cast<double>(keys.size());
  return {std::chrono::duration<double, std::nano>(t1 - t0).count() / n,
          std::chrono::duration<double, std::nano>(t2 - t1).count() / n};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct comparison {
  double crafted_join, random_join, crafted_start, random_start;
  double join_ratio() const { return crafted_join / random_join; }
};

// Interleaved repetitions, so that drift (frequency, other load) hits both.
template <class Group>
comparison compare(const std::vector<std::string>& crafted, const std::vector<std::string>& random, int reps) {
  std::vector<double> cj, rj, cs, rs;
  for (int i = 0; i < reps; ++i) {
    const bool crafted_first = i % 2 == 0;
    const timing a = measure<Group>(crafted_first ? crafted : random);
    const timing b = measure<Group>(crafted_first ? random : crafted);
    const timing& c = crafted_first ? a : b;
    const timing& r = crafted_first ? b : a;
    cj.push_back(c.join_ns);
    rj.push_back(r.join_ns);
    cs.push_back(c.start_ns);
    rs.push_back(r.start_ns);
  }
  return {median(cj), median(rj), median(cs), median(rs)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(crafted_collisions_do_not_slow_joins) {
  const std::size_t n = sftest::env_u64("SF_FLOOD_KEYS").value_or(4000);
  std::random_device rd;
  const u64 seed = sftest::env_u64("SF_FLOOD_SEED").value_or((u64{rd()} << 32) ^ rd());
  std::mt19937_64 rng(seed);
  const std::vector<std::string> crafted = crafted_keys(n, rng);
  const std::vector<std::string> random = random_keys(n, rng);

  // The construction works on this standard library: all of std::hash equal.
  const std::size_t h = std::hash<std::string>{}(crafted.front());
  const bool collide = std::all_of(crafted.begin(), crafted.end(),
                                   [&](const std::string& k) { return std::hash<std::string>{}(k) == h; });
  BOOST_REQUIRE_MESSAGE(collide, "the crafted keys do not collide under this std::hash<std::string>: "
                                 "not libstdc++'s 64-bit MurmurHash64A?");

  using Seeded = singleflight::AsyncGroup<std::string, int>;  // the default hash
  using Unseeded = singleflight::AsyncGroup<std::string, int, std::hash<std::string>, std::equal_to<>>;

  // The default hash: within 2x. A flooded table is slower by orders of
  // magnitude, so a few attempts only absorb scheduling noise.
  comparison seeded{};
  bool within = false;
  for (int attempt = 0; attempt < 3 && !within; ++attempt) {
    seeded = compare<Seeded>(crafted, random, 9);
    within = seeded.crafted_join <= 2.0 * seeded.random_join;
  }
  // The control, with fewer repetitions: it is the slow one.
  const comparison control = compare<Unseeded>(crafted, random, 3);

  const std::string report = fmt::format(
      "hash flood, {} keys of 16 bytes (seed {}), ns per call, median:\n"
      "  default hash (SipHash-1-3, seeded): join crafted {:.0f} vs random {:.0f} ({:.2f}x); "
      "start crafted {:.0f} vs random {:.0f}\n"
      "  std::hash<std::string> (control):   join crafted {:.0f} vs random {:.0f} ({:.1f}x); "
      "start crafted {:.0f} vs random {:.0f}",
      n, seed, seeded.crafted_join, seeded.random_join, seeded.join_ratio(), seeded.crafted_start,
      seeded.random_start, control.crafted_join, control.random_join, control.join_ratio(), control.crafted_start,
      control.random_start);
  BOOST_TEST_MESSAGE(report);
  std::fprintf(stderr, "%s\n", report.c_str());
  BOOST_TEST(within, "default hash: crafted joins " << seeded.crafted_join << " ns vs random "
                                                    << seeded.random_join << " ns, more than 2x");
}
