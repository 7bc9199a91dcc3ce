// SPDX-License-Identifier: BSL-1.0
// Errors: what a loader throws reaches every caller of its flight as the
// same exception object, of the loader's own type; the library's own error
// codes belong to a category of their own.
#define BOOST_TEST_MODULE error
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;

namespace {
asio::awaitable<int> instant_42() { co_return 42; }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(error_suite, io_fixture)

BOOST_AUTO_TEST_CASE(exception_of_any_type_is_the_same_object_in_every_caller) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  int loads = 0;
  auto throws_42 = [&]() -> asio::awaitable<int> {
    ++loads;
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw 42;
  };
  std::vector<std::shared_ptr<result<int>>> callers;
  for (int i = 0; i < 3; ++i) callers.push_back(spawn(ioc.get_executor(), group.do_("k", throws_42)));
  BOOST_REQUIRE(run_until([&] { return all_done(callers); }));
  BOOST_TEST(loads == 1);
  std::vector<const int*> objects;
  for (auto& c : callers) {
    BOOST_REQUIRE(c->error);
    try {
      std::rethrow_exception(c->error);
    } catch (const int& e) {
      BOOST_TEST(e == 42);
      objects.push_back(&e);
    } catch (...) {
      BOOST_FAIL("the int was wrapped or lost");
    }
  }
  BOOST_TEST(std::count(objects.begin(), objects.end(), objects.front()) == 3);
  BOOST_TEST(group.stats().loader_failures == 1u);
}

BOOST_AUTO_TEST_CASE(a_users_exception_type_reaches_the_caller_unchanged) {
  struct not_found : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  AsyncGroup<int, std::string> group(ioc.get_executor());
  auto loader = []() -> asio::awaitable<std::string> { throw not_found("no such row"); };
  auto r = spawn(ioc.get_executor(), group.do_(7, loader));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_CHECK_THROW(std::rethrow_exception(r->error), not_found);
}

BOOST_AUTO_TEST_CASE(a_loader_throwing_before_its_awaitable_fails_its_caller_and_frees_the_key) {
  AsyncGroup<int, int> group(ioc.get_executor());
  auto loader = []() -> asio::awaitable<int> {
    throw std::logic_error("not even a coroutine frame");
    return instant_42();
  };
  auto r = spawn(ioc.get_executor(), group.do_(1, loader));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_CHECK_THROW(std::rethrow_exception(r->error), std::logic_error);
  BOOST_TEST(group.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(error_codes_have_their_own_category) {
  const boost::system::error_code ec = singleflight::errc::too_many_flights;
  BOOST_TEST(ec.category().name() == std::string("singleflight"));
  BOOST_TEST(&ec.category() == &singleflight::error_category());
  BOOST_TEST(ec.message().find("max_in_flight") != std::string::npos);
  BOOST_TEST(ec != boost::system::error_code(asio::error::operation_aborted));
  const std::error_code std_ec = singleflight::errc::too_many_flights;
  BOOST_TEST(std_ec.value() == 1);
  BOOST_TEST(boost::system::error_code(42, singleflight::error_category()).message() == "unknown singleflight error");
}

BOOST_AUTO_TEST_SUITE_END()
