// SPDX-License-Identifier: BSL-1.0
// Regression tests for library bugs that the stress test and the fuzzer
// found, each made deterministic (or as likely as it can be made) here. Each
// case says which invariant it guards; fuzz/regressions/README.md lists the
// fuzzer's inputs and the tests that go with them. Run one with
//   test_regressions --run_test=regressions/<name>
#define BOOST_TEST_MODULE regressions
#include <singleflight/async_group.hpp>

#include "stuck_loader.hpp"
#include "support/fixture.hpp"
#include "support/timed_caller.hpp"
#include "tsan_suppressions.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

using namespace sftest;
using namespace std::chrono_literals;
using singleflight::AsyncGroup;
using singleflight::Options;
using asio::awaitable;
using asio::use_awaitable;
using Group = AsyncGroup<std::string, int>;

namespace {
void spin_for(int n) {
  std::atomic<int> sink{0};
  for (int k = 0; k < n; ++k) sink.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(regressions)

// A loader whose every caller has left gets its terminal cancellation while
// it runs on another executor, and finishes there anyway. The flight's end
// goes back to the group's strand, and that way back must not throw because
// the loader's coroutine was cancelled (Asio's throw_if_cancelled is on by
// default): otherwise deliver() and finish() never run and the flight is
// freed while the group's live list still holds it, so that the next
// live_erase() of a neighbouring flight, or close(), writes into freed memory
// (ASan: heap-use-after-free in the group state's live_erase; TSan the same).
BOOST_AUTO_TEST_CASE(a_cancelled_loader_that_finishes_elsewhere_still_ends_its_flight) {
  io_fixture io;
  asio::io_context elsewhere;
  Group group(io.ioc.get_executor());
  int finished = 0;
  auto away = [&]() -> awaitable<int> {
    auto ex = elsewhere.get_executor();
    co_await asio::post(asio::bind_executor(ex, use_awaitable));
    ++finished;
    co_return 1;  // on `elsewhere`, cancelled meanwhile
  };
  // Another flight, so that the live list has a neighbour to corrupt.
  stuck_loader stuck;
  auto other = spawn_with_timeout(io.ioc, group, "other", stuck.loader(), 10s);

  asio::cancellation_signal sig;
  std::exception_ptr error;
  bool done = false;
  group.async_do("k", away, asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e, int) {
                   error = e;
                   done = true;
                 }));
  // Both loaders start; "k"'s is now waiting on `elsewhere`, not run yet.
  BOOST_REQUIRE(io.run_until([&] { return stuck.calls == 1 && group.stats().flights_started == 2; }));
  io.ioc.restart();
  io.ioc.poll();
  sig.emit(asio::cancellation_type::terminal);  // its only caller leaves: abandoned
  BOOST_TEST(group.stats().loaders_cancelled == 1u);
  BOOST_REQUIRE(io.run_until([&] { return done; }));  // the cancellation reaches the loader too
  BOOST_TEST(static_cast<bool>(error));
  BOOST_TEST(finished == 0);
  elsewhere.restart();
  elsewhere.poll();  // the loader finishes on `elsewhere`, cancelled
  BOOST_TEST(finished == 1);
  io.ioc.restart();
  io.ioc.poll();
  elsewhere.restart();
  elsewhere.poll();
  BOOST_TEST(group.in_flight() == 1u);  // "other" only
  BOOST_TEST(group.forget("other"));    // the live flights are walked below
  stuck.release_all();
  BOOST_REQUIRE(io.run_until([&] { return other->done.load(); }));
  BOOST_TEST(other->value.value_or(0) == -1);
  auto again = spawn(io.ioc.get_executor(), group.do_("k", value_loader(2)));
  BOOST_REQUIRE(io.run_until([&] { return again->done.load(); }));
  BOOST_TEST(again->value.value_or(0) == 2);
  BOOST_TEST(group.in_flight() == 0u);
  BOOST_TEST(io.drain());
}

// A loader's coroutine that completes on another executor must not finish
// its flight there: finish() writes flight_base::done, which the terminal
// cancellation posted to the group's strand reads, and the cancellation
// emits on the loader's signal while the loader may still run on the other
// thread. The flight's end goes back to the strand first. The window is
// narrow: the test keeps at it for a while, and TSan stops at the first race
// (test_stress, whose loaders also finish elsewhere, finds it too).
BOOST_AUTO_TEST_CASE(a_loader_finishing_off_strand_ends_its_flight_on_the_strand_without_a_race) {
  asio::io_context ioc;
  asio::thread_pool pool(2);
  Group group(ioc.get_executor());
  auto work = asio::make_work_guard(ioc);
  std::thread t1([&] { ioc.run(); }), t2([&] { ioc.run(); });
  // Each caller is alone on its key, so its cancellation abandons the flight
  // and cancels the loader, which is finishing on a pool thread. The window
  // is narrow: keep at it for a while (TSan stops at the first race).
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  int total = 0;
  for (int round = 0; std::chrono::steady_clock::now() < until; ++round) {
    constexpr int kCallers = 500;
    std::atomic<int> done{0};
    for (int i = 0; i < kCallers; ++i) {
      auto strand = asio::make_strand(ioc);
      auto sig = std::make_shared<asio::cancellation_signal>();
      auto loader = [&pool, i]() -> awaitable<int> {
        auto pool_ex = pool.get_executor();
        co_await asio::post(asio::bind_executor(pool_ex, use_awaitable));
        spin_for(i % 7 * 50);
        co_return i;  // on a pool thread
      };
      asio::co_spawn(
          strand,
          [&group, loader, key = "r" + std::to_string(round) + "k" + std::to_string(i)]() -> awaitable<int> {
            auto op = group.do_(key, loader);
            co_return co_await std::move(op);
          },
          asio::bind_cancellation_slot(sig->slot(), [&done, sig](std::exception_ptr, int) { ++done; }));
      // The only caller leaves while its loader finishes on the pool.
      asio::post(strand, [sig, i] {
        spin_for(i % 5 * 40);
        sig->emit(asio::cancellation_type::terminal);
      });
    }
    while (done < kCallers) std::this_thread::sleep_for(1ms);
    total += kCallers;
  }
  work.reset();
  t1.join();
  t2.join();
  pool.join();
  BOOST_TEST_MESSAGE(total << " callers");
  BOOST_TEST(group.in_flight() == 0u);
}

// A caller whose completion ~AsyncGroup (close()) posted, but which has not
// run yet, still has its cancellation slot connected. Cancelling it runs the
// waiter's canceller after the group's core was freed (once the last loader
// ended): the canceller must look at the waiter's own state before it
// touches the core (ASan: heap-use-after-free; g++'s UBSan vptr check reads
// the freed core). The fuzzer found the same: fuzz/regressions/
// cancel-after-group-destroyed.
BOOST_AUTO_TEST_CASE(a_caller_cancelled_after_its_group_is_gone_still_completes_with_an_error) {
  asio::io_context group_ctx, caller_ctx;
  auto group = std::make_unique<Group>(group_ctx.get_executor());
  asio::cancellation_signal sig;
  std::exception_ptr error;
  bool completed = false;
  auto loader = []() -> awaitable<int> {
    asio::steady_timer t(co_await asio::this_coro::executor, 24h);
    co_await t.async_wait(use_awaitable);  // cancelled when the group goes
    co_return 1;
  };
  group->async_do("k", loader,
                  asio::bind_cancellation_slot(sig.slot(), asio::bind_executor(caller_ctx, [&](std::exception_ptr e, int) {
                                                 error = e;
                                                 completed = true;
                                               })));
  group_ctx.poll();  // the loader starts and waits
  group.reset();     // the caller's operation_aborted is posted to caller_ctx
  group_ctx.restart();
  group_ctx.poll();  // the loader is cancelled and ends: the core is freed
  sig.emit(asio::cancellation_type::terminal);  // the caller times out, say
  caller_ctx.poll();
  BOOST_TEST(completed);
  BOOST_TEST(static_cast<bool>(error));
}

// Not testable from outside, so covered by test_stress alone (destroy rounds
// with SF_STRESS_UNPINNED=1, the default): a canceller whose detach()
// succeeded may race with close() on another thread and with the last
// loader's end, which frees the core. Nothing after detach() may use the
// core; the waiter keeps what its resumption needs (its executor) itself.
// No user code runs in that window, so no test here can widen it.
BOOST_AUTO_TEST_SUITE_END()
