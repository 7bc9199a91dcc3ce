// SPDX-License-Identifier: BSL-1.0
// Cache: max_entries and LRU eviction (7), key types, completion tokens and
// the executors completions run on.
#define BOOST_TEST_MODULE cache_limits
#include <singleflight/cache.hpp>

#include "support/fixture.hpp"
#include "support/manual_clock.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

using namespace sftest;
using singleflight::CacheOptions;

namespace {
using Cache = singleflight::Cache<std::string, int, singleflight::DefaultHash<std::string>,
                                  singleflight::DefaultKeyEqual<std::string>, manual_clock>;

struct cache_fixture : io_fixture, clock_reset {
  int loads = 0;
  std::function<asio::awaitable<int>()> counting_loader() {
    return [this]() -> asio::awaitable<int> { co_return 1000 + ++loads; };
  }
  int get(Cache& cache, std::string_view key) {
    auto loader = counting_loader();
    auto r = spawn(ioc.get_executor(), cache.get(key, loader));
    BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
    BOOST_REQUIRE(!r->error);
    return *r->value;
  }
};

CacheOptions bounded(std::size_t n) {
  CacheOptions o;
  o.ttl = 10s;
  o.max_entries = n;
  return o;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(limits_suite, cache_fixture)

BOOST_AUTO_TEST_CASE(never_more_than_max_entries_and_evictions_counted) {
  Cache cache(ioc.get_executor(), bounded(3));
  for (int i = 0; i < 10; ++i) {
    if (i % 2)
      cache.put("put" + std::to_string(i), i);
    else
      get(cache, "load" + std::to_string(i));
    BOOST_REQUIRE(cache.size() <= 3u);
  }
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(cache.stats().evictions == 7u);
}

BOOST_AUTO_TEST_CASE(a_large_bound_holds_across_shards) {
  Cache cache(ioc.get_executor(), bounded(2048));  // large enough to be sharded
  for (int i = 0; i < 5000; ++i) {
    cache.put("key" + std::to_string(i), i);
    BOOST_REQUIRE(cache.size() <= 2048u);
  }
  BOOST_TEST(cache.size() >= 1024u);  // each shard full but for rounding
  BOOST_TEST(cache.stats().evictions == 5000u - cache.size());
  BOOST_TEST(get(cache, "key4999") == 4999);  // the newest entries stay
  BOOST_TEST(loads == 0);
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_goes_first) {
  Cache cache(ioc.get_executor(), bounded(3));
  cache.put("a", 1);
  cache.put("b", 2);
  cache.put("c", 3);
  BOOST_TEST(get(cache, "a") == 1);  // a is now the most recently used
  cache.put("d", 4);                 // evicts b
  BOOST_TEST(get(cache, "a") == 1);
  BOOST_TEST(get(cache, "c") == 3);
  BOOST_TEST(get(cache, "d") == 4);
  BOOST_TEST(loads == 0);
  BOOST_TEST(get(cache, "b") == 1001);  // b was evicted: loaded again
  BOOST_TEST(cache.stats().evictions == 2u);  // and b's return evicted a
}

BOOST_AUTO_TEST_CASE(erase_and_size) {
  Cache cache(ioc.get_executor(), bounded(10));
  cache.put("a", 1);
  cache.put("b", 2);
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST(cache.erase("a"));
  BOOST_TEST(!cache.erase("a"));
  BOOST_TEST(cache.size() == 1u);
  cache.clear();
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(string_views_literals_and_strings_are_one_key) {
  Cache cache(ioc.get_executor(), bounded(10));
  const std::string owned = "user:1";
  BOOST_TEST(get(cache, std::string_view(owned)) == 1001);
  auto loader = counting_loader();
  auto a = spawn(ioc.get_executor(), cache.get(owned, loader));
  auto b = spawn(ioc.get_executor(), cache.get("user:1", loader));
  auto c = spawn(ioc.get_executor(), cache.get(std::string("user:1"), loader));
  BOOST_REQUIRE(run_until([&] { return a->done && b->done && c->done; }));
  BOOST_TEST((*a->value == 1001 && *b->value == 1001 && *c->value == 1001));
  BOOST_TEST(loads == 1);
  cache.put(std::string_view("user:1"), 5);
  BOOST_TEST(get(cache, "user:1") == 5);
}

BOOST_AUTO_TEST_CASE(integer_keys) {
  singleflight::Cache<int, std::string> cache(ioc.get_executor());
  auto loader = []() -> asio::awaitable<std::string> { co_return std::string(100, 'x'); };
  auto r = spawn(ioc.get_executor(), cache.get(7, loader));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_TEST(r->value->size() == 100u);
  BOOST_TEST(cache.size() == 1u);
}

BOOST_AUTO_TEST_CASE(use_future_and_deferred) {
  Cache cache(ioc.get_executor(), bounded(10));
  cache.put("hit", 1);
  auto loader = counting_loader();
  auto hit = cache.async_get("hit", loader, asio::use_future);
  auto miss = cache.async_get("miss", loader, asio::use_future);
  auto deferred = cache.async_get("hit", loader, asio::deferred);
  int deferred_value = 0;
  std::move(deferred)([&](std::exception_ptr, int v) { deferred_value = v; });
  BOOST_REQUIRE(run_until([&] { return deferred_value != 0 && miss.wait_for(0s) == std::future_status::ready; }));
  BOOST_TEST(hit.get() == 1);
  BOOST_TEST(miss.get() == 1001);
  BOOST_TEST(deferred_value == 1);
}

BOOST_AUTO_TEST_CASE(completions_run_on_the_handlers_executor) {
  Cache cache(ioc.get_executor(), bounded(10));
  cache.put("hit", 1);
  auto strand = asio::make_strand(ioc);
  auto loader = counting_loader();
  bool hit_on_strand = false, miss_on_strand = false;
  int done = 0;
  cache.async_get("hit", loader, asio::bind_executor(strand, [&](std::exception_ptr, int) {
                    hit_on_strand = strand.running_in_this_thread();
                    ++done;
                  }));
  cache.async_get("miss", loader, asio::bind_executor(strand, [&](std::exception_ptr, int) {
                    miss_on_strand = strand.running_in_this_thread();
                    ++done;
                  }));
  BOOST_REQUIRE(run_until([&] { return done == 2; }));
  BOOST_TEST(hit_on_strand);
  BOOST_TEST(miss_on_strand);
}

BOOST_AUTO_TEST_CASE(try_get_answers_hits_only_and_refreshes_stale_ones) {
  CacheOptions o = bounded(10);
  o.stale_ttl = 10s;
  o.error_ttl = 10s;
  Cache cache(ioc.get_executor(), o);
  auto loader = counting_loader();
  BOOST_TEST(!cache.try_get("k", loader));  // a miss: nothing loaded, nothing counted
  BOOST_TEST(drain());
  BOOST_TEST(loads == 0);
  BOOST_TEST(cache.stats().misses == 0u);
  cache.put("k", 1);
  BOOST_TEST(cache.try_get("k", loader).value_or(-1) == 1);
  manual_clock::advance(11s);
  BOOST_TEST(cache.try_get("k", loader).value_or(-1) == 1);  // stale: refreshed behind
  BOOST_REQUIRE(run_until([&] { return loads == 1 && cache.stats().group.in_flight == 0; }));
  BOOST_TEST(cache.try_get("k", loader).value_or(-1) == 1001);
  auto failing = []() -> asio::awaitable<int> {
    throw std::runtime_error("down");
    co_return 0;
  };
  auto r = spawn(ioc.get_executor(), cache.get("bad", failing));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_TEST(!cache.try_get("bad", failing));  // a kept failure is for get to rethrow
  const auto s = cache.stats();
  BOOST_TEST(s.hits == 2u);
  BOOST_TEST(s.stale_hits == 1u);
  BOOST_TEST(s.error_hits == 0u);
  BOOST_TEST(s.misses == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
