// Stats: the group's counters, and their text through fmt.
#define BOOST_TEST_MODULE stats
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <string>

using namespace sftest;
using singleflight::AsyncGroup;

namespace {
asio::awaitable<int> instant_42() { co_return 42; }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(stats_suite, io_fixture)

BOOST_AUTO_TEST_CASE(stats_print_their_counters_through_fmt) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  auto r = spawn(ioc.get_executor(), group.do_("k", instant_42));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  const std::string text = fmt::format("{}", group.stats());
  BOOST_TEST(text.find("calls=1 flights_started=1 joins=0") == 0u);
  BOOST_TEST(text.find("in_flight=0") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
