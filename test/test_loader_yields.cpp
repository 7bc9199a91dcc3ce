// SPDX-License-Identifier: BSL-1.0
// Where a loader's yield runs: a loader started at once inside its first
// caller's handler, that then posts to its own strand, continues on that
// thread when the handler returns (Options::loader_yields_continue_here),
// so that the callers the same handler starts join its flight; with the
// option off, another thread may run it while the handler still runs.
#define BOOST_TEST_MODULE loader_yields
#include <singleflight/async_group.hpp>

#include "support/threaded_io.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sftest::threaded_io;
using sftest::wait_until;
using singleflight::AsyncGroup;
using singleflight::Options;

namespace {

struct yielding_start {
  threaded_io io{2};
  AsyncGroup<int, int> group;
  std::atomic<bool> handler_returned{false}, yielded{false};
  std::atomic<bool> yield_ran_during_handler{false};
  std::atomic<std::thread::id> started_on{}, continued_on{};
  std::atomic<int> done{0}, loads{0};

  explicit yielding_start(bool continue_here) : group(io.ioc.get_executor(), options(continue_here)) {}

  static Options options(bool continue_here) {
    Options o;
    o.loader_yields_continue_here = continue_here;
    return o;
  }

  // The first load records where and when its yield ran.
  asio::awaitable<int> loader() {
    const bool first = loads++ == 0;
    if (first) started_on = std::this_thread::get_id();
    auto ex = co_await asio::this_coro::executor;
    co_await asio::post(ex, asio::use_awaitable);
    if (first) {
      continued_on = std::this_thread::get_id();
      yield_ran_during_handler = !handler_returned.load();
      yielded = true;
    }
    co_return 1;
  }

  // One handler: starts the flight (its loader runs at once, up to its
  // yield), waits up to `window` for the yield to run elsewhere, then
  // starts `more` callers of the same key.
  void run(std::chrono::milliseconds window, int more) {
    asio::post(io.ioc, [this, window, more] {
      auto call = [this] {
        group.async_do(7, [this] { return loader(); }, [this](std::exception_ptr e, int v) {
          if (!e && v == 1) ++done;
        });
      };
      call();
      wait_until([this] { return yielded.load(); }, std::chrono::duration_cast<std::chrono::seconds>(window));
      for (int i = 0; i < more; ++i) call();
      handler_returned = true;
    });
    BOOST_REQUIRE(wait_until([&] { return done.load() == more + 1; }));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_loaders_yield_continues_on_its_thread_after_the_starting_handler) {
  yielding_start t(true);
  t.run(1s, 50);
  BOOST_TEST(!t.yield_ran_during_handler.load());
  BOOST_TEST((t.continued_on.load() == t.started_on.load()));
  // Every caller the handler started joined the one flight.
  BOOST_TEST(t.group.stats().flights_started == 1u);
  BOOST_TEST(t.group.stats().joins == 50u);
}

BOOST_AUTO_TEST_CASE(with_the_option_off_an_idle_thread_runs_the_yield_at_once) {
  yielding_start t(false);
  t.run(30s, 50);
  // The other thread was idle: it ran the yield while the handler waited,
  // so the callers started after it found the flight finished and started
  // more (as many as the other thread finished meanwhile).
  BOOST_TEST(t.yield_ran_during_handler.load());
  BOOST_TEST((t.continued_on.load() != t.started_on.load()));
  BOOST_TEST(t.group.stats().flights_started >= 2u);
}
