// SPDX-License-Identifier: BSL-1.0
// Stats: a group's counters, and the one text that Stats and CacheStats
// print three ways: to_string, operator<< and, through the opt-in
// <singleflight/fmt.hpp>, fmt's "{}".
#define BOOST_TEST_MODULE stats
#include <singleflight/async_group.hpp>
#include <singleflight/cache_stats.hpp>
#include <singleflight/fmt.hpp>
#include <singleflight/stats.hpp>

#include "support/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <sstream>
#include <string>

namespace {

// Every counter distinct, so that a swapped or missing field shows.
singleflight::Stats numbered_stats() {
  singleflight::Stats s;
  s.calls = 1;
  s.flights_started = 2;
  s.joins = 3;
  s.callers_cancelled = 4;
  s.loader_failures = 5;
  s.loaders_cancelled = 6;
  s.loaders_kept = 7;
  s.forgotten = 8;
  s.rejected = 9;
  s.in_flight = 18446744073709551615u;  // the largest uint64_t
  return s;
}

singleflight::CacheStats numbered_cache_stats() {
  singleflight::CacheStats s;
  s.hits = 11;
  s.stale_hits = 12;
  s.error_hits = 13;
  s.misses = 14;
  s.loads = 15;
  s.load_failures = 16;
  s.refreshes = 17;
  s.early_refreshes = 18;
  s.refresh_failures = 19;
  s.invalidated = 20;
  s.evictions = 21;
  s.size = 22;
  s.group = numbered_stats();
  return s;
}

const std::string stats_text =
    "calls=1 flights_started=2 joins=3 callers_cancelled=4 loader_failures=5 loaders_cancelled=6 "
    "loaders_kept=7 forgotten=8 rejected=9 in_flight=18446744073709551615";

template <class T>
std::string streamed(const T& value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(stats_to_string_names_every_counter_in_order) {
  BOOST_TEST(singleflight::to_string(numbered_stats()) == stats_text);
  BOOST_TEST(singleflight::to_string(singleflight::Stats{}) ==
             "calls=0 flights_started=0 joins=0 callers_cancelled=0 loader_failures=0 loaders_cancelled=0 "
             "loaders_kept=0 forgotten=0 rejected=0 in_flight=0");
}

BOOST_AUTO_TEST_CASE(stats_print_the_same_text_through_ostream_and_fmt) {
  const singleflight::Stats s = numbered_stats();
  BOOST_TEST(streamed(s) == stats_text);
  BOOST_TEST(fmt::format("{}", s) == stats_text);
}

BOOST_AUTO_TEST_CASE(cache_stats_to_string_ends_with_the_group_counters) {
  BOOST_TEST(singleflight::to_string(numbered_cache_stats()) ==
             "hits=11 stale_hits=12 error_hits=13 misses=14 loads=15 load_failures=16 refreshes=17 "
             "early_refreshes=18 refresh_failures=19 invalidated=20 evictions=21 size=22 group: " +
                 stats_text);
}

BOOST_AUTO_TEST_CASE(cache_stats_print_the_same_text_through_ostream_and_fmt) {
  const singleflight::CacheStats s = numbered_cache_stats();
  const std::string text = singleflight::to_string(s);
  BOOST_TEST(streamed(s) == text);
  BOOST_TEST(fmt::format("{}", s) == text);
}

BOOST_AUTO_TEST_CASE(fmt_string_specs_apply_to_the_whole_text) {
  const singleflight::Stats s = numbered_stats();
  const std::string text = fmt::format("[{:*>200}]", s);
  BOOST_TEST(text == "[" + std::string(200 - stats_text.size(), '*') + stats_text + "]");
}

namespace {
boost::asio::awaitable<int> instant_42() { co_return 42; }
}  // namespace

BOOST_FIXTURE_TEST_CASE(one_call_counts_one_flight_and_no_join, sftest::io_fixture) {
  singleflight::AsyncGroup<std::string, int> group(ioc.get_executor());
  auto r = sftest::spawn(ioc.get_executor(), group.do_("k", instant_42));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  const std::string text = to_string(group.stats());
  BOOST_TEST(text.find("calls=1 flights_started=1 joins=0") == 0u);
  BOOST_TEST(text.find("in_flight=0") != std::string::npos);
}
