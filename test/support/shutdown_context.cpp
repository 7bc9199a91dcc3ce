// SPDX-License-Identifier: BSL-1.0
#include "shutdown_context.hpp"

namespace sftest {

shutdown_context::shutdown_context(int concurrency_hint) : boost::asio::io_context(concurrency_hint) {}

void shutdown_context::shut_down() { shutdown(); }

}  // namespace sftest
