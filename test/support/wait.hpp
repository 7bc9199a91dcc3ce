// SPDX-License-Identifier: BSL-1.0
// A bounded wait, from a test's own thread, for a condition that other
// threads (an io_context's, a pool's) make true: polls, never hangs.
#ifndef SINGLEFLIGHT_TEST_WAIT_HPP
#define SINGLEFLIGHT_TEST_WAIT_HPP

#include <chrono>
#include <thread>

namespace sftest {

/// Polls `pred` every `step` until it holds or `limit` passes; returns pred().
template <class Pred>
bool wait_until(Pred pred, std::chrono::steady_clock::duration limit = std::chrono::seconds(30),
                std::chrono::steady_clock::duration step = std::chrono::microseconds(200)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(step);
  return pred();
}

}  // namespace sftest

#endif
