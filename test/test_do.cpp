// SPDX-License-Identifier: BSL-1.0
// do_, do_shared and async_do: one loader per key, a shared result, keys and
// loaders copied as promised, every completion token (callbacks, deferred,
// use_future). Errors are in test_error.cpp, counters in test_stats.cpp.
#define BOOST_TEST_MODULE do
#include <singleflight/async_group.hpp>
#include <singleflight/fmt.hpp>

#include "support/fixture.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;
using singleflight::Shared;

namespace {
asio::awaitable<int> instant_42() { co_return 42; }

// A key that counts its copies, with its own hash and equality.
struct counted_key {
  int id;
  static inline int copies = 0;
  explicit counted_key(int i) : id(i) {}
  counted_key(const counted_key& o) : id(o.id) { ++copies; }
  bool operator==(const counted_key& o) const { return id == o.id; }
};
struct counted_key_hash {
  std::size_t operator()(const counted_key& k) const { return std::hash<int>()(k.id); }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(do_suite, io_fixture)

BOOST_AUTO_TEST_CASE(concurrent_callers_share_one_load) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  std::vector<std::shared_ptr<result<int>>> callers;
  for (int i = 0; i < 10; ++i) callers.push_back(spawn(ioc.get_executor(), group.do_("k", loader_of(loader))));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  ioc.restart();
  ioc.poll();
  BOOST_TEST(loader.calls() == 1);
  BOOST_TEST(group.in_flight() == 1u);
  for (auto& c : callers) BOOST_TEST(!c->done);
  loader.release(42);
  BOOST_REQUIRE(run_until([&] { return all_done(callers); }));
  for (auto& c : callers) {
    BOOST_TEST(!c->error);
    BOOST_TEST(*c->value == 42);
  }
  BOOST_TEST(group.in_flight() == 0u);
  const auto s = group.stats();
  BOOST_TEST(s.calls == 10u);
  BOOST_TEST(s.flights_started == 1u);
  BOOST_TEST(s.joins == 9u);
  BOOST_TEST(drain());
}

BOOST_AUTO_TEST_CASE(distinct_keys_load_separately) {
  AsyncGroup<std::string, std::string> group(ioc.get_executor());
  int loads = 0;
  std::vector<std::shared_ptr<result<std::string>>> callers;
  for (std::string key : {"a", "b", "a", "c", "b"}) {
    auto loader = [&loads, key]() -> asio::awaitable<std::string> {
      ++loads;
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_return "value-of-" + key;
    };
    // An rvalue key is moved into the operation: `key` may die before the
    // spawned coroutine first runs.
    callers.push_back(spawn(ioc.get_executor(), group.do_(std::string(key), loader)));
  }
  BOOST_REQUIRE(run_until([&] { return all_done(callers); }));
  BOOST_TEST(loads == 3);
  const char* expected[] = {"value-of-a", "value-of-b", "value-of-a", "value-of-c", "value-of-b"};
  for (std::size_t i = 0; i < callers.size(); ++i) BOOST_TEST(*callers[i]->value == expected[i]);
}

BOOST_AUTO_TEST_CASE(nothing_is_cached_after_the_flight) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  int loads = 0;
  auto loader = [&]() -> asio::awaitable<int> { co_return ++loads; };
  auto first = spawn(ioc.get_executor(), group.do_("k", loader));
  BOOST_REQUIRE(run_until([&] { return first->done.load(); }));
  auto second = spawn(ioc.get_executor(), group.do_("k", loader));
  BOOST_REQUIRE(run_until([&] { return second->done.load(); }));
  BOOST_TEST(*first->value == 1);
  BOOST_TEST(*second->value == 2);
}

BOOST_AUTO_TEST_CASE(do_shared_flags_a_value_that_went_to_more_than_one_caller_as_go_does) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  auto alone = spawn(ioc.get_executor(), group.do_shared("solo", instant_42));
  BOOST_REQUIRE(run_until([&] { return alone->done.load(); }));
  BOOST_TEST(alone->value->value == 42);
  BOOST_TEST(!alone->value->shared);

  released_loader<int> loader(ioc.get_executor());
  auto a = spawn(ioc.get_executor(), group.do_shared("dup", loader_of(loader)));
  auto b = spawn(ioc.get_executor(), group.do_shared("dup", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == 1; }));
  loader.release(7);
  BOOST_REQUIRE(run_until([&] { return a->done && b->done; }));
  BOOST_TEST(a->value->value == 7);
  BOOST_TEST(a->value->shared);
  BOOST_TEST(b->value->shared);
}

BOOST_AUTO_TEST_CASE(string_views_and_literals_are_keys) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  const std::string owned = "user:1";
  auto a = spawn(ioc.get_executor(), group.do_(owned, loader_of(loader)));
  auto b = spawn(ioc.get_executor(), group.do_(std::string_view(owned), loader_of(loader)));
  auto c = spawn(ioc.get_executor(), group.do_("user:1", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == 2; }));
  BOOST_TEST(group.forget(std::string_view("user:1")));
  loader.release(5);
  BOOST_REQUIRE(run_until([&] { return a->done && b->done && c->done; }));
  BOOST_TEST((*a->value == 5 && *b->value == 5 && *c->value == 5));
  BOOST_TEST(loader.calls() == 1);
}

BOOST_AUTO_TEST_CASE(key_is_copied_only_when_a_flight_starts) {
  AsyncGroup<counted_key, int, counted_key_hash, std::equal_to<counted_key>> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  const counted_key key(3);
  counted_key::copies = 0;
  std::vector<std::shared_ptr<result<int>>> callers;
  for (int i = 0; i < 20; ++i) callers.push_back(spawn(ioc.get_executor(), group.do_(key, loader_of(loader))));
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == 19; }));
  BOOST_TEST(counted_key::copies == 1);
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return all_done(callers); }));
  BOOST_TEST(counted_key::copies == 1);
}

BOOST_AUTO_TEST_CASE(loader_captures_stay_alive_until_its_awaitable_finishes) {
  AsyncGroup<int, std::string> group(ioc.get_executor());
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  std::shared_ptr<result<std::string>> r;
  {
    std::string text = "captured by value";
    auto loader = [text, alive = std::move(alive)]() -> asio::awaitable<std::string> {
      // Suspends before it reads its captures: the callable must outlive the
      // caller's call expression.
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_return text + " " + std::to_string(alive.use_count());
    };
    r = spawn(ioc.get_executor(), group.do_(1, std::move(loader)));
  }
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_TEST(!r->error);
  BOOST_TEST(r->value->starts_with("captured by value"));
  BOOST_TEST(drain());
  BOOST_TEST(watch.expired());  // and released once done
}

BOOST_AUTO_TEST_CASE(async_do_completes_every_callback_with_the_one_value) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  std::vector<int> got;
  for (int i = 0; i < 3; ++i)
    group.async_do("k", loader_of(loader), [&](std::exception_ptr e, int v) {
      BOOST_TEST(!e);
      got.push_back(v);
    });
  BOOST_TEST(got.empty());
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  loader.release(9);
  BOOST_REQUIRE(run_until([&] { return got.size() == 3; }));
  BOOST_TEST((got == std::vector<int>{9, 9, 9}));
}

BOOST_AUTO_TEST_CASE(async_do_completes_through_deferred_and_use_future) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  auto op = group.async_do("k", instant_42, asio::deferred);
  std::exception_ptr error;
  int value = 0;
  std::move(op)([&](std::exception_ptr e, int v) {
    error = e;
    value = v;
  });
  BOOST_REQUIRE(run_until([&] { return value == 42; }));
  BOOST_TEST(!error);

  auto work = asio::make_work_guard(ioc);
  ioc.restart();
  std::thread runner([&] { ioc.run(); });
  std::future<int> f = group.async_do("k", instant_42, asio::use_future);
  auto throwing = []() -> asio::awaitable<int> { throw std::runtime_error("boom"); };
  std::future<int> g = group.async_do("other", throwing, asio::use_future);
  BOOST_TEST(f.get() == 42);
  BOOST_CHECK_THROW(g.get(), std::runtime_error);
  work.reset();
  runner.join();
}

BOOST_AUTO_TEST_SUITE_END()
