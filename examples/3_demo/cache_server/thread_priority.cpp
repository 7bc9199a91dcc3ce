// SPDX-License-Identifier: BSL-1.0
#include "thread_priority.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <latch>
#include <system_error>
#include <vector>

namespace cache_server {

void set_pool_nice(boost::asio::thread_pool& pool, std::size_t threads, int nice) {
  // Each task waits until all have started, so no thread runs two of them:
  // every thread of the pool runs exactly one.
  std::latch started(static_cast<std::ptrdiff_t>(threads));
  std::vector<std::future<int>> errors;
  for (std::size_t i = 0; i < threads; ++i) {
    errors.push_back(boost::asio::post(pool, boost::asio::use_future([&started, nice] {
      started.arrive_and_wait();
      // PRIO_PROCESS with a thread id: on Linux, that thread alone.
      return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) == 0 ? 0 : errno;
    })));
  }
  for (auto& e : errors)
    if (const int error = e.get(); error != 0)
      throw std::system_error(error, std::generic_category(), "setpriority of a db thread");
}

}  // namespace cache_server
