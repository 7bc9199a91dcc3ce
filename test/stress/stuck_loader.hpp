// SPDX-License-Identifier: BSL-1.0
// Loaders that misbehave on purpose, for test_misbehaving_loaders and
// test_regressions: one that never completes and ignores cancellation, and
// one that returns a value at once.
#ifndef SINGLEFLIGHT_TEST_STRESS_STUCK_LOADER_HPP
#define SINGLEFLIGHT_TEST_STRESS_STUCK_LOADER_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <vector>

namespace sftest {

// A loader that never completes on its own and ignores cancellation: it
// disables throw-on-cancel and waits, with no cancellation slot, on a timer
// that only the test can cancel.
struct stuck_loader {
  int calls = 0;
  int finished = 0;
  bool saw_cancel = false;
  std::vector<boost::asio::steady_timer*> gates;

  auto loader() {
    return [this]() -> boost::asio::awaitable<int> {
      ++calls;
      co_await boost::asio::this_coro::throw_if_cancelled(false);
      auto ex = co_await boost::asio::this_coro::executor;
      boost::asio::steady_timer gate(ex, std::chrono::hours(24));
      gates.push_back(&gate);
      try {
        co_await gate.async_wait(boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(), boost::asio::use_awaitable));
      } catch (const boost::system::system_error&) {
        // released by the test
      }
      std::erase(gates, &gate);
      auto cs = co_await boost::asio::this_coro::cancellation_state;
      saw_cancel = saw_cancel || cs.cancelled() != boost::asio::cancellation_type::none;
      ++finished;
      co_return -1;
    };
  }
  // Single-threaded tests: called between polls, on the context's thread.
  void release_all() {
    for (auto* g : std::vector<boost::asio::steady_timer*>(gates)) g->cancel();
  }
};

auto value_loader(int v) {
  return [v]() -> boost::asio::awaitable<int> { co_return v; };
}

}  // namespace sftest

#endif
