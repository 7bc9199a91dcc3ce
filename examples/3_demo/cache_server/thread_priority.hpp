// SPDX-License-Identifier: BSL-1.0
// Lowering the scheduling priority of a thread pool's threads.
#ifndef CACHE_SERVER_THREAD_PRIORITY_HPP
#define CACHE_SERVER_THREAD_PRIORITY_HPP

#include <boost/asio/thread_pool.hpp>

#include <cstddef>

namespace cache_server {

/// Sets the nice value of each of the `threads` threads of `pool` to `nice`
/// (0..19; Linux keeps a nice value per thread). Blocks until every thread has
/// done it; call before the pool has other work. Throws std::system_error.
void set_pool_nice(boost::asio::thread_pool& pool, std::size_t threads, int nice);

}  // namespace cache_server

#endif
