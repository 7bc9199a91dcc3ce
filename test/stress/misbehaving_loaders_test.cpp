// Loaders that misbehave (issue #6): one that never completes and ignores
// cancellation, one that throws from deep inside nested awaits, one that
// completes on another executor. And regressions for library bugs found by
// the stress and fuzz work (disabled while they fail; see each one).
#define BOOST_TEST_MODULE misbehaving_loaders
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"
#include "tsan_suppressions.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
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

// A loader that never completes on its own and ignores cancellation: it
// disables throw-on-cancel and waits, with no cancellation slot, on a timer
// that only the test can cancel.
struct stuck_loader {
  int calls = 0;
  int finished = 0;
  bool saw_cancel = false;
  std::vector<asio::steady_timer*> gates;

  auto loader() {
    return [this]() -> awaitable<int> {
      ++calls;
      co_await asio::this_coro::throw_if_cancelled(false);
      auto ex = co_await asio::this_coro::executor;
      asio::steady_timer gate(ex, 24h);
      gates.push_back(&gate);
      try {
        co_await gate.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
      } catch (const boost::system::system_error&) {
        // released by the test
      }
      std::erase(gates, &gate);
      auto cs = co_await asio::this_coro::cancellation_state;
      saw_cancel = saw_cancel || cs.cancelled() != asio::cancellation_type::none;
      ++finished;
      co_return -1;
    };
  }
  // Single-threaded tests: called between polls, on the context's thread.
  void release_all() {
    for (auto* g : std::vector<asio::steady_timer*>(gates)) g->cancel();
  }
};

auto value_loader(int v) {
  return [v]() -> awaitable<int> { co_return v; };
}

// A caller that gives up after `timeout`: the outcome of its do_, and
// whether the timer won.
struct timed_result {
  std::atomic<bool> done{false};
  bool timed_out = false;
  std::optional<int> value;
  boost::system::error_code code;  // of a system_error
  std::exception_ptr error;        // any exception
};

template <class F>
std::shared_ptr<timed_result> spawn_with_timeout(asio::io_context& ioc, Group& group, std::string key, F loader,
                                                 std::chrono::milliseconds timeout) {
  auto r = std::make_shared<timed_result>();
  asio::co_spawn(
      ioc,
      [&group, r, key = std::move(key), loader, timeout]() -> awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer timer(ex, timeout);
        auto attempt = [&group, r, &key, loader]() -> awaitable<void> {
          try {
            auto op = group.do_(key, loader);
            r->value = co_await std::move(op);
          } catch (const boost::system::system_error& e) {
            r->code = e.code();
            r->error = std::current_exception();
          } catch (...) {
            r->error = std::current_exception();  // `||` would otherwise wait for the timer
          }
        };
        auto a = attempt();
        auto w = timer.async_wait(use_awaitable);
        auto race = std::move(a) || std::move(w);
        auto which = co_await std::move(race);
        r->timed_out = which.index() == 1;
      },
      [r](std::exception_ptr) { r->done = true; });
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(misbehaving)

// The loader ignores the cancellation it gets once every caller has left:
// the callers still time out, the key is unlinked at once, and the next
// caller starts a new flight that completes while the stuck one goes on.
BOOST_AUTO_TEST_CASE(stuck_loader_holds_neither_its_callers_nor_its_key) {
  io_fixture io;
  Group group(io.ioc.get_executor());
  stuck_loader stuck;
  std::vector<std::shared_ptr<timed_result>> callers;
  for (int i = 0; i < 3; ++i) callers.push_back(spawn_with_timeout(io.ioc, group, "k", stuck.loader(), 20ms));
  BOOST_REQUIRE(io.run_until([&] { return callers[0]->done && callers[1]->done && callers[2]->done; }));
  for (auto& c : callers) {
    BOOST_TEST(c->timed_out);
    BOOST_TEST(c->code == asio::error::operation_aborted);  // the do_ inside `||` was cancelled
  }
  BOOST_TEST(stuck.calls == 1);
  BOOST_TEST(stuck.finished == 0);  // still running: it ignored the cancellation
  BOOST_TEST(group.in_flight() == 0u);
  auto s = group.stats();
  BOOST_TEST(s.callers_cancelled == 3u);
  BOOST_TEST(s.loaders_cancelled == 1u);

  // The key is free: a new flight starts and completes.
  auto next = spawn(io.ioc.get_executor(), group.do_("k", value_loader(8)));
  BOOST_REQUIRE(io.run_until([&] { return next->done.load(); }));
  BOOST_TEST(next->value.value_or(0) == 8);
  BOOST_TEST(group.stats().flights_started == 2u);
  BOOST_TEST(stuck.finished == 0);

  stuck.release_all();
  BOOST_REQUIRE(io.run_until([&] { return stuck.finished == 1; }));
  BOOST_TEST(stuck.saw_cancel);  // it was asked
  BOOST_TEST(group.in_flight() == 0u);
  BOOST_TEST(group.stats().loader_failures == 0u);
  BOOST_TEST(io.drain());
}

// forget() unlinks a stuck flight whose caller still waits: a new caller
// starts a fresh flight and gets its value; the old caller can still leave.
BOOST_AUTO_TEST_CASE(forget_lets_new_flights_start_past_a_stuck_loader) {
  io_fixture io;
  Group group(io.ioc.get_executor());
  stuck_loader stuck;
  asio::cancellation_signal sig;
  std::atomic<bool> first_done{false};
  boost::system::error_code first_code;
  asio::co_spawn(io.ioc, group.do_("k", stuck.loader()),
                 asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e, int) {
                   first_code = singleflight::error_code_of(e);
                   first_done = true;
                 }));
  BOOST_REQUIRE(io.run_until([&] { return stuck.calls == 1; }));
  BOOST_TEST(group.forget("k"));
  BOOST_TEST(!group.forget("k"));  // already unlinked
  BOOST_TEST(group.in_flight() == 0u);

  for (int round = 0; round < 3; ++round) {
    auto fresh = spawn(io.ioc.get_executor(), group.do_("k", value_loader(10 + round)));
    BOOST_REQUIRE(io.run_until([&] { return fresh->done.load(); }));
    BOOST_TEST(fresh->value.value_or(0) == 10 + round);
  }
  BOOST_TEST(!first_done);
  BOOST_TEST(group.stats().flights_started == 4u);

  sig.emit(asio::cancellation_type::terminal);  // the first caller leaves: the stuck flight is abandoned
  BOOST_REQUIRE(io.run_until([&] { return first_done.load(); }));
  BOOST_TEST(first_code == asio::error::operation_aborted);
  BOOST_TEST(group.stats().loaders_cancelled == 1u);
  BOOST_TEST(stuck.finished == 0);

  stuck.release_all();
  BOOST_REQUIRE(io.run_until([&] { return stuck.finished == 1; }));
  BOOST_TEST(group.stats().forgotten == 1u);
  BOOST_TEST(io.drain());
}

// With keep_abandoned_loaders the stuck flight stays linked when its
// callers time out, later callers join it (and time out too), and forget()
// is the way past it.
BOOST_AUTO_TEST_CASE(stuck_loader_kept_when_abandoned_until_forgotten) {
  io_fixture io;
  Options opts;
  opts.keep_abandoned_loaders = true;
  Group group(io.ioc.get_executor(), opts);
  stuck_loader stuck;
  auto a = spawn_with_timeout(io.ioc, group, "k", stuck.loader(), 10ms);
  BOOST_REQUIRE(io.run_until([&] { return a->done.load(); }));
  BOOST_TEST(a->timed_out);
  BOOST_TEST(group.in_flight() == 1u);  // kept
  auto b = spawn_with_timeout(io.ioc, group, "k", stuck.loader(), 10ms);
  BOOST_REQUIRE(io.run_until([&] { return b->done.load(); }));
  BOOST_TEST(b->timed_out);
  auto s = group.stats();
  BOOST_TEST(s.joins == 1u);
  BOOST_TEST(s.loaders_kept == 2u);
  BOOST_TEST(s.loaders_cancelled == 0u);
  BOOST_TEST(stuck.calls == 1);

  BOOST_TEST(group.forget("k"));
  auto c = spawn(io.ioc.get_executor(), group.do_("k", value_loader(5)));
  BOOST_REQUIRE(io.run_until([&] { return c->done.load(); }));
  BOOST_TEST(c->value.value_or(0) == 5);
  BOOST_TEST(stuck.finished == 0);

  stuck.release_all();
  BOOST_REQUIRE(io.run_until([&] { return stuck.finished == 1; }));
  BOOST_TEST(!stuck.saw_cancel);  // kept loaders are never cancelled
  BOOST_TEST(group.in_flight() == 0u);
  BOOST_TEST(io.drain());
}

// ------------------------------------------------------------ deep throw

namespace {

struct deep_error : std::runtime_error {
  explicit deep_error(int d) : std::runtime_error("thrown at depth " + std::to_string(d)), depth(d) {}
  int depth;
};

struct unwind_probe {
  int* destroyed;
  ~unwind_probe() { ++*destroyed; }
};

// Each level awaits something real (a post, a timer, a co_spawned
// coroutine on another strand) before descending; the bottom throws.
awaitable<int> descend(int level, int bottom, int* unwound) {
  unwind_probe probe{unwound};
  auto ex = co_await asio::this_coro::executor;
  switch (level % 3) {
    case 0:
      co_await asio::post(ex, use_awaitable);
      break;
    case 1: {
      asio::steady_timer t(ex, 1ms);
      co_await t.async_wait(use_awaitable);
      break;
    }
    case 2: {
      auto side = asio::make_strand(ex);
      auto sub = []() -> awaitable<int> { co_return 1; };
      auto spawned = asio::co_spawn(side, sub(), use_awaitable);
      (void)co_await std::move(spawned);
      break;
    }
  }
  if (level == bottom) throw deep_error(level);
  auto next = descend(level + 1, bottom, unwound);
  co_return co_await std::move(next) + 1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(loader_throwing_from_deep_inside_nested_awaits) {
  io_fixture io;
  Group group(io.ioc.get_executor());
  constexpr int kDepth = 24;
  int unwound = 0;
  int calls = 0;
  auto loader = [&]() -> awaitable<int> {
    ++calls;
    auto top = descend(0, kDepth, &unwound);
    co_return co_await std::move(top);
  };
  // Callers of every form.
  auto plain = spawn(io.ioc.get_executor(), group.do_("deep", loader));
  auto shared = spawn(io.ioc.get_executor(), group.do_shared("deep", loader));
  std::exception_ptr callback_error;
  bool callback_done = false;
  group.async_do("deep", loader, [&](std::exception_ptr e, int) {
    callback_error = e;
    callback_done = true;
  });
  std::future<int> fut = group.async_do("deep", loader, asio::use_future);
  auto timed = spawn_with_timeout(io.ioc, group, "deep", loader, 10s);

  BOOST_REQUIRE(io.run_until([&] { return plain->done && shared->done && callback_done && timed->done; }));
  BOOST_TEST(calls == 1);
  BOOST_TEST(unwound == kDepth + 1);  // every level's frame unwound
  const void* object = nullptr;
  auto check = [&](std::exception_ptr e) {
    BOOST_REQUIRE(e);
    try {
      std::rethrow_exception(e);
    } catch (const deep_error& err) {
      BOOST_TEST(err.depth == kDepth);
      if (object == nullptr) object = &err;
      BOOST_TEST(object == static_cast<const void*>(&err));  // one exception object for all
    } catch (...) {
      BOOST_FAIL("not the loader's exception type");
    }
  };
  check(plain->error);
  check(shared->error);
  check(callback_error);
  check(timed->error);
  try {
    fut.get();
    BOOST_FAIL("use_future: no exception");
  } catch (const deep_error& err) {
    BOOST_TEST(object == static_cast<const void*>(&err));
  }
  BOOST_TEST(!timed->timed_out);
  auto s = group.stats();
  BOOST_TEST(s.flights_started == 1u);
  BOOST_TEST(s.joins == 4u);
  BOOST_TEST(s.loader_failures == 1u);
  BOOST_TEST(group.in_flight() == 0u);

  // Nothing is kept: the next call starts afresh.
  auto again = spawn(io.ioc.get_executor(), group.do_("deep", value_loader(3)));
  BOOST_REQUIRE(io.run_until([&] { return again->done.load(); }));
  BOOST_TEST(again->value.value_or(0) == 3);
  BOOST_TEST(io.drain());
}

// ------------------------------------------------------------ another executor

namespace {

// Moves the loader's coroutine onto a pool thread and finishes there.
awaitable<int> finish_on(asio::thread_pool& pool, std::thread::id* where, bool fail) {
  auto pool_ex = pool.get_executor();
  co_await asio::post(asio::bind_executor(pool_ex, use_awaitable));
  *where = std::this_thread::get_id();
  if (fail) throw std::runtime_error("failed on the pool");
  co_return 42;
}

}  // namespace

BOOST_AUTO_TEST_CASE(loader_completing_on_another_executor) {
  io_fixture io;
  asio::thread_pool pool(1);
  Group group(io.ioc.get_executor());
  const std::thread::id io_thread = std::this_thread::get_id();
  for (const bool fail : {false, true}) {
    std::thread::id loader_thread;
    int calls = 0;
    auto loader = [&]() -> awaitable<int> {
      ++calls;
      return finish_on(pool, &loader_thread, fail);
    };
    // Callers resume on their own executors: the io_context's thread (two
    // coroutines, one on a strand) and a callback bound to a strand.
    std::vector<std::thread::id> resumed(3);
    std::vector<std::optional<int>> values(3);
    std::vector<std::exception_ptr> errors(3);
    std::atomic<int> done{0};
    auto strand = asio::make_strand(io.ioc);
    for (int i = 0; i < 2; ++i) {
      asio::co_spawn(
          i == 0 ? asio::any_io_executor(io.ioc.get_executor()) : asio::any_io_executor(strand),
          [&, i]() -> awaitable<void> {
            try {
              auto op = group.do_("pool", loader);
              values[static_cast<std::size_t>(i)] = co_await std::move(op);
            } catch (...) {
              errors[static_cast<std::size_t>(i)] = std::current_exception();
            }
            resumed[static_cast<std::size_t>(i)] = std::this_thread::get_id();
          },
          [&](std::exception_ptr) { ++done; });
    }
    group.async_do("pool", loader, asio::bind_executor(strand, [&](std::exception_ptr e, int v) {
                     if (e)
                       errors[2] = e;
                     else
                       values[2] = v;
                     resumed[2] = std::this_thread::get_id();
                     ++done;
                   }));
    BOOST_REQUIRE(io.run_until([&] { return done == 3; }));
    BOOST_TEST(calls == 1);
    BOOST_TEST((loader_thread != io_thread));  // it really finished elsewhere
    for (int i = 0; i < 3; ++i) {
      BOOST_TEST((resumed[static_cast<std::size_t>(i)] == io_thread));
      if (fail) {
        BOOST_TEST(static_cast<bool>(errors[static_cast<std::size_t>(i)]));
      } else {
        BOOST_TEST(values[static_cast<std::size_t>(i)].value_or(0) == 42);
      }
    }
    BOOST_TEST(group.in_flight() == 0u);
  }
  BOOST_TEST(group.stats().loader_failures == 1u);
  BOOST_TEST(io.drain());
  pool.join();
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------ regressions

namespace {
void spin_for(int n) {
  std::atomic<int> sink{0};
  for (int k = 0; k < n; ++k) sink.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

//
// Library bugs found by this work. Each stays disabled while it fails in
// some preset, with the preset named; run one with
//   test_misbehaving_loaders --run_test=regressions/<name>
BOOST_AUTO_TEST_SUITE(regressions)

// BUG (found by the stress test's SF_STRESS_OFF_STRAND mode, made
// deterministic here), introduced by 6b83b55's fix of the one below: a
// loader whose every caller has left gets its terminal cancellation while it
// runs on another executor, and finishes there anyway. run_flight() then
// re-enters the strand with `co_await asio::dispatch(strand, use_awaitable)`
// (group_core.hpp), but its coroutine is cancelled and throws on that
// co_await (Asio's throw_if_cancelled, on by default): deliver() and finish()
// never run, and the co_spawn completion frees the flight while the group's
// live list still holds it. The next live_erase() of a neighbouring flight,
// or close(), writes into freed memory: ASan (asan preset) "heap-use-after-
// free ... core_base::live_erase ... finish ... run_flight"; TSan the same.
// Fix idea: `co_await asio::this_coro::throw_if_cancelled(false);` before the
// dispatch (or catch around it), so that the flight always ends.
// Passed at 8c42ed8 (before the change); failed under asan and tsan from
// 6b83b55; fixed in e0cc986.
BOOST_AUTO_TEST_CASE(cancelled_loader_finishing_on_another_executor) {
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

// BUG (found by design review of the stress test, confirmed with TSan): when a
// loader's coroutine completes on another executor, run_flight() calls
// deliver()/finish() on that executor's thread, and finish() writes
// flight_base::done there; the terminal cancellation that cancel_loader()
// posts to the group's strand reads `done` without the group's lock
// (core_base.cpp, cancel_loader's lambda) and emits on loader_signal while
// the loader's coroutine may be running on the other thread. TSan (tsan
// preset): "data race ... core_base::finish ... / previous read ...
// cancel_loader(...)::$_0::operator()". Fix idea: run_flight re-enters the
// strand (co_await asio::dispatch(use_awaitable) on its own executor) after
// the loader returns, before deliver(); or read `done` under the mutex.
// Failed under: tsan (g++ or clang), not always at the first try: the window
// is narrow (test_stress, whose loaders now finish elsewhere too, finds it
// more reliably). Fixed in 6b83b55 + e0cc986: the flight's end goes back to
// the strand, and that way back does not throw when the loader was
// cancelled (cancelled_loader_finishing_on_another_executor, above).
BOOST_AUTO_TEST_CASE(loader_completing_off_strand_races_with_its_cancellation) {
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

// BUG (found by the stress test's destroy rounds, deterministic here): a
// caller whose completion was posted by ~AsyncGroup (close()) but has not run
// yet still has its cancellation slot connected; cancelling it runs the
// waiter's canceller, which calls `self->core->detach(*self)` on a core that
// was freed once the last loader ended (waiter_op.hpp, canceller::operator()).
// detach() only reads the waiter's state before returning, but the call
// itself is on a dangling pointer: g++'s UBSan vptr check reads the freed
// object and ASan reports heap-use-after-free (asan preset). The same path
// has a true race in multi-threaded use: detach() may pass its unlocked
// `state == parked` check, then lock the mutex of a core that close() and the
// last loader free meanwhile. Fix idea: check the waiter's state in the
// canceller before touching the core, and keep the core alive while any
// waiter can still reach it (a shared_ptr/weak_ptr in the waiter, or close()
// clearing the slots of the waiters it completes).
// Failed under: asan. Fixed in 6b83b55 (the canceller checks the waiter's
// state before touching the core); kept as a regression test. The narrower
// race remains in multi-threaded use: a canceller that passes that check
// just before close() marks the waiter may still call into a core that the
// last loader frees meanwhile (not reproduced; it needs a stall between the
// check and detach()'s lock).
BOOST_AUTO_TEST_CASE(cancelling_a_caller_after_its_group_is_gone) {
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

// BUG, no test here (found by test_stress with SF_STRESS_UNPINNED=1 under the
// asan preset, about once a minute): the racy variant of the one above. A
// caller parked on a group that is being destroyed is cancelled; its
// canceller's detach() succeeds (the waiter was still parked) and returns;
// before the canceller's next statement, resume_op(self, true), reads
// `self->core->executor()` (waiter_op.hpp), close() completes on another
// thread and the last loader's run_flight ends, freeing the core. ASan:
// "heap-use-after-free ... waiter_op<...>::resume_op ... canceller::
// operator()", freed by "~shared_ptr<group_core> ... run_flight". No user
// code runs in that window, so it cannot be made deterministic from outside.
// Fix idea: nothing after detach() may use the core: have detach() hand back
// what resume_op needs (the executor) under the lock, or keep the core alive
// from the waiter while its slot is connected (a shared_ptr taken in join()).
BOOST_AUTO_TEST_SUITE_END()
