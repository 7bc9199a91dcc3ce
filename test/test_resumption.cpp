// SPDX-License-Identifier: BSL-1.0
// Where a finished flight's callers resume: a long waiter list is shared out
// among the executor's threads; a short one is resumed from the thread that
// finished the flight, inline.
#define BOOST_TEST_MODULE resumption
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"
#include "support/threaded_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;
using singleflight::Options;

namespace {

// Callers of one key, released together; each records the thread it
// resumed on.
struct herd {
  threaded_io io{2};
  AsyncGroup<int, int> group;
  std::atomic<bool> release{false};
  std::atomic<int> parked{0}, done{0};
  std::mutex mutex;
  std::vector<std::thread::id> resumed_on;
  std::atomic<std::thread::id> loader_thread{};

  explicit herd(Options opts) : group(io.ioc.get_executor(), opts) {}

  asio::awaitable<int> loader() {
    // Suspends until every caller has joined, then ends on this thread.
    while (!release) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    loader_thread = std::this_thread::get_id();
    co_return 1;
  }

  template <class OnResume>
  void start(int callers, OnResume on_resume) {
    for (int i = 0; i < callers; ++i) {
      asio::co_spawn(
          io.ioc,
          [this, on_resume]() -> asio::awaitable<void> {
            ++parked;
            const int v = co_await group.do_(0, [this] { return loader(); });
            {
              std::lock_guard lock(mutex);
              resumed_on.push_back(std::this_thread::get_id());
            }
            on_resume();
            if (v == 1) ++done;
          },
          asio::detached);
    }
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_long_waiter_list_resumes_on_more_than_one_thread) {
  Options opts;
  opts.spread_resumption_above = 256;
  herd h(opts);
  constexpr int callers = 10000;
  // The first caller resumed holds its thread until a caller has resumed on
  // another one: that happens only if the list is shared out.
  std::atomic<bool> first_taken{false};
  std::atomic<bool> other_thread_seen{false};
  std::atomic<std::thread::id> first_thread{};
  h.start(callers, [&] {
    if (!first_taken.exchange(true)) {
      first_thread = std::this_thread::get_id();
      const auto until = std::chrono::steady_clock::now() + 20s;
      while (!other_thread_seen && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    } else if (first_thread.load() != std::thread::id() && std::this_thread::get_id() != first_thread.load()) {
      other_thread_seen = true;
    }
  });
  BOOST_REQUIRE(wait_until([&] { return h.parked == callers && h.group.stats().joins == callers - 1u; }));
  h.release = true;
  BOOST_REQUIRE(wait_until([&] { return h.done == callers; }));
  BOOST_TEST(other_thread_seen);
  std::set<std::thread::id> threads(h.resumed_on.begin(), h.resumed_on.end());
  BOOST_TEST(threads.size() == 2u);
  BOOST_TEST(h.group.stats().flights_started == 1u);
}

BOOST_AUTO_TEST_CASE(a_short_waiter_list_resumes_inline_on_the_finishing_thread) {
  herd h(Options{});
  constexpr int callers = 50;
  h.start(callers, [] {});
  BOOST_REQUIRE(wait_until([&] { return h.parked == callers && h.group.stats().joins == callers - 1u; }));
  h.release = true;
  BOOST_REQUIRE(wait_until([&] { return h.done == callers; }));
  std::set<std::thread::id> threads(h.resumed_on.begin(), h.resumed_on.end());
  BOOST_TEST(threads.size() == 1u);
  BOOST_TEST((*threads.begin() == h.loader_thread.load()));
}
