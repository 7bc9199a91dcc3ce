// SPDX-License-Identifier: BSL-1.0
// Cache: every member from any thread at once, callers resume on their own
// executors, and the cache may be destroyed with loads and refreshes in
// flight or outlived by its io_context (9). Run under TSan and ASan.
#define BOOST_TEST_MODULE cache_threads
#include <singleflight/cache.hpp>

#include "support/fixture.hpp"
#include "support/threaded_io.hpp"
#include "support/manual_clock.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace sftest;
using singleflight::CacheOptions;

namespace {

using ManualCache = singleflight::Cache<std::string, int, singleflight::DefaultHash<std::string>,
                                        singleflight::DefaultKeyEqual<std::string>, manual_clock>;
}  // namespace

BOOST_AUTO_TEST_CASE(every_member_from_many_threads_at_once_keeps_values_bounds_and_counters_right) {
  manual_clock::reset();
  threaded_io io(2);
  CacheOptions o;
  o.ttl = 2ms;
  o.stale_ttl = 2ms;
  o.error_ttl = 1ms;
  o.early_refresh_beta = 1.0;
  o.max_entries = 6;
  ManualCache cache(io.ioc.get_executor(), o);
  constexpr int threads = 3, ops = 3000, keys = 10;
  std::atomic<int> started{0}, done{0}, wrong_value{0}, wrong_executor{0}, loads{0}, over_bound{0};
  auto worker = [&](int seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < ops; ++i) {
      const int k = static_cast<int>(rng() % keys);
      const std::string key = "key" + std::to_string(k);
      const int op = static_cast<int>(rng() % 20);
      manual_clock::advance(std::chrono::microseconds(rng() % 200));
      auto loader = [&loads, k, fail = rng() % 5 == 0, hop = rng() % 2 == 0]() -> asio::awaitable<int> {
        ++loads;
        if (hop) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        if (fail) throw std::runtime_error("origin down");
        co_return k * 1000 + 1;
      };
      auto check = [&, k](std::exception_ptr e, int v) {
        if (!e && v / 1000 != k) ++wrong_value;
      };
      if (op < 8) {
        ++started;
        auto strand = asio::make_strand(io.ioc);
        asio::co_spawn(
            strand,
            [&, strand, key, loader, check]() -> asio::awaitable<void> {
              std::exception_ptr error;
              int v = 0;
              try {
                v = co_await cache.get(key, loader);
              } catch (...) {
                error = std::current_exception();
              }
              check(error, v);
              if (!strand.running_in_this_thread()) ++wrong_executor;
              ++done;
            },
            asio::detached);
      } else if (op < 14) {
        ++started;
        auto strand = asio::make_strand(io.ioc);
        cache.async_get(key, loader, asio::bind_executor(strand, [&, strand, check](std::exception_ptr e, int v) {
                          check(e, v);
                          if (!strand.running_in_this_thread()) ++wrong_executor;
                          ++done;
                        }));
      } else if (op < 16) {
        cache.put(key, k * 1000 + 2);
      } else if (op < 18) {
        cache.erase(key);
      } else if (op < 19) {
        // Boost.Test's assertions are not thread-safe: count, check later.
        if (cache.size() > 6u) ++over_bound;
        (void)cache.stats();
      } else if (rng() % 10 == 0) {
        cache.clear();
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(worker, t + 1);
  for (auto& w : workers) w.join();
  BOOST_REQUIRE(wait_until([&] { return done == started && cache.stats().group.in_flight == 0; }));
  BOOST_TEST(wrong_value == 0);
  BOOST_TEST(wrong_executor == 0);
  BOOST_TEST(over_bound == 0);
  BOOST_TEST(cache.size() <= 6u);
  const auto s = cache.stats();
  BOOST_TEST_MESSAGE("after " << started << " gets: " << s);
  BOOST_TEST(s.hits + s.stale_hits + s.error_hits + s.misses == static_cast<std::uint64_t>(started.load()));
  BOOST_TEST(s.loads == static_cast<std::uint64_t>(loads.load()));
}

BOOST_AUTO_TEST_CASE(destroying_the_cache_aborts_parked_misses_after_stale_hits_were_answered) {
  manual_clock::reset();
  io_fixture io;
  CacheOptions o;
  o.ttl = 10s;
  o.stale_ttl = 10s;
  auto cache = std::make_unique<ManualCache>(io.ioc.get_executor(), o);
  released_loader<int> loader(io.ioc.get_executor());
  cache->put("stale", 1);
  manual_clock::advance(11s);
  auto stale = spawn(io.ioc.get_executor(), cache->get("stale", loader_of(loader)));  // starts a refresh
  auto miss = spawn(io.ioc.get_executor(), cache->get("miss", loader_of(loader)));
  BOOST_REQUIRE(io.run_until([&] { return loader.calls() == 2 && stale->done; }));
  BOOST_TEST(*stale->value == 1);
  cache.reset();
  BOOST_REQUIRE(io.run_until([&] { return miss->done.load(); }));
  BOOST_TEST(miss->code() == asio::error::operation_aborted);
  BOOST_REQUIRE(io.run_until([&] { return loader.cancelled() == 2; }));
  BOOST_TEST(io.drain());
}

BOOST_AUTO_TEST_CASE(destroying_the_cache_on_another_thread_while_loads_finish_completes_every_caller) {
  for (int round = 0; round < 20; ++round) {
    threaded_io io(2);
    CacheOptions o;
    o.ttl = 1ms;
    o.stale_ttl = 1s;
    auto cache = std::make_unique<singleflight::Cache<int, int>>(io.ioc.get_executor(), o);
    std::atomic<int> done{0};
    constexpr int callers = 50;
    for (int i = 0; i < callers; ++i) {
      auto loader = [i]() -> asio::awaitable<int> {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::microseconds(50 * (i % 7)));
        co_await t.async_wait(asio::use_awaitable);
        co_return i;
      };
      cache->put(i % 3, 0);  // stale after 1 ms: some gets refresh
      cache->async_get(i % 5, loader, [&](std::exception_ptr, int) { ++done; });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100 * round));
    cache.reset();
    BOOST_REQUIRE(wait_until([&] { return done == callers; }));
  }
}

BOOST_AUTO_TEST_CASE(a_cache_outlived_by_its_io_context_destroys_parked_callers_unresumed) {
  manual_clock::reset();
  auto ioc = std::make_unique<asio::io_context>();
  CacheOptions o;
  o.ttl = 10s;
  o.stale_ttl = 10s;
  ManualCache cache(ioc->get_executor(), o);
  auto never = [&]() -> asio::awaitable<int> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await t.async_wait(asio::use_awaitable);
    co_return 0;
  };
  cache.put("stale", 1);
  manual_clock::advance(11s);
  auto stale = spawn(ioc->get_executor(), cache.get("stale", never));  // a refresh that never ends
  auto miss = spawn(ioc->get_executor(), cache.get("miss", never));
  ioc->run_for(50ms);
  BOOST_TEST(stale->done);
  BOOST_TEST(!miss->done);
  ioc.reset();  // shut down first: the parked callers are destroyed, not resumed
  BOOST_TEST(!miss->done);
  BOOST_TEST(cache.size() == 1u);
  cache.put("after", 2);
  BOOST_TEST(cache.erase("stale"));
}
