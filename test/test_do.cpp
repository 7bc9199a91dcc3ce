// do_, do_shared and async_do: one loader per key, a shared result, the same
// exception object in every caller, keys and loaders copied as promised.
#define BOOST_TEST_MODULE do
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;

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
  BOOST_REQUIRE(run_until([&] { return std::all_of(callers.begin(), callers.end(), [](auto& c) { return c->done.load(); }); }));
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

BOOST_AUTO_TEST_SUITE_END()
