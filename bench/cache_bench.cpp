// SPDX-License-Identifier: BSL-1.0
// scenario=cache_hit: the cost of a fresh hit, `co_await cache.get(key, f)`,
// against its floor: a lookup in a mutex-guarded boost::unordered_flat_map
// that copies the value out. Both run the same coroutine loop over the same
// keys (every key present), on 1..N threads at once, each thread with its own
// io_context; the cache and the map are shared by all threads.
//
// Usage: singleflight_cache_bench [--scale N] [--threads N[,N...]] [--repeats N]
//                                 [--key string|int] [--value int|string]
//                                 [--hash seeded|boost]
// --hash: the cache's hash, its default (seeded SipHash, against hash
// flooding) or boost::hash, the floor's.
// One line per (impl, threads): the median of the repeats, with min and max.
#include <singleflight/cache.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;

namespace {

constexpr int key_count = 1000;

template <class K>
std::vector<K> make_keys() {
  std::vector<K> keys;
  for (int i = 0; i < key_count; ++i) {
    if constexpr (std::is_same_v<K, std::string>)
      keys.push_back("item:" + std::to_string(i * 7919));
    else
      keys.push_back(static_cast<K>(i * 7919));
  }
  return keys;
}

template <class V>
V make_value(int i) {
  if constexpr (std::is_same_v<V, std::string>)
    return std::string(48, static_cast<char>('a' + i % 26));  // past the small-string buffer
  else
    return static_cast<V>(i);
}

template <class V>
long long weigh(const V& v) {
  if constexpr (std::is_same_v<V, std::string>)
    return static_cast<long long>(v.size());
  else
    return static_cast<long long>(v);
}

// The floor: what a hand-written cache's hit costs.
template <class K, class V>
struct flat_map_mutex {
  std::mutex mutex;
  boost::unordered_flat_map<K, V> map;
  V find(const K& key) {
    std::lock_guard lock(mutex);
    auto it = map.find(key);
    return it == map.end() ? V() : it->second;
  }
};

// The floor of a hit through `co_await`: the same lookup behind a coroutine,
// what a hand-written cache with an awaitable get pays on a hit.
template <class K, class V>
asio::awaitable<V> co_find(flat_map_mutex<K, V>& floor, const K& key) {
  co_return floor.find(key);
}

// Runs `body(thread_index)` (a coroutine of `calls` hits) on `threads`
// threads at once; returns ns per call.
template <class Body>
double timed(int threads, long long calls, Body body) {
  std::vector<std::thread> pool;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> seconds(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      asio::io_context ioc(1);
      asio::co_spawn(ioc, body(t, calls), asio::detached);
      ++ready;
      while (!go) std::this_thread::yield();
      const auto start = std::chrono::steady_clock::now();
      ioc.run();
      seconds[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  while (ready < threads) std::this_thread::yield();
  go = true;
  for (auto& th : pool) th.join();
  // Wall time of the slowest thread, per call of one thread: the latency of
  // a call when `threads` threads call at once.
  return *std::max_element(seconds.begin(), seconds.end()) * 1e9 / static_cast<double>(calls);
}

// Hash: the cache's (the floor always uses boost::hash, the map's default).
template <class K, class V, class Hash>
void run(const char* key_name, const char* value_name, const std::vector<int>& thread_counts, long long calls,
         int repeats) {
  const auto keys = make_keys<K>();
  asio::io_context cache_ioc;  // loads would run here; hits never touch it
  singleflight::CacheOptions opts;
  opts.ttl = std::chrono::hours(1);
  using Eq = std::conditional_t<std::is_same_v<K, std::string>, std::equal_to<>, std::equal_to<K>>;
  singleflight::Cache<K, V, Hash, Eq> cache(cache_ioc.get_executor(), opts);
  const char* hash_name = std::is_same_v<Hash, singleflight::DefaultHash<K>> ? "seeded" : "boost";
  flat_map_mutex<K, V> floor;
  for (int i = 0; i < key_count; ++i) {
    cache.put(keys[i], make_value<V>(i));
    floor.map.emplace(keys[i], make_value<V>(i));
  }
  std::atomic<long long> sink{0};
  auto cache_body = [&](int t, long long n) -> asio::awaitable<void> {
    auto loader = []() -> asio::awaitable<V> { co_return V(); };  // never called: every key is fresh
    long long sum = 0;
    for (long long i = 0; i < n; ++i) {
      const V v = co_await cache.get(keys[(i + t * 31) % key_count], loader);
      sum += weigh(v);
    }
    sink += sum;
  };
  auto try_get_body = [&](int t, long long n) -> asio::awaitable<void> {
    auto loader = []() -> asio::awaitable<V> { co_return V(); };
    long long sum = 0;
    for (long long i = 0; i < n; ++i) {
      const V v = *cache.try_get(keys[(i + t * 31) % key_count], loader);
      sum += weigh(v);
    }
    sink += sum;
    co_return;
  };
  auto floor_body = [&](int t, long long n) -> asio::awaitable<void> {
    long long sum = 0;
    for (long long i = 0; i < n; ++i) {
      const V v = floor.find(keys[(i + t * 31) % key_count]);
      sum += weigh(v);
    }
    sink += sum;
    co_return;
  };
  auto co_floor_body = [&](int t, long long n) -> asio::awaitable<void> {
    long long sum = 0;
    for (long long i = 0; i < n; ++i) {
      const V v = co_await co_find(floor, keys[(i + t * 31) % key_count]);
      sum += weigh(v);
    }
    sink += sum;
  };
  for (int threads : thread_counts) {
    // op=get: `co_await cache.get(k, f)`, the coroutine API (a hit still
    // creates and awaits one awaitable frame); op=try_get: the same hit
    // path without a coroutine; op=find: the floor; op=co_find: the floor
    // behind one awaitable frame, as get's hit is.
    const struct {
      const char* impl;
      const char* op;
    } rows[] = {{"singleflight-cache", "get"}, {"singleflight-cache", "try_get"}, {"flat-map-mutex", "find"}, {"flat-map-mutex", "co_find"}};
    for (const auto& row : rows) {
      const std::string_view op = row.op;
      std::vector<double> ns;
      // Interleaved repeats would be fairer to a noisy machine, but each
      // row's repeats run back to back so that min..max shows the noise.
      for (int r = 0; r < repeats; ++r)
        ns.push_back(op == "get"     ? timed(threads, calls, cache_body)
                     : op == "find"  ? timed(threads, calls, floor_body)
                     : op == "co_find" ? timed(threads, calls, co_floor_body)
                                     : timed(threads, calls, try_get_body));
      std::sort(ns.begin(), ns.end());
      std::printf(
          "scenario=cache_hit impl=%s threads=%d calls=%lld ns_per_call=%.1f min_ns=%.1f max_ns=%.1f "
          "repeats=%d op=%s key=%s value=%s cache_hash=%s\n",
          row.impl, threads, calls * threads, ns[ns.size() / 2], ns.front(), ns.back(), repeats, row.op,
          key_name, value_name, hash_name);
      std::fflush(stdout);
    }
  }
  const auto s = cache.stats();
  if (s.misses != 0 || s.loads != 0) {
    std::fprintf(stderr, "singleflight_cache_bench: a hit missed (%llu misses)\n",
                 static_cast<unsigned long long>(s.misses));
    std::exit(1);
  }
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: singleflight_cache_bench [--scale N] [--threads N[,N...]] [--repeats N] "
               "[--key string|int] [--value int|string] [--hash seeded|boost]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  long long scale = 1;
  int repeats = 5;
  std::vector<int> threads{1, 2};
  std::string key = "string", value = "int", hash = "seeded";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--scale") {
      scale = std::atoll(v.c_str());
    } else if (a == "--repeats") {
      repeats = std::atoi(v.c_str());
    } else if (a == "--threads") {
      threads.clear();
      for (std::size_t p = 0; p < v.size();) {
        threads.push_back(std::atoi(v.c_str() + p));
        p = v.find(',', p);
        if (p == std::string::npos) break;
        ++p;
      }
    } else if (a == "--key") {
      key = v;
    } else if (a == "--value") {
      value = v;
    } else if (a == "--hash") {
      hash = v;
    } else {
      usage();
    }
  }
  if (scale < 1 || repeats < 1 || threads.empty() || (key != "string" && key != "int") ||
      (value != "int" && value != "string") || (hash != "seeded" && hash != "boost"))
    usage();
  for (int t : threads)
    if (t < 1) usage();
  const long long calls = 2'000'000 / scale;
  auto with = [&]<class K, class V>() {
    const char* kn = std::is_same_v<K, std::string> ? "string" : "int";
    const char* vn = std::is_same_v<V, std::string> ? "string" : "int";
    if (hash == "seeded")
      run<K, V, singleflight::DefaultHash<K>>(kn, vn, threads, calls, repeats);
    else
      run<K, V, boost::hash<K>>(kn, vn, threads, calls, repeats);
  };
  if (key == "string" && value == "int") with.operator()<std::string, int>();
  if (key == "string" && value == "string") with.operator()<std::string, std::string>();
  if (key == "int" && value == "int") with.operator()<long long, int>();
  if (key == "int" && value == "string") with.operator()<long long, std::string>();
}
