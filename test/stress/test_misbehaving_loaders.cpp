// SPDX-License-Identifier: BSL-1.0
// Loaders that misbehave: one that never completes and ignores
// cancellation, one that throws from deep inside nested awaits, one that
// completes on another executor. The group must still complete its callers,
// free its keys and deliver the loader's outcome.
#define BOOST_TEST_MODULE misbehaving_loaders
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

BOOST_AUTO_TEST_SUITE(misbehaving)

// The loader ignores the cancellation it gets once every caller has left:
// the callers still time out, the key is unlinked at once, and the next
// caller starts a new flight that completes while the stuck one goes on.
BOOST_AUTO_TEST_CASE(stuck_loader_holds_neither_its_callers_nor_its_key) {
  io_fixture io;
  Group group(io.ioc.get_executor());
  stuck_loader stuck;
  std::vector<std::shared_ptr<timed_result<int>>> callers;
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
BOOST_AUTO_TEST_CASE(with_keep_abandoned_loaders_a_stuck_flight_stays_joinable_until_forgotten) {
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

BOOST_AUTO_TEST_CASE(an_exception_from_deep_inside_nested_awaits_reaches_every_caller_as_one_object) {
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

BOOST_AUTO_TEST_CASE(a_loader_completing_on_another_executor_resumes_each_caller_on_its_own) {
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
