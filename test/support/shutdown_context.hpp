// SPDX-License-Identifier: BSL-1.0
// An io_context whose shutdown() a test can call while objects that use it
// are still alive: execution_context::shutdown() is protected. After
// shut_down(), every pending handler (a parked caller's too) has been
// destroyed without being invoked; objects that use the context (a group)
// must still be destroyed before the context, as Asio's own I/O objects.
#ifndef SINGLEFLIGHT_TEST_SHUTDOWN_CONTEXT_HPP
#define SINGLEFLIGHT_TEST_SHUTDOWN_CONTEXT_HPP

#include <boost/asio/io_context.hpp>

namespace sftest {

class shutdown_context : public boost::asio::io_context {
 public:
  explicit shutdown_context(int concurrency_hint = 1);
  void shut_down();
};

}  // namespace sftest

#endif
