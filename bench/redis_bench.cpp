// SPDX-License-Identifier: BSL-1.0
// The Redis tier on loopback, against a redis-server of its own:
//   - a follower's added latency: from the leader's loader returning (in
//     another instance) to the follower's get completing, p50 / p99;
//   - Redis round trips per coalesced request, leader's instance and
//     follower's, with `callers` local callers per instance.
// Usage: singleflight_redis_bench [iterations=300] [callers=50]
#include <singleflight/cache.hpp>
#include <singleflight/redis.hpp>

#include "redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace asio = boost::asio;
namespace redis = singleflight::redis;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using cache_type = singleflight::Cache<std::string, std::string, singleflight::DefaultHash<std::string>,
                                       singleflight::DefaultKeyEqual<std::string>, clock_type>;

namespace {

asio::awaitable<std::string> load(clock_type::time_point* end) {
  asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
  co_await t.async_wait(asio::use_awaitable);
  *end = clock_type::now();
  co_return std::string(100, 'v');
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 300;
  const int callers = argc > 2 ? std::atoi(argv[2]) : 50;
  sftest::redis_server server;
  asio::io_context ioc;
  redis::config cfg;
  cfg.port = server.port();
  auto make = [&] {
    singleflight::CacheOptions o;
    o.remote = redis::tier::make(ioc.get_executor(), cfg);
    return std::make_pair(std::dynamic_pointer_cast<redis::tier>(o.remote), std::make_unique<cache_type>(ioc.get_executor(), o));
  };
  auto [lt, leader] = make();
  auto [ft, follower] = make();
  std::vector<double> added;
  std::uint64_t lead_rt = 0, follow_rt = 0;
  for (int i = 0; i < iterations + 1; ++i) {  // the first one connects: not counted
    const std::string key = "key" + std::to_string(i);
    clock_type::time_point loaded{}, followed{};
    int done = 0;
    const auto l0 = lt->stats().round_trips, f0 = ft->stats().round_trips;
    for (int c = 0; c < callers; ++c)
      leader->async_get(key, [&] { return load(&loaded); }, [&](std::exception_ptr, std::string) { ++done; });
    while (lt->stats().leads <= static_cast<std::uint64_t>(i)) ioc.run_one();
    for (int c = 0; c < callers; ++c)
      follower->async_get(key, [&] { return load(&loaded); }, [&](std::exception_ptr e, std::string) {
        if (!e) followed = clock_type::now();
        ++done;
      });
    while (done < 2 * callers) ioc.run_one();
    // the renewals' timers of a lease that has ended: let them finish
    ioc.poll();
    if (i == 0) continue;
    lead_rt += lt->stats().round_trips - l0;
    follow_rt += ft->stats().round_trips - f0;
    added.push_back(std::chrono::duration<double, std::milli>(followed - loaded).count());
  }
  const auto s = ft->stats();
  std::printf("redis_tier: iterations=%d callers_per_instance=%d follower_added_ms p50=%.3f p99=%.3f max=%.3f "
              "round_trips_per_request leader=%.2f follower=%.2f follower_woken=%llu follower_hits=%llu local=%llu\n",
              iterations, callers, pct(added, 0.5), pct(added, 0.99), pct(added, 1.0), double(lead_rt) / iterations,
              double(follow_rt) / iterations, (unsigned long long)s.woken, (unsigned long long)s.hits,
              (unsigned long long)(s.local + lt->stats().local));
}
