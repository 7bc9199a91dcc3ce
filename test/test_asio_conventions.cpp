// SPDX-License-Identifier: BSL-1.0
// The Asio conventions the group follows: no completion inside the
// initiating call (from inside a handler too), immediate completion for
// co_await, a loader started at once on the thread that can run it, work
// kept on a waiting handler's executor, the initiation's executor, and one
// exception object per kind of failure.
#define BOOST_TEST_MODULE asio_conventions
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>
#include <thread>

using namespace sftest;
using singleflight::AsyncGroup;
using singleflight::Options;

namespace {
asio::awaitable<int> immediate() { co_return 7; }

/// A completion token whose async_result records the initiation's
/// executor, then initiates with a no-op handler.
struct executor_probe {
  asio::any_io_executor* seen;
};
}  // namespace

template <class... Signatures>
struct boost::asio::async_result<executor_probe, Signatures...> {
  template <class Initiation, class... Args>
  static void initiate(Initiation&& init, executor_probe token, Args&&... args) {
    *token.seen = init.get_executor();
    std::move(init)([](auto&&...) {}, std::forward<Args>(args)...);
  }
};

BOOST_AUTO_TEST_CASE(async_do_never_completes_inside_its_call_even_from_a_handler) {
  io_fixture io;
  AsyncGroup<int, int> group(io.ioc.get_executor());
  bool returned = false, inside = false, completed = false;
  // From inside a handler of the group's io_context, with a loader that
  // returns at once: the loader may run inline, its caller's handler not.
  asio::post(io.ioc, [&] {
    group.async_do(1, immediate, [&](std::exception_ptr e, int v) {
      inside = !returned;
      completed = !e && v == 7;
    });
    returned = true;
  });
  BOOST_REQUIRE(io.run_until([&] { return completed; }));
  BOOST_TEST(!inside);
}

BOOST_AUTO_TEST_CASE(rejected_async_do_from_a_handler_completes_later) {
  io_fixture io;
  Options opts;
  opts.max_in_flight = 0;
  AsyncGroup<int, int> group(io.ioc.get_executor(), opts);
  bool returned = false, inside = false, rejected = false;
  asio::post(io.ioc, [&] {
    group.async_do(1, immediate, [&](std::exception_ptr e, int) {
      inside = !returned;
      rejected = e != nullptr;
    });
    returned = true;
  });
  BOOST_REQUIRE(io.run_until([&] { return rejected; }));
  BOOST_TEST(!inside);
}

// Asio >= 1.28's immediate completion for co_await: a flight that has
// finished by the time its first caller would suspend costs no post. A
// thousand calls on new keys run in the handful of handlers that co_spawn
// itself needs, not in one or more per call.
BOOST_AUTO_TEST_CASE(co_await_of_a_finished_flight_goes_on_without_a_post) {
  io_fixture io;
  AsyncGroup<int, int> group(io.ioc.get_executor());
  constexpr int calls = 1000;
  int sum = 0;
  bool done = false;
  asio::co_spawn(
      io.ioc,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < calls; ++i) sum += co_await group.do_(i, immediate);
        done = true;
      },
      asio::detached);
  std::size_t handlers = 0;
  for (int step = 0; step < 100 && !done; ++step) handlers += io.ioc.poll();
  BOOST_REQUIRE(done);
  BOOST_TEST(sum == 7 * calls);
  BOOST_TEST(handlers < 10u);
  BOOST_TEST(group.stats().flights_started == static_cast<std::uint64_t>(calls));
}

// The loader starts in the initiating call when this thread can run its
// strand, in a coroutine of its own: cancelling that first caller leaves it.
BOOST_AUTO_TEST_CASE(loader_starts_at_once_on_a_thread_that_runs_its_executor) {
  io_fixture io;
  AsyncGroup<int, int> group(io.ioc.get_executor());
  released_loader<int> loader(io.ioc.get_executor());
  asio::cancellation_signal first;
  bool started_inline = false, first_aborted = false, second_done = false;
  asio::post(io.ioc, [&] {
    group.async_do(1, loader_of(loader), asio::bind_cancellation_slot(first.slot(), [&](std::exception_ptr e, int) {
                     first_aborted = e != nullptr;
                   }));
    started_inline = loader.calls() == 1;
  });
  BOOST_REQUIRE(io.run_until([&] { return loader.calls() == 1; }));
  BOOST_TEST(started_inline);
  group.async_do(1, loader_of(loader), [&](std::exception_ptr e, int v) { second_done = !e && v == 5; });
  first.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(io.run_until([&] { return first_aborted; }));
  loader.release(5);
  BOOST_REQUIRE(io.run_until([&] { return second_done; }));
  BOOST_TEST(loader.calls() == 1);
  BOOST_TEST(loader.cancelled() == 0);
}

// A parked callback keeps work on its associated executor, as Asio's own
// operations do: run() on that executor's context waits for it.
BOOST_AUTO_TEST_CASE(a_waiting_handler_keeps_its_executor_busy) {
  asio::io_context group_ctx, caller_ctx;
  auto group_work = asio::make_work_guard(group_ctx);
  std::thread group_thread([&] { group_ctx.run(); });
  AsyncGroup<int, int> group(group_ctx.get_executor());
  auto slow = [&]() -> asio::awaitable<int> {
    asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return 3;
  };
  int got = 0;
  group.async_do(1, slow, asio::bind_executor(caller_ctx, [&](std::exception_ptr, int v) { got = v; }));
  caller_ctx.run_for(10s);  // returns once no work is left
  BOOST_TEST(got == 3);
  group_work.reset();
  group_thread.join();
}

// A loader that waits keeps work on the group's executor, as co_spawn does:
// here it waits on another context, and the only caller's handler is bound
// there too, so nothing else keeps the group's run() from returning before
// the flight ends on the group's executor.
BOOST_AUTO_TEST_CASE(a_waiting_loader_keeps_the_groups_executor_busy) {
  asio::io_context group_ctx, other_ctx;
  AsyncGroup<int, int> group(group_ctx.get_executor());
  auto elsewhere = [&]() -> asio::awaitable<int> {
    asio::steady_timer t(other_ctx, 20ms);
    co_await t.async_wait(asio::bind_executor(other_ctx, asio::use_awaitable));
    co_return 4;
  };
  int got = 0;
  group.async_do(1, elsewhere, asio::bind_executor(other_ctx, [&](std::exception_ptr, int v) { got = v; }));
  // Without the loader's work, run() returns as soon as the loader suspends,
  // and the flight's end, posted back to the group's executor, never runs.
  std::thread group_thread([&] { group_ctx.run(); });
  other_ctx.run_for(10s);  // returns once the caller has its value
  group_thread.join();     // returns once the flight has ended
  BOOST_TEST(got == 4);
}

BOOST_AUTO_TEST_CASE(async_do_initiation_exposes_the_groups_executor) {
  io_fixture io;
  AsyncGroup<int, int> group(io.ioc.get_executor());
  asio::any_io_executor seen;
  group.async_do(1, immediate, executor_probe{&seen});
  BOOST_TEST((seen == group.get_executor()));
  BOOST_TEST(io.drain());
}

// Failures the group makes itself are made once: every caller that leaves
// early gets the same operation_aborted object, every rejected caller the
// same too_many_flights one, as every caller of a failed loader gets its
// exception.
BOOST_AUTO_TEST_CASE(the_groups_own_exceptions_are_made_once) {
  io_fixture io;
  Options opts;
  opts.max_in_flight = 1;
  AsyncGroup<int, int> group(io.ioc.get_executor(), opts);
  released_loader<int> loader(io.ioc.get_executor());
  asio::cancellation_signal a, b;
  std::exception_ptr ea, eb, r1, r2;
  group.async_do(1, loader_of(loader), asio::bind_cancellation_slot(a.slot(), [&](std::exception_ptr e, int) { ea = e; }));
  group.async_do(1, loader_of(loader), asio::bind_cancellation_slot(b.slot(), [&](std::exception_ptr e, int) { eb = e; }));
  group.async_do(2, loader_of(loader), [&](std::exception_ptr e, int) { r1 = e; });
  group.async_do(3, loader_of(loader), [&](std::exception_ptr e, int) { r2 = e; });
  a.emit(asio::cancellation_type::terminal);
  b.emit(asio::cancellation_type::partial);
  BOOST_REQUIRE(io.run_until([&] { return ea && eb && r1 && r2; }));
  BOOST_TEST((ea == eb));
  BOOST_TEST((r1 == r2));
  BOOST_TEST(!(ea == r1));
}
