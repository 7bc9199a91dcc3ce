// SPDX-License-Identifier: BSL-1.0
// Cache: fresh hits (1), coalesced misses kept for the TTL (2), kept
// failures (4), and invalidation winning over a load in progress (5). Time
// comes from a manual clock (8).
#define BOOST_TEST_MODULE cache
#include <singleflight/cache.hpp>
#include <singleflight/fmt.hpp>

#include "support/fixture.hpp"
#include "support/manual_clock.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace sftest;
using singleflight::CacheOptions;

namespace {
using Cache = singleflight::Cache<std::string, int, singleflight::DefaultHash<std::string>,
                                  singleflight::DefaultKeyEqual<std::string>, manual_clock>;

CacheOptions ttl_10s() {
  CacheOptions o;
  o.ttl = 10s;
  return o;
}

struct cache_fixture : io_fixture, clock_reset {};

// Records one async_get's completion.
struct outcome {
  bool done = false;
  std::exception_ptr error;
  int value = 0;
};
auto record(outcome& o) {
  return [&o](std::exception_ptr e, int v) {
    o.done = true;
    o.error = e;
    o.value = v;
  };
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(cache_suite, cache_fixture)

BOOST_AUTO_TEST_CASE(fresh_hit_answers_without_a_post_or_a_load) {
  Cache cache(ioc.get_executor(), ttl_10s());
  int loads = 0;
  auto loader = [&]() -> asio::awaitable<int> { co_return 100 + ++loads; };
  auto first = spawn(ioc.get_executor(), cache.get("k", loader));
  BOOST_REQUIRE(run_until([&] { return first->done.load(); }));
  BOOST_TEST(*first->value == 101);

  bool posted_ran = false, checked = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        // A handler posted before the hit: any post or suspension inside get
        // would let it run first.
        asio::post(ioc, [&] { posted_ran = true; });
        const int v = co_await cache.get("k", loader);
        BOOST_TEST(v == 101);
        BOOST_TEST(!posted_ran);
        checked = true;
      },
      asio::detached);
  BOOST_REQUIRE(run_until([&] { return checked; }));
  BOOST_TEST(loads == 1);
  BOOST_TEST(cache.stats().hits == 1u);
  BOOST_TEST(cache.stats().misses == 1u);
  BOOST_TEST(drain());
}

BOOST_AUTO_TEST_CASE(async_get_hit_is_posted_not_run_inside_the_call) {
  Cache cache(ioc.get_executor(), ttl_10s());
  cache.put("k", 5);
  outcome o;
  auto loader = []() -> asio::awaitable<int> { co_return 0; };
  cache.async_get(std::string_view("k"), loader, record(o));
  BOOST_TEST(!o.done);
  BOOST_REQUIRE(run_until([&] { return o.done; }));
  BOOST_TEST(!o.error);
  BOOST_TEST(o.value == 5);
  BOOST_TEST(cache.stats().loads == 0u);
}

BOOST_AUTO_TEST_CASE(miss_is_one_coalesced_load_kept_for_the_ttl) {
  Cache cache(ioc.get_executor(), ttl_10s());
  released_loader<int> loader(ioc.get_executor());
  std::vector<std::shared_ptr<result<int>>> callers;
  const std::string key = "k";
  for (int i = 0; i < 5; ++i) callers.push_back(spawn(ioc.get_executor(), cache.get(key, loader_of(loader))));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1 && cache.stats().group.joins == 4; }));
  loader.release(42);
  BOOST_REQUIRE(run_until([&] { return callers.back()->done.load(); }));
  for (auto& c : callers) BOOST_TEST(*c->value == 42);
  BOOST_TEST(cache.size() == 1u);

  manual_clock::advance(9s);  // still fresh
  auto hit = spawn(ioc.get_executor(), cache.get(key, loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return hit->done.load(); }));
  BOOST_TEST(*hit->value == 42);
  BOOST_TEST(loader.calls() == 1);

  manual_clock::advance(1s);  // ttl reached: a miss that waits for a new load
  auto miss = spawn(ioc.get_executor(), cache.get(key, loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 2; }));
  BOOST_TEST(!miss->done);
  loader.release(43);
  BOOST_REQUIRE(run_until([&] { return miss->done.load(); }));
  BOOST_TEST(*miss->value == 43);
  const auto s = cache.stats();
  BOOST_TEST(s.misses == 6u);
  BOOST_TEST(s.loads == 2u);
  BOOST_TEST(s.hits == 1u);
  BOOST_TEST(drain());
}

BOOST_AUTO_TEST_CASE(a_cancelled_caller_leaves_alone_and_the_value_is_kept) {
  Cache cache(ioc.get_executor(), ttl_10s());
  released_loader<int> loader(ioc.get_executor());
  asio::cancellation_signal signal;
  outcome leaver, stayer;
  cache.async_get("k", loader_of(loader), asio::bind_cancellation_slot(signal.slot(), record(leaver)));
  cache.async_get("k", loader_of(loader), record(stayer));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until([&] { return leaver.done; }));
  BOOST_TEST(singleflight::error_code_of(leaver.error) == asio::error::operation_aborted);
  loader.release(8);
  BOOST_REQUIRE(run_until([&] { return stayer.done; }));
  BOOST_TEST(stayer.value == 8);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(loader.cancelled() == 0);
}

BOOST_AUTO_TEST_CASE(every_caller_leaving_cancels_the_load_and_nothing_is_kept) {
  CacheOptions o = ttl_10s();
  o.error_ttl = 10s;  // even with failures kept, a cancellation is not one
  Cache cache(ioc.get_executor(), o);
  released_loader<int> loader(ioc.get_executor());
  asio::cancellation_signal signal;
  outcome leaver;
  cache.async_get("k", loader_of(loader), asio::bind_cancellation_slot(signal.slot(), record(leaver)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until([&] { return leaver.done && loader.cancelled() == 1; }));
  BOOST_TEST(drain());
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.stats().load_failures == 0u);
  // The next caller loads afresh instead of getting the cancellation.
  auto next = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 2; }));
  loader.release(3);
  BOOST_REQUIRE(run_until([&] { return next->done.load(); }));
  BOOST_TEST(*next->value == 3);
}

BOOST_AUTO_TEST_CASE(a_failure_is_kept_for_error_ttl_the_same_object) {
  struct origin_down : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  CacheOptions o = ttl_10s();
  o.error_ttl = 2s;
  Cache cache(ioc.get_executor(), o);
  int loads = 0;
  auto failing = [&]() -> asio::awaitable<int> {
    ++loads;
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw origin_down("down");
  };
  auto first = spawn(ioc.get_executor(), cache.get("k", failing));
  BOOST_REQUIRE(run_until([&] { return first->done.load(); }));
  manual_clock::advance(1s);
  auto second = spawn(ioc.get_executor(), cache.get("k", failing));
  BOOST_REQUIRE(run_until([&] { return second->done.load(); }));
  BOOST_TEST(loads == 1);
  const void* objects[2] = {};
  int i = 0;
  for (auto& r : {first, second}) {
    try {
      std::rethrow_exception(r->error);
    } catch (const origin_down& e) {
      objects[i++] = &e;
    }
  }
  BOOST_TEST(i == 2);
  BOOST_TEST(objects[0] == objects[1]);
  BOOST_TEST(cache.stats().error_hits == 1u);

  manual_clock::advance(1s);  // error_ttl over: load again
  auto third = spawn(ioc.get_executor(), cache.get("k", failing));
  BOOST_REQUIRE(run_until([&] { return third->done.load(); }));
  BOOST_TEST(loads == 2);
  BOOST_TEST(cache.stats().load_failures == 2u);
}

BOOST_AUTO_TEST_CASE(without_error_ttl_the_next_caller_loads_again) {
  Cache cache(ioc.get_executor(), ttl_10s());
  int loads = 0;
  auto failing = [&]() -> asio::awaitable<int> {
    ++loads;
    throw std::runtime_error("down");
    co_return 0;
  };
  for (int round = 1; round <= 3; ++round) {
    auto r = spawn(ioc.get_executor(), cache.get("k", failing));
    BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
    BOOST_CHECK_THROW(std::rethrow_exception(r->error), std::runtime_error);
    BOOST_TEST(loads == round);
  }
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(erase_during_a_load_wins) {
  Cache cache(ioc.get_executor(), ttl_10s());
  released_loader<int> loader(ioc.get_executor());
  auto before = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  BOOST_TEST(!cache.erase("k"));  // nothing stored yet, but the load loses its lease
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return before->done.load(); }));
  BOOST_TEST(*before->value == 1);  // its caller still gets it
  BOOST_TEST(cache.size() == 0u);   // but it is not stored
  BOOST_TEST(cache.stats().invalidated == 1u);
  auto after = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 2; }));
  loader.release(2);
  BOOST_REQUIRE(run_until([&] { return after->done.load(); }));
  BOOST_TEST(*after->value == 2);
  BOOST_TEST(cache.size() == 1u);
}

BOOST_AUTO_TEST_CASE(callers_after_an_erase_do_not_join_the_invalidated_load) {
  Cache cache(ioc.get_executor(), ttl_10s());
  released_loader<int> old_load(ioc.get_executor()), new_load(ioc.get_executor());
  auto before = spawn(ioc.get_executor(), cache.get("k", loader_of(old_load)));
  BOOST_REQUIRE(run_until([&] { return old_load.calls() == 1; }));
  cache.erase("k");
  auto after = spawn(ioc.get_executor(), cache.get("k", loader_of(new_load)));
  BOOST_REQUIRE(run_until([&] { return new_load.calls() == 1; }));
  new_load.release(2);
  old_load.release(1);  // ends last: must not overwrite the newer value
  BOOST_REQUIRE(run_until([&] { return before->done && after->done; }));
  BOOST_TEST(*before->value == 1);
  BOOST_TEST(*after->value == 2);
  auto hit = spawn(ioc.get_executor(), cache.get("k", loader_of(new_load)));
  BOOST_REQUIRE(run_until([&] { return hit->done.load(); }));
  BOOST_TEST(*hit->value == 2);
}

BOOST_AUTO_TEST_CASE(put_during_a_load_wins) {
  Cache cache(ioc.get_executor(), ttl_10s());
  released_loader<int> loader(ioc.get_executor());
  auto before = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  cache.put("k", 99);
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return before->done.load(); }));
  BOOST_TEST(*before->value == 1);
  auto hit = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return hit->done.load(); }));
  BOOST_TEST(*hit->value == 99);
  BOOST_TEST(loader.calls() == 1);
}

BOOST_AUTO_TEST_CASE(clear_during_a_load_wins) {
  Cache cache(ioc.get_executor(), ttl_10s());
  cache.put("other", 7);
  released_loader<int> loader(ioc.get_executor());
  auto before = spawn(ioc.get_executor(), cache.get("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  cache.clear();
  BOOST_TEST(cache.size() == 0u);
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return before->done.load(); }));
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.stats().invalidated == 1u);
}

BOOST_AUTO_TEST_CASE(stats_are_formattable) {
  Cache cache(ioc.get_executor(), ttl_10s());
  cache.put("k", 1);
  const std::string text = fmt::format("{}", cache.stats());
  BOOST_TEST(text.find("hits=0") != std::string::npos);
  BOOST_TEST(text.find("size=1") != std::string::npos);
  BOOST_TEST(text.find("group: calls=0") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
