// SPDX-License-Identifier: BSL-1.0
// Threading: members are safe from any thread at once; each caller resumes
// on its own associated executor, never inside the initiating call; loaders
// of one group never run concurrently.
#define BOOST_TEST_MODULE threads
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"
#include "support/threaded_io.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <array>
#include <string>
#include <thread>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;
using singleflight::Options;

BOOST_AUTO_TEST_CASE(callers_on_many_strands_get_their_value_on_their_strand_with_one_loader_per_key) {
  threaded_io io(4);
  Options opts;
  opts.loader_strands = 1;  // every loader of the group on one strand
  AsyncGroup<int, int> group(io.ioc.get_executor(), opts);
  constexpr int keys = 16, callers = 4000;
  std::array<std::atomic<int>, keys> active{};
  std::atomic<int> active_total{0}, max_total{0}, max_per_key{0}, loads{0};
  std::atomic<int> done{0}, wrong_value{0}, wrong_strand{0};
  for (int i = 0; i < callers; ++i) {
    auto strand = asio::make_strand(io.ioc);
    const int key = i % keys;
    asio::co_spawn(
        strand,
        [&, strand, key]() -> asio::awaitable<void> {
          auto loader = [&, key]() -> asio::awaitable<int> {
            ++loads;
            // Lifetimes of one key's loaders never overlap.
            const int now_key = ++active[key];
            for (int seen = max_per_key; now_key > seen && !max_per_key.compare_exchange_weak(seen, now_key);) {}
            // With one loader strand, loaders of the group never execute at
            // the same time, though their lifetimes interleave at suspensions.
            const int now_total = ++active_total;
            for (int seen = max_total; now_total > seen && !max_total.compare_exchange_weak(seen, now_total);) {}
            std::this_thread::yield();
            --active_total;
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
            --active[key];
            co_return key * 10;
          };
          const int v = co_await group.do_(key, loader);
          if (v != key * 10) ++wrong_value;
          if (!strand.running_in_this_thread()) ++wrong_strand;
          ++done;
        },
        asio::detached);
  }
  BOOST_REQUIRE(wait_until([&] { return done == callers; }));
  BOOST_TEST(wrong_value == 0);
  BOOST_TEST(wrong_strand == 0);
  BOOST_TEST(max_per_key == 1);
  BOOST_TEST(max_total == 1);  // Options::loader_strands = 1
  const auto s = group.stats();
  BOOST_TEST(s.calls == static_cast<std::uint64_t>(callers));
  BOOST_TEST(s.flights_started + s.joins == s.calls);
  BOOST_TEST(s.flights_started == static_cast<std::uint64_t>(loads.load()));
  BOOST_TEST(group.in_flight() == 0u);
  BOOST_TEST_MESSAGE("flights " << s.flights_started << " for " << callers << " callers");
}

// Loaders of different keys run at the same time on a multi-threaded
// executor: each loader below holds its thread until another loader runs
// beside it (or 10 s pass). Eight keys over the default 16 strands: at least
// two land on different strands (all eight on one: 16^-7).
BOOST_AUTO_TEST_CASE(loaders_of_different_keys_run_at_once) {
  threaded_io io(2);
  AsyncGroup<int, int> group(io.ioc.get_executor());
  constexpr int keys = 8;
  std::atomic<int> running{0}, max_running{0}, done{0};
  for (int key = 0; key < keys; ++key) {
    asio::co_spawn(
        io.ioc,
        [&, key]() -> asio::awaitable<void> {
          auto loader = [&, key]() -> asio::awaitable<int> {
            const int now = ++running;
            for (int seen = max_running; now > seen && !max_running.compare_exchange_weak(seen, now);) {}
            const auto until = std::chrono::steady_clock::now() + 10s;
            while (max_running < 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
            --running;
            co_return key;
          };
          const int v = co_await group.do_(key, loader);
          if (v == key) ++done;
        },
        asio::detached);
  }
  BOOST_REQUIRE(wait_until([&] { return done == keys; }, 120s));
  BOOST_TEST(max_running >= 2);
}

BOOST_AUTO_TEST_CASE(caller_resumes_on_its_own_executor_not_the_loaders) {
  threaded_io loaders(1), callers(1);
  std::atomic<std::thread::id> loader_thread, caller_thread;
  asio::post(loaders.ioc, [&] { loader_thread = std::this_thread::get_id(); });
  asio::post(callers.ioc, [&] { caller_thread = std::this_thread::get_id(); });
  BOOST_REQUIRE(wait_until([&] { return loader_thread != std::thread::id() && caller_thread != std::thread::id(); }));
  AsyncGroup<std::string, int> group(loaders.ioc.get_executor());
  std::atomic<bool> loader_on_loader_thread{false}, resumed_on_caller_thread{false}, done{false};
  auto loader = [&]() -> asio::awaitable<int> {
    loader_on_loader_thread = std::this_thread::get_id() == loader_thread;
    co_return 1;
  };
  asio::co_spawn(
      callers.ioc,
      [&]() -> asio::awaitable<void> {
        co_await group.do_("k", loader);
        resumed_on_caller_thread = std::this_thread::get_id() == caller_thread;
        done = true;
      },
      asio::detached);
  BOOST_REQUIRE(wait_until([&] { return done.load(); }));
  BOOST_TEST(loader_on_loader_thread);
  BOOST_TEST(resumed_on_caller_thread);
}

BOOST_AUTO_TEST_CASE(never_completes_inside_the_initiating_call) {
  io_fixture io;
  Options opts;
  opts.max_in_flight = 1;
  AsyncGroup<int, int> group(io.ioc.get_executor(), opts);
  released_loader<int> loader(io.ioc.get_executor());
  bool joined = false, rejected = false;
  group.async_do(1, loader_of(loader), [&](std::exception_ptr, int) { joined = true; });
  // The failure is known at once, yet delivered through the executor.
  group.async_do(2, loader_of(loader), [&](std::exception_ptr e, int) { rejected = e != nullptr; });
  BOOST_TEST(!rejected);
  BOOST_REQUIRE(io.run_until([&] { return rejected; }));
  loader.release(1);
  BOOST_REQUIRE(io.run_until([&] { return joined; }));
}

BOOST_AUTO_TEST_CASE(member_functions_called_from_many_threads_at_once_leave_nothing_in_flight) {
  threaded_io io(2);
  AsyncGroup<std::string, int> group(io.ioc.get_executor());
  std::atomic<int> completed{0};
  constexpr int threads = 4, per_thread = 500;
  std::vector<std::thread> users;
  for (int t = 0; t < threads; ++t) {
    users.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string key = "key-" + std::to_string((t * 7 + i) % 10);
        auto loader = []() -> asio::awaitable<int> {
          co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
          co_return 5;
        };
        group.async_do(key, loader, [&](std::exception_ptr e, int v) {
          if (!e && v == 5) ++completed;
        });
        if (i % 3 == 0) group.forget(key);
        (void)group.in_flight();
        (void)group.stats();
      }
    });
  }
  for (auto& u : users) u.join();
  BOOST_REQUIRE(wait_until([&] { return completed == threads * per_thread; }));
  BOOST_TEST(group.in_flight() == 0u);
}
