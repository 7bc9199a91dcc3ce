// Test helpers for multi-threaded tests: an io_context run by n threads
// until destroyed, and a bounded wait for a condition that those threads
// make true.
#ifndef SINGLEFLIGHT_TEST_THREADED_IO_HPP
#define SINGLEFLIGHT_TEST_THREADED_IO_HPP

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <thread>
#include <vector>

namespace sftest {

/// Runs an io_context on `n` threads until destroyed.
struct threaded_io {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> threads;
  explicit threaded_io(int n) {
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { ioc.run(); });
  }
  ~threaded_io() {
    work.reset();
    for (auto& t : threads) t.join();
  }
};

/// Polls `pred` every millisecond until it holds or `limit` passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return pred();
}

}  // namespace sftest

#endif
