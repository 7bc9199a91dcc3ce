// SPDX-License-Identifier: BSL-1.0
// Bounded memory (max_in_flight) and scale: a million callers on one key
// resume without stack overflow.
#define BOOST_TEST_MODULE limits
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/detached.hpp>

#include <string>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;
using singleflight::Options;

BOOST_FIXTURE_TEST_SUITE(limits, io_fixture)

BOOST_AUTO_TEST_CASE(max_in_flight_caps_distinct_keys_not_joins) {
  Options opts;
  opts.max_in_flight = 2;
  AsyncGroup<std::string, int> group(ioc.get_executor(), opts);
  released_loader<int> a_loader(ioc.get_executor()), b_loader(ioc.get_executor());
  auto a = spawn(ioc.get_executor(), group.do_("a", loader_of(a_loader)));
  auto b = spawn(ioc.get_executor(), group.do_("b", loader_of(b_loader)));
  BOOST_REQUIRE(run_until([&] { return a_loader.calls() == 1 && b_loader.calls() == 1; }));
  released_loader<int> c_loader(ioc.get_executor());
  auto c = spawn(ioc.get_executor(), group.do_("c", loader_of(c_loader)));
  auto a2 = spawn(ioc.get_executor(), group.do_("a", loader_of(a_loader)));  // joining is allowed
  BOOST_REQUIRE(run_until([&] { return c->done.load(); }));
  BOOST_TEST(c->code() == singleflight::errc::too_many_flights);
  BOOST_TEST(c_loader.calls() == 0);
  BOOST_TEST(!a2->done);
  BOOST_TEST(group.in_flight() == 2u);
  BOOST_TEST(group.stats().rejected == 1u);

  a_loader.release(1);
  BOOST_REQUIRE(run_until([&] { return a->done && a2->done; }));
  BOOST_TEST((*a->value == 1 && *a2->value == 1));
  auto c_again = spawn(ioc.get_executor(), group.do_("c", loader_of(c_loader)));  // room again
  BOOST_REQUIRE(run_until([&] { return c_loader.calls() == 1; }));
  c_loader.release(3);
  b_loader.release(2);
  BOOST_REQUIRE(run_until([&] { return c_again->done && b->done; }));
  BOOST_TEST(*c_again->value == 3);
  BOOST_TEST(group.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(forgotten_and_abandoned_flights_free_their_slot) {
  Options opts;
  opts.max_in_flight = 1;
  AsyncGroup<int, int> group(ioc.get_executor(), opts);
  released_loader<int> first(ioc.get_executor()), second(ioc.get_executor());
  auto a = spawn(ioc.get_executor(), group.do_(1, loader_of(first)));
  BOOST_REQUIRE(run_until([&] { return first.calls() == 1; }));
  BOOST_TEST(group.forget(1));
  auto b = spawn(ioc.get_executor(), group.do_(2, loader_of(second)));
  BOOST_REQUIRE(run_until([&] { return second.calls() == 1; }));
  first.release(1);
  second.release(2);
  BOOST_REQUIRE(run_until([&] { return a->done && b->done; }));
  BOOST_TEST((*a->value == 1 && *b->value == 2));
}

BOOST_AUTO_TEST_CASE(a_million_callback_callers_on_one_key_share_one_load) {
  // Callbacks rather than coroutines keep the memory of a million callers
  // small; resuming them walks the same list either way.
  constexpr int callers = 1'000'000;
  AsyncGroup<int, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  int sum = 0, completions = 0;
  for (int i = 0; i < callers; ++i)
    group.async_do(7, loader_of(loader), [&](std::exception_ptr e, int v) {
      ++completions;
      if (!e) sum += v;
    });
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  BOOST_TEST(group.stats().joins == static_cast<std::uint64_t>(callers - 1));
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return completions == callers; }, 120s));
  BOOST_TEST(sum == callers);
  BOOST_TEST(loader.calls() == 1);
}

BOOST_AUTO_TEST_CASE(a_hundred_thousand_coroutines_on_one_key_share_one_load) {
  constexpr int callers = 100'000;
  AsyncGroup<int, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  int completions = 0;
  for (int i = 0; i < callers; ++i)
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto load = loader_of(loader);
          const int v = co_await group.do_(7, load);
          completions += v;
        },
        asio::detached);
  BOOST_REQUIRE(run_until([&] { return group.stats().calls == static_cast<std::uint64_t>(callers); }, 120s));
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return completions == callers; }, 120s));
  BOOST_TEST(loader.calls() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
