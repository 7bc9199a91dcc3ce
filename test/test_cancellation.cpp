// SPDX-License-Identifier: BSL-1.0
// Per-caller cancellation (timeouts, signals of each type, parent
// cancellation) and what happens to the loader when its callers leave.
#define BOOST_TEST_MODULE cancellation
#include <singleflight/async_group.hpp>

#include "support/fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <string>
#include <variant>

using namespace sftest;
using namespace asio::experimental::awaitable_operators;
using singleflight::AsyncGroup;
using singleflight::Options;

namespace {
using group_type = AsyncGroup<std::string, int>;

// A caller through async_do whose handler is bound to `signal`.
struct signalled_caller {
  asio::cancellation_signal signal;
  std::exception_ptr error;
  int value = -1;
  int completions = 0;

  void start(group_type& group, released_loader<int>& loader, const std::string& key) {
    group.async_do(key, loader_of(loader),
                   asio::bind_cancellation_slot(signal.slot(), [this](std::exception_ptr e, int v) {
                     ++completions;
                     error = e;
                     value = v;
                   }));
  }

  bool aborted() const {
    result<int> r;
    r.error = error;
    return r.code() == asio::error::operation_aborted;
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(cancellation, io_fixture)

BOOST_AUTO_TEST_CASE(timeout_with_or_leaves_only_that_caller) {
  group_type group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  auto a = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
  auto b = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
  auto impatient = [&]() -> asio::awaitable<std::variant<int, std::monostate>> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
    auto load = loader_of(loader);
    auto outcome = co_await (group.do_("k", load) || timer.async_wait(asio::use_awaitable));
    co_return outcome;
  };
  auto c = spawn(ioc.get_executor(), impatient());
  BOOST_REQUIRE(run_until([&] { return c->done.load(); }));
  BOOST_TEST(!c->error);
  BOOST_TEST(c->value->index() == 1u);  // the timer won
  BOOST_TEST(!a->done);
  BOOST_TEST(group.in_flight() == 1u);
  BOOST_TEST(group.stats().callers_cancelled == 1u);
  loader.release(42);
  BOOST_REQUIRE(run_until([&] { return a->done && b->done; }));
  BOOST_TEST((*a->value == 42 && *b->value == 42));
  BOOST_TEST(loader.calls() == 1);
  BOOST_TEST(loader.cancelled() == 0);
  BOOST_TEST(drain());
}

BOOST_AUTO_TEST_CASE(each_cancellation_type_detaches_one_caller) {
  for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                    asio::cancellation_type::total}) {
    BOOST_TEST_CONTEXT("cancellation type " << static_cast<int>(type)) {
      group_type group(ioc.get_executor());
      released_loader<int> loader(ioc.get_executor());
      auto stays = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
      BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
      signalled_caller leaves;
      leaves.start(group, loader, "k");
      leaves.signal.emit(type);
      BOOST_TEST(leaves.completions == 0);  // never completed inline in emit()
      BOOST_REQUIRE(run_until([&] { return leaves.completions == 1; }));
      BOOST_TEST(leaves.aborted());
      loader.release(1);
      BOOST_REQUIRE(run_until([&] { return stays->done.load(); }));
      BOOST_TEST(*stays->value == 1);
      BOOST_TEST(loader.cancelled() == 0);
      BOOST_TEST(leaves.completions == 1);
      BOOST_TEST(drain());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_coroutine_caller_lets_only_terminal_cancellation_through_unless_it_opts_in) {
  group_type group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  auto stays = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
  asio::cancellation_signal terminal_signal, total_signal;
  std::exception_ptr terminal_error, total_error;
  bool terminal_done = false, total_done = false;
  asio::co_spawn(ioc, group.do_("k", loader_of(loader)),
                 asio::bind_cancellation_slot(terminal_signal.slot(), [&](std::exception_ptr e, int) {
                   terminal_error = e;
                   terminal_done = true;
                 }));
  // Coroutines let only terminal cancellation through unless they opt in.
  auto opts_in = [&]() -> asio::awaitable<int> {
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    auto load = loader_of(loader);
    int v = co_await group.do_("k", load);
    co_return v;
  };
  asio::co_spawn(ioc, opts_in(), asio::bind_cancellation_slot(total_signal.slot(), [&](std::exception_ptr e, int) {
                   total_error = e;
                   total_done = true;
                 }));
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == 2; }));
  terminal_signal.emit(asio::cancellation_type::terminal);
  total_signal.emit(asio::cancellation_type::total);
  BOOST_REQUIRE(run_until([&] { return terminal_done && total_done; }));
  for (auto e : {terminal_error, total_error}) {
    result<int> r;
    r.error = e;
    BOOST_TEST(r.code() == asio::error::operation_aborted);
  }
  loader.release(3);
  BOOST_REQUIRE(run_until([&] { return stays->done.load(); }));
  BOOST_TEST(*stays->value == 3);
  BOOST_TEST(group.stats().callers_cancelled == 2u);
}

BOOST_AUTO_TEST_CASE(parent_cancellation_reaches_the_caller) {
  group_type group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  auto stays = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
  auto child = [&]() -> asio::awaitable<int> {
    auto load = loader_of(loader);
    int v = co_await group.do_("k", load);
    co_return v;
  };
  auto parent = [&]() -> asio::awaitable<int> {
    int v = co_await child();
    co_return v + 1;
  };
  asio::cancellation_signal signal;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ioc, parent(), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, int) {
                   error = e;
                   done = true;
                 }));
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until([&] { return done; }));
  result<int> r;
  r.error = error;
  BOOST_TEST(r.code() == asio::error::operation_aborted);
  BOOST_TEST(!stays->done);
  loader.release(8);
  BOOST_REQUIRE(run_until([&] { return stays->done.load(); }));
  BOOST_TEST(*stays->value == 8);
}

BOOST_AUTO_TEST_CASE(last_caller_leaving_cancels_loader_and_unlinks_key) {
  group_type group(ioc.get_executor());
  released_loader<int> first_loader(ioc.get_executor());
  signalled_caller a, b;
  a.start(group, first_loader, "k");
  b.start(group, first_loader, "k");
  BOOST_REQUIRE(run_until([&] { return first_loader.calls() == 1; }));
  a.signal.emit(asio::cancellation_type::terminal);
  BOOST_TEST(group.in_flight() == 1u);
  b.signal.emit(asio::cancellation_type::terminal);
  // Unlinked at once, before the loader has even seen its cancellation.
  BOOST_TEST(group.in_flight() == 0u);
  BOOST_TEST(first_loader.cancelled() == 0);

  released_loader<int> second_loader(ioc.get_executor());
  auto fresh = spawn(ioc.get_executor(), group.do_("k", loader_of(second_loader)));
  BOOST_REQUIRE(run_until([&] { return first_loader.cancelled() == 1 && second_loader.calls() == 1; }));
  BOOST_TEST(a.aborted());
  BOOST_TEST(b.aborted());
  BOOST_TEST(first_loader.calls() == 1);
  second_loader.release(2);
  BOOST_REQUIRE(run_until([&] { return fresh->done.load(); }));
  BOOST_TEST(*fresh->value == 2);
  const auto s = group.stats();
  BOOST_TEST(s.loaders_cancelled == 1u);
  BOOST_TEST(s.loader_failures == 0u);  // its operation_aborted reached no one
  BOOST_TEST(s.flights_started == 2u);
  BOOST_TEST(s.callers_cancelled == 2u);
  BOOST_TEST(drain());
}

BOOST_AUTO_TEST_CASE(with_keep_abandoned_loaders_the_last_caller_leaving_keeps_the_flight_joinable) {
  Options opts;
  opts.keep_abandoned_loaders = true;
  group_type group(ioc.get_executor(), opts);
  released_loader<int> loader(ioc.get_executor());
  signalled_caller a;
  a.start(group, loader, "k");
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  a.signal.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until([&] { return a.completions == 1; }));
  BOOST_TEST(a.aborted());
  BOOST_TEST(group.in_flight() == 1u);  // still linked: later callers join it
  auto later = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
  ioc.restart();
  ioc.poll();
  loader.release(11);
  BOOST_REQUIRE(run_until([&] { return later->done.load(); }));
  BOOST_TEST(*later->value == 11);
  BOOST_TEST(loader.calls() == 1);
  BOOST_TEST(loader.cancelled() == 0);
  BOOST_TEST(group.stats().loaders_kept == 1u);
  BOOST_TEST(group.stats().loaders_cancelled == 0u);
}

BOOST_AUTO_TEST_CASE(cancelling_the_first_caller_keeps_the_loader) {
  group_type group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  signalled_caller first;
  first.start(group, loader, "k");
  auto second = spawn(ioc.get_executor(), group.do_("k", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == 1 && loader.calls() == 1; }));
  first.signal.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until([&] { return first.completions == 1; }));
  loader.release(4);
  BOOST_REQUIRE(run_until([&] { return second->done.load(); }));
  BOOST_TEST(*second->value == 4);
  BOOST_TEST(loader.calls() == 1);
  BOOST_TEST(loader.cancelled() == 0);
}

BOOST_AUTO_TEST_CASE(cancellation_after_the_result_is_on_its_way_is_ignored) {
  group_type group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  // The caller's handler runs on a second, not yet running, io_context: the
  // result is posted there and waits while the signal fires.
  asio::io_context elsewhere;
  asio::cancellation_signal signal;
  int completions = 0, value = -1;
  std::exception_ptr error;
  group.async_do("k", loader_of(loader),
                 asio::bind_cancellation_slot(
                     signal.slot(), asio::bind_executor(elsewhere, [&](std::exception_ptr e, int v) {
                       ++completions;
                       error = e;
                       value = v;
                     })));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  loader.release(6);
  BOOST_REQUIRE(run_until([&] { return group.in_flight() == 0; }));
  signal.emit(asio::cancellation_type::terminal);
  BOOST_TEST(completions == 0);
  elsewhere.run();
  BOOST_TEST(completions == 1);
  BOOST_TEST(!error);
  BOOST_TEST(value == 6);
  BOOST_TEST(group.stats().callers_cancelled == 0u);
  signal.emit(asio::cancellation_type::terminal);  // after completion: nothing
  elsewhere.restart();
  elsewhere.run();
  BOOST_TEST(completions == 1);
}

BOOST_AUTO_TEST_SUITE_END()
