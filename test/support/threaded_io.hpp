// SPDX-License-Identifier: BSL-1.0
// An io_context run by n threads until destroyed, for multi-threaded tests;
// wait_until (wait.hpp) waits for what those threads make true.
#ifndef SINGLEFLIGHT_TEST_THREADED_IO_HPP
#define SINGLEFLIGHT_TEST_THREADED_IO_HPP

#include "wait.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>
#include <vector>

namespace sftest {

/// Runs an io_context on `n` threads until destroyed; the destructor lets
/// the threads run out of work and joins them.
struct threaded_io {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> threads;

  explicit threaded_io(int n);
  ~threaded_io();
};

}  // namespace sftest

#endif
