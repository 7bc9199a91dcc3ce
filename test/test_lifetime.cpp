// SPDX-License-Identifier: BSL-1.0
// Object lifetimes as for Asio's I/O objects: the group may be destroyed with
// flights pending, and the execution context may go first, with callers
// suspended; nothing crashes, leaks (ASan checks) or resumes afterwards.
#define BOOST_TEST_MODULE lifetime
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <vector>

#include <memory>
#include <optional>
#include <string>

using namespace sftest;
using singleflight::AsyncGroup;
using singleflight::Options;

namespace {
// Counts coroutine frames alive: a caller's locals.
struct frame_probe {
  static inline int alive = 0;
  frame_probe() { ++alive; }
  frame_probe(const frame_probe&) = delete;
  ~frame_probe() { --alive; }
};
}  // namespace

BOOST_AUTO_TEST_CASE(destroying_the_group_aborts_parked_callers_and_cancels_loaders) {
  io_fixture io;
  auto group = std::make_unique<AsyncGroup<std::string, int>>(io.ioc.get_executor());
  released_loader<int> loader(io.ioc.get_executor());
  auto a = spawn(io.ioc.get_executor(), group->do_("a", loader_of(loader)));
  auto b = spawn(io.ioc.get_executor(), group->do_("a", loader_of(loader)));
  auto c = spawn(io.ioc.get_executor(), group->do_("c", loader_of(loader)));
  BOOST_REQUIRE(io.run_until([&] { return loader.calls() == 2 && group->stats().joins == 1; }));
  group.reset();
  BOOST_TEST(!a->done);  // completions are posted, never run in the destructor
  BOOST_REQUIRE(io.run_until([&] { return a->done && b->done && c->done; }));
  for (auto& r : {a, b, c}) BOOST_TEST(r->code() == asio::error::operation_aborted);
  BOOST_REQUIRE(io.run_until([&] { return loader.cancelled() == 2; }));
  BOOST_TEST(io.drain());
}

BOOST_AUTO_TEST_CASE(destroying_a_group_that_keeps_abandoned_loaders_aborts_callers_and_leaves_loaders_alone) {
  io_fixture io;
  Options opts;
  opts.keep_abandoned_loaders = true;
  auto group = std::make_unique<AsyncGroup<std::string, int>>(io.ioc.get_executor(), opts);
  released_loader<int> loader(io.ioc.get_executor());
  auto a = spawn(io.ioc.get_executor(), group->do_("a", loader_of(loader)));
  BOOST_REQUIRE(io.run_until([&] { return loader.calls() == 1; }));
  group.reset();
  BOOST_REQUIRE(io.run_until([&] { return a->done.load(); }));
  BOOST_TEST(a->code() == asio::error::operation_aborted);
  loader.release(1);  // finishes with nobody left to tell
  BOOST_TEST(io.drain());
  BOOST_TEST(loader.cancelled() == 0);
}

BOOST_AUTO_TEST_CASE(a_caller_destroying_the_group_when_resumed_leaves_the_other_callers_their_value) {
  io_fixture io;
  auto group = std::make_unique<AsyncGroup<std::string, int>>(io.ioc.get_executor());
  released_loader<int> loader(io.ioc.get_executor());
  bool destroyed = false;
  auto first = [&]() -> asio::awaitable<int> {
    auto load = loader_of(loader);
    int v = co_await group->do_("k", load);
    group.reset();  // the last user of the group drops it while others resume
    destroyed = true;
    co_return v;
  };
  auto a = spawn(io.ioc.get_executor(), first());
  std::vector<std::shared_ptr<result<int>>> others;
  BOOST_REQUIRE(io.run_until([&] { return loader.calls() == 1; }));
  for (int i = 0; i < 5; ++i) others.push_back(spawn(io.ioc.get_executor(), group->do_("k", loader_of(loader))));
  BOOST_REQUIRE(io.run_until([&] { return group->stats().joins == 5; }));
  loader.release(3);
  BOOST_REQUIRE(io.run_until([&] { return destroyed && std::all_of(others.begin(), others.end(), [](auto& r) { return r->done.load(); }); }));
  BOOST_TEST(*a->value == 3);
  for (auto& r : others) BOOST_TEST(*r->value == 3);
  BOOST_TEST(io.drain());
}

BOOST_AUTO_TEST_CASE(destroying_the_io_context_first_destroys_suspended_callers_unresumed) {
  auto ioc = std::make_unique<asio::io_context>();
  auto group = std::make_unique<AsyncGroup<std::string, int>>(ioc->get_executor());
  auto loader_started = std::make_shared<int>(0);
  bool resumed = false;
  auto never = [loader_started]() -> asio::awaitable<int> {
    ++*loader_started;
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await forever.async_wait(asio::use_awaitable);
    co_return 0;
  };
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        *ioc,
        [&, i]() -> asio::awaitable<void> {
          frame_probe probe;
          int v = co_await group->do_(i == 2 ? "other" : "k", never);
          resumed = true;
          (void)v;
        },
        asio::detached);
  }
  for (int i = 0; i < 100 && *loader_started < 2; ++i) ioc->poll();
  BOOST_REQUIRE(*loader_started == 2);
  BOOST_TEST(frame_probe::alive == 3);
  BOOST_TEST(group->in_flight() == 2u);
  ioc.reset();  // shutdown destroys the parked callers' frames
  BOOST_TEST(frame_probe::alive == 0);
  BOOST_TEST(!resumed);
  BOOST_TEST(group->in_flight() == 0u);
  group.reset();  // after its context: nothing to touch, nothing to crash
  BOOST_TEST(!resumed);
}

BOOST_AUTO_TEST_CASE(destroying_the_thread_pool_first_destroys_suspended_callers_unresumed) {
  auto pool = std::make_unique<asio::thread_pool>(2);
  AsyncGroup<int, int> group(pool->get_executor());
  std::atomic<int> parked{0};
  auto never = [&]() -> asio::awaitable<int> {
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await forever.async_wait(asio::use_awaitable);
    co_return 0;
  };
  for (int i = 0; i < 50; ++i)
    group.async_do(i % 5, never, [&](std::exception_ptr, int) { BOOST_ERROR("must not resume"); });
  BOOST_TEST(group.stats().calls == 50u);
  pool->stop();
  pool->join();
  pool.reset();
  BOOST_TEST(group.in_flight() == 0u);
  (void)parked;
}

BOOST_AUTO_TEST_CASE(calls_after_the_context_is_gone_are_destroyed_unrun) {
  auto ioc = std::make_unique<asio::io_context>();
  AsyncGroup<int, int> group(ioc->get_executor());
  ioc.reset();
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  asio::io_context callers;
  auto instant = []() -> asio::awaitable<int> { co_return 1; };
  group.async_do(1, instant, asio::bind_executor(callers, [token = std::move(token)](std::exception_ptr, int) {
                   BOOST_ERROR("must not run");
                 }));
  BOOST_TEST(watch.expired());
  callers.run();
  BOOST_TEST(group.stats().flights_started == 0u);
}

BOOST_AUTO_TEST_CASE(a_moved_group_keeps_its_flights_joinable) {
  io_fixture io;
  AsyncGroup<int, int> from(io.ioc.get_executor());
  released_loader<int> loader(io.ioc.get_executor());
  auto a = spawn(io.ioc.get_executor(), from.do_(1, loader_of(loader)));
  BOOST_REQUIRE(io.run_until([&] { return loader.calls() == 1; }));
  AsyncGroup<int, int> to(std::move(from));
  BOOST_TEST(to.in_flight() == 1u);
  auto b = spawn(io.ioc.get_executor(), to.do_(1, loader_of(loader)));
  BOOST_REQUIRE(io.run_until([&] { return to.stats().joins == 1; }));
  loader.release(2);
  BOOST_REQUIRE(io.run_until([&] { return a->done && b->done; }));
  BOOST_TEST((*a->value == 2 && *b->value == 2));
}
