// SPDX-License-Identifier: BSL-1.0
// Cache: the stale window with one background refresh (3) and XFetch's early
// refresh (6). Time comes from a manual clock.
#define BOOST_TEST_MODULE cache_refresh
#include <singleflight/cache.hpp>

#include "support/fixture.hpp"
#include "support/manual_clock.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

using namespace sftest;
using singleflight::CacheOptions;

namespace {
using Cache = singleflight::Cache<std::string, int, singleflight::DefaultHash<std::string>,
                                  singleflight::DefaultKeyEqual<std::string>, manual_clock>;

struct cache_fixture : io_fixture, clock_reset {
  // get() from a coroutine; true if it answered before any posted handler
  // ran, i.e. without waiting for a load.
  bool answered_at_once(Cache& cache, auto loader, int& value) {
    bool posted_ran = false, at_once = false, done = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          asio::post(ioc, [&] { posted_ran = true; });
          value = co_await cache.get("k", loader);
          at_once = !posted_ran;
          done = true;
        },
        asio::detached);
    BOOST_REQUIRE(run_until([&] { return done; }));
    return at_once;
  }
};

CacheOptions stale_opts() {
  CacheOptions o;
  o.ttl = 10s;
  o.stale_ttl = 5s;
  return o;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(refresh_suite, cache_fixture)

BOOST_AUTO_TEST_CASE(stale_value_at_once_and_exactly_one_refresh) {
  Cache cache(ioc.get_executor(), stale_opts());
  released_loader<int> loader(ioc.get_executor());
  cache.put("k", 1);
  manual_clock::advance(11s);  // stale: past ttl, within ttl + stale_ttl
  for (int i = 0; i < 10; ++i) {
    int v = 0;
    BOOST_TEST(answered_at_once(cache, loader_of(loader), v));
    BOOST_TEST(v == 1);
  }
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  BOOST_TEST(drain(50ms) == false);  // the refresh waits for its release
  BOOST_TEST(loader.calls() == 1);
  auto s = cache.stats();
  BOOST_TEST(s.stale_hits == 10u);
  BOOST_TEST(s.refreshes == 1u);
  BOOST_TEST(s.misses == 0u);

  loader.release(2);
  BOOST_REQUIRE(run_until([&] { return cache.stats().group.in_flight == 0; }));
  int v = 0;
  BOOST_TEST(answered_at_once(cache, loader_of(loader), v));
  BOOST_TEST(v == 2);
  BOOST_TEST(cache.stats().hits == 1u);  // fresh again: a hit, no refresh
  BOOST_TEST(cache.stats().refreshes == 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_refresh_keeps_the_stale_value_until_the_window_ends) {
  Cache cache(ioc.get_executor(), stale_opts());
  int loads = 0;
  auto failing = [&]() -> asio::awaitable<int> {
    ++loads;
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw std::runtime_error("origin down");
  };
  cache.put("k", 1);
  manual_clock::advance(11s);
  int v = 0;
  BOOST_TEST(answered_at_once(cache, failing, v));
  BOOST_REQUIRE(run_until([&] { return cache.stats().refresh_failures == 1; }));
  BOOST_TEST(loads == 1);
  manual_clock::advance(3s);  // 14 s: still within the window
  BOOST_TEST(answered_at_once(cache, failing, v));
  BOOST_TEST(v == 1);
  BOOST_REQUIRE(run_until([&] { return cache.stats().refresh_failures == 2; }));
  BOOST_TEST(cache.stats().load_failures == 2u);

  manual_clock::advance(1s);  // 15 s: the window is over, a miss that fails
  auto miss = spawn(ioc.get_executor(), cache.get("k", failing));
  BOOST_REQUIRE(run_until([&] { return miss->done.load(); }));
  BOOST_CHECK_THROW(std::rethrow_exception(miss->error), std::runtime_error);
  BOOST_TEST(cache.stats().misses == 1u);
}

BOOST_AUTO_TEST_CASE(error_ttl_spaces_out_refreshes_that_fail) {
  CacheOptions o = stale_opts();
  o.error_ttl = 2s;
  Cache cache(ioc.get_executor(), o);
  int loads = 0;
  auto failing = [&]() -> asio::awaitable<int> {
    ++loads;
    throw std::runtime_error("origin down");
    co_return 0;
  };
  cache.put("k", 1);
  manual_clock::advance(11s);
  int v = 0;
  answered_at_once(cache, failing, v);
  BOOST_REQUIRE(run_until([&] { return cache.stats().refresh_failures == 1; }));
  manual_clock::advance(1s);
  answered_at_once(cache, failing, v);  // within error_ttl of the failure: no refresh
  BOOST_TEST(drain());
  BOOST_TEST(loads == 1);
  manual_clock::advance(1s);
  answered_at_once(cache, failing, v);
  BOOST_TEST(v == 1);
  BOOST_REQUIRE(run_until([&] { return loads == 2; }));
}

BOOST_AUTO_TEST_CASE(without_stale_ttl_an_expired_value_is_a_miss) {
  CacheOptions o = stale_opts();
  o.stale_ttl = 0s;
  Cache cache(ioc.get_executor(), o);
  released_loader<int> loader(ioc.get_executor());
  cache.put("k", 1);
  manual_clock::advance(11s);
  auto r = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  BOOST_TEST(!r->done);
  loader.release(2);
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_TEST(*r->value == 2);
}

BOOST_AUTO_TEST_CASE(xfetch_formula) {
  using tp = manual_clock::time_point;
  const tp expiry(100s);
  const auto delta = 1s;
  // now - delta * beta * ln(r) >= expiry
  BOOST_TEST(singleflight::detail::xfetch_due(tp(99s), expiry, delta, 1.0, std::exp(-1.0)));
  BOOST_TEST(!singleflight::detail::xfetch_due(tp(99s), expiry, delta, 1.0, std::exp(-0.99)));
  BOOST_TEST(singleflight::detail::xfetch_due(tp(98s), expiry, delta, 2.0, std::exp(-1.0)));
  BOOST_TEST(!singleflight::detail::xfetch_due(tp(98s), expiry, delta, 1.0, std::exp(-1.0)));
  BOOST_TEST(!singleflight::detail::xfetch_due(tp(99s), expiry, delta, 0.0, 1e-300));
  BOOST_TEST(!singleflight::detail::xfetch_due(tp(99s), expiry, 0s, 1.0, 1e-300));
  // Far from the expiry no draw passes.
  BOOST_TEST(!singleflight::detail::xfetch_due(tp(0s), expiry, delta, 1.0, 0x1.0p-53));
  for (int i = 0; i < 10000; ++i) {
    const double r = singleflight::detail::xfetch_draw();
    BOOST_REQUIRE((r > 0.0 && r <= 1.0));
  }
}

// A hot key: ten hits per simulated millisecond, loads that take 10 ms.
// Returns the cache's stats after two simulated seconds.
singleflight::CacheStats hot_key_run(io_fixture& io, double beta, int& waited) {
  CacheOptions o;
  o.ttl = 100ms;
  o.early_refresh_beta = beta;
  Cache cache(io.ioc.get_executor(), o);
  int loads = 0;
  auto loader = [&]() -> asio::awaitable<int> {
    manual_clock::advance(10ms);  // the load's duration: XFetch's delta
    co_return ++loads;
  };
  waited = 0;
  for (int ms = 0; ms < 2000; ++ms) {
    manual_clock::advance(1ms);
    for (int i = 0; i < 10; ++i) {
      bool done = false;
      cache.async_get("k", loader, [&](std::exception_ptr, int) { done = true; });
      io.ioc.restart();
      io.ioc.poll();
      // A hit completes in the poll that follows; only a miss loads (which
      // here also finishes within the poll, but counts as a miss).
      BOOST_REQUIRE(done);
    }
    BOOST_REQUIRE(io.run_until([&] { return cache.stats().group.in_flight == 0; }));
  }
  waited = static_cast<int>(cache.stats().misses);
  return cache.stats();
}

BOOST_AUTO_TEST_CASE(early_refresh_keeps_a_hot_key_from_expiring) {
  int misses = 0;
  const auto s = hot_key_run(*this, 1.0, misses);
  BOOST_TEST(misses == 1);  // the first call only
  BOOST_TEST(s.early_refreshes >= 15u);
  BOOST_TEST(s.refreshes == s.early_refreshes);
  BOOST_TEST(s.loads == s.early_refreshes + 1);
}

BOOST_AUTO_TEST_CASE(without_early_refresh_a_hot_key_expires) {
  int misses = 0;
  const auto s = hot_key_run(*this, 0.0, misses);
  BOOST_TEST(misses >= 15);
  BOOST_TEST(s.early_refreshes == 0u);
}

BOOST_AUTO_TEST_CASE(early_refresh_is_not_due_far_from_expiry) {
  CacheOptions o;
  o.ttl = 100s;
  o.early_refresh_beta = 1.0;
  Cache cache(ioc.get_executor(), o);
  auto loader = [&]() -> asio::awaitable<int> {
    manual_clock::advance(10ms);
    co_return 1;
  };
  auto first = spawn(ioc.get_executor(), cache.get("k", loader));
  BOOST_REQUIRE(run_until([&] { return first->done.load(); }));
  for (int i = 0; i < 10000; ++i) {
    int v = 0;
    BOOST_REQUIRE(answered_at_once(*&cache, loader, v));
  }
  BOOST_TEST(cache.stats().early_refreshes == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
