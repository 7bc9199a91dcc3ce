// SPDX-License-Identifier: BSL-1.0
// A caller that gives up after a timeout: its attempt raced against a timer
// with `||`, which cancels the loser (terminal) and waits for it to end.
#ifndef SINGLEFLIGHT_TEST_TIMED_CALLER_HPP
#define SINGLEFLIGHT_TEST_TIMED_CALLER_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace sftest {

/// Awaits `attempt` and a timer of `timeout` with `||`; true when the timer
/// won (the attempt then got a terminal cancellation and has ended). The
/// attempt must not throw, or `||` would wait for the timer.
inline boost::asio::awaitable<bool> timer_wins(boost::asio::awaitable<void> attempt,
                                               std::chrono::steady_clock::duration timeout) {
  using namespace boost::asio::experimental::awaitable_operators;
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(ex, timeout);
  auto wait = timer.async_wait(boost::asio::use_awaitable);
  auto race = std::move(attempt) || std::move(wait);
  auto which = co_await std::move(race);
  co_return which.index() == 1;
}

/// The outcome of a timed caller's do_, and whether the timer won.
template <class Value>
struct timed_result {
  std::atomic<bool> done{false};
  bool timed_out = false;
  std::optional<Value> value;
  boost::system::error_code code;  // of a system_error
  std::exception_ptr error;        // any exception
};

/// Spawns on `ioc` a caller of `group.do_(key, loader)` that gives up after
/// `timeout`.
template <class Group, class Loader>
auto spawn_with_timeout(boost::asio::io_context& ioc, Group& group, std::string key, Loader loader,
                        std::chrono::milliseconds timeout) {
  using value_type = typename Group::value_type;
  auto r = std::make_shared<timed_result<value_type>>();
  boost::asio::co_spawn(
      ioc,
      [&group, r, key = std::move(key), loader, timeout]() -> boost::asio::awaitable<void> {
        auto attempt = [&group, r, &key, loader]() -> boost::asio::awaitable<void> {
          try {
            auto op = group.do_(key, loader);
            r->value = co_await std::move(op);
          } catch (const boost::system::system_error& e) {
            r->code = e.code();
            r->error = std::current_exception();
          } catch (...) {
            r->error = std::current_exception();
          }
        };
        auto race = timer_wins(attempt(), timeout);
        r->timed_out = co_await std::move(race);
      },
      [r](std::exception_ptr) { r->done = true; });
  return r;
}

}  // namespace sftest

#endif
