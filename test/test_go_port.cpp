// SPDX-License-Identifier: BSL-1.0
// Go's golang.org/x/sync/singleflight tests (singleflight_test.go), ported:
// Do → do_, DoChan → async_do, a panic → an exception, Forget → forget.
#define BOOST_TEST_MODULE go_port
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>

#include <stdexcept>
#include <string>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;

namespace {
struct some_error : std::runtime_error {
  some_error() : std::runtime_error("Some error") {}
};
struct panic_value {
  std::string what;
};
using group_type = AsyncGroup<std::string, std::string>;
}  // namespace

BOOST_FIXTURE_TEST_SUITE(go_port, io_fixture)

BOOST_AUTO_TEST_CASE(TestDo) {
  group_type g(ioc.get_executor());
  auto fn = []() -> asio::awaitable<std::string> { co_return "bar"; };
  auto r = spawn(ioc.get_executor(), g.do_("key", fn));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
  BOOST_TEST(!r->error);
  BOOST_TEST(*r->value == "bar");
}

BOOST_AUTO_TEST_CASE(TestDoErr) {
  group_type g(ioc.get_executor());
  auto fn = []() -> asio::awaitable<std::string> { throw some_error(); };
  std::exception_ptr err;
  std::string v = "unset";
  g.async_do("key", fn, [&](std::exception_ptr e, std::string value) {
    err = e;
    v = std::move(value);
  });
  BOOST_REQUIRE(run_until([&] { return err != nullptr; }));
  BOOST_CHECK_THROW(std::rethrow_exception(err), some_error);
  BOOST_TEST(v.empty());  // Go: v == nil
}

BOOST_AUTO_TEST_CASE(TestDoDupSuppress) {
  group_type g(ioc.get_executor());
  released_loader<std::string> fn(ioc.get_executor());
  constexpr int n = 10;
  std::vector<std::shared_ptr<result<std::string>>> callers;
  for (int i = 0; i < n; ++i) callers.push_back(spawn(ioc.get_executor(), g.do_("key", loader_of(fn))));
  // Go waits until every goroutine is inside Do; we can see it exactly.
  BOOST_REQUIRE(run_until([&] { return g.stats().calls == n; }));
  fn.release("bar");
  BOOST_REQUIRE(run_until([&] { return std::all_of(callers.begin(), callers.end(), [](auto& c) { return c->done.load(); }); }));
  for (auto& c : callers) BOOST_TEST(*c->value == "bar");
  BOOST_TEST(fn.calls() == 1);  // Go only asserts 0 < calls < n
}

BOOST_AUTO_TEST_CASE(TestForget) {
  // golang/go#31420: a forgotten flight, when it ends, must not unlink the
  // flight that replaced it.
  AsyncGroup<std::string, int> g(ioc.get_executor());
  released_loader<int> first(ioc.get_executor()), second(ioc.get_executor());
  auto first_result = spawn(ioc.get_executor(), g.do_("key", loader_of(first)));
  BOOST_REQUIRE(run_until([&] { return first.calls() == 1; }));
  BOOST_TEST(g.forget("key"));

  int second_result = 0, third_result = 0;
  g.async_do("key", loader_of(second), [&](std::exception_ptr, int v) { second_result = v; });
  BOOST_REQUIRE(run_until([&] { return second.calls() == 1; }));

  first.release(1);
  BOOST_REQUIRE(run_until([&] { return first_result->done.load(); }));
  BOOST_TEST(*first_result->value == 1);  // callers of the forgotten flight get its result

  auto third = []() -> asio::awaitable<int> { co_return 3; };
  g.async_do("key", third, [&](std::exception_ptr, int v) { third_result = v; });
  second.release(2);
  BOOST_REQUIRE(run_until([&] { return second_result != 0 && third_result != 0; }));
  BOOST_TEST(second_result == 2);
  BOOST_TEST(third_result == 2);  // joined the second flight
}

BOOST_AUTO_TEST_CASE(TestDoChan) {
  group_type g(ioc.get_executor());
  auto fn = []() -> asio::awaitable<std::string> { co_return "bar"; };
  std::exception_ptr err = std::make_exception_ptr(1);
  std::string v;
  g.async_do("key", fn, [&](std::exception_ptr e, std::string value) {
    err = e;
    v = std::move(value);
  });
  BOOST_REQUIRE(run_until([&] { return !v.empty(); }));
  BOOST_TEST(!err);
  BOOST_TEST(v == "bar");
}

BOOST_AUTO_TEST_CASE(TestPanicDo) {
  // Go recovers the panic and re-panics in every caller with the same value;
  // an exception of any type does the same here, and the key is not stuck.
  group_type g(ioc.get_executor());
  auto fn = []() -> asio::awaitable<std::string> {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw panic_value{"invalid memory address or nil pointer dereference"};
  };
  constexpr int n = 5;
  std::vector<std::shared_ptr<result<std::string>>> callers;
  for (int i = 0; i < n; ++i) callers.push_back(spawn(ioc.get_executor(), g.do_("key", fn)));
  BOOST_REQUIRE(run_until([&] { return std::all_of(callers.begin(), callers.end(), [](auto& c) { return c->done.load(); }); }));
  for (auto& c : callers) {
    try {
      std::rethrow_exception(c->error);
    } catch (const panic_value& p) {
      BOOST_TEST(p.what == "invalid memory address or nil pointer dereference");
    } catch (...) {
      BOOST_FAIL("wrong exception type");
    }
  }
  auto ok = []() -> asio::awaitable<std::string> { co_return "fine"; };
  auto after = spawn(ioc.get_executor(), g.do_("key", ok));
  BOOST_REQUIRE(run_until([&] { return after->done.load(); }));
  BOOST_TEST(*after->value == "fine");
}

BOOST_AUTO_TEST_CASE(TestGoexitDo) {
  // runtime.Goexit ends the function without a value; the nearest thing is a
  // loader whose own operation is aborted: every caller sees that error.
  group_type g(ioc.get_executor());
  auto fn = []() -> asio::awaitable<std::string> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
    asio::post(co_await asio::this_coro::executor, [&t] { t.cancel(); });
    co_await t.async_wait(asio::use_awaitable);
    co_return "unreachable";
  };
  auto a = spawn(ioc.get_executor(), g.do_("key", fn));
  auto b = spawn(ioc.get_executor(), g.do_("key", fn));
  BOOST_REQUIRE(run_until([&] { return a->done && b->done; }));
  BOOST_TEST(a->code() == asio::error::operation_aborted);
  BOOST_TEST(b->code() == asio::error::operation_aborted);
  BOOST_TEST((a->error == b->error));  // the same exception_ptr
}

BOOST_AUTO_TEST_CASE(TestPanicDoChan) {
  // In Go a panic in DoChan's function crashes the program, since no caller
  // can recover it; here it reaches the handler.
  group_type g(ioc.get_executor());
  auto fn = []() -> asio::awaitable<std::string> { throw panic_value{"Panicking in DoChan"}; };
  std::exception_ptr err;
  g.async_do("key", fn, [&](std::exception_ptr e, std::string) { err = e; });
  BOOST_REQUIRE(run_until([&] { return err != nullptr; }));
  BOOST_CHECK_THROW(std::rethrow_exception(err), panic_value);
}

BOOST_AUTO_TEST_CASE(TestPanicDoSharedByDoChan) {
  group_type g(ioc.get_executor());
  released_loader<std::string> blocked(ioc.get_executor());
  auto via_do = spawn(ioc.get_executor(), g.do_("key", loader_of(blocked)));
  BOOST_REQUIRE(run_until([&] { return blocked.calls() == 1; }));
  std::exception_ptr via_chan;
  g.async_do("key", loader_of(blocked), [&](std::exception_ptr e, std::string) { via_chan = e; });
  BOOST_REQUIRE(run_until([&] { return g.stats().joins == 1; }));
  blocked.fail(asio::error::connection_reset);  // the shared function fails
  BOOST_REQUIRE(run_until([&] { return via_do->done && via_chan != nullptr; }));
  BOOST_TEST((via_do->error == via_chan));
  BOOST_TEST(via_do->code() == asio::error::connection_reset);
}

BOOST_AUTO_TEST_SUITE_END()
