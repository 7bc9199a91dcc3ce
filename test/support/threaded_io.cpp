// SPDX-License-Identifier: BSL-1.0
#include "threaded_io.hpp"

namespace sftest {

threaded_io::threaded_io(int n) {
  for (int i = 0; i < n; ++i) threads.emplace_back([this] { ioc.run(); });
}

threaded_io::~threaded_io() {
  work.reset();
  for (auto& t : threads) t.join();
}

}  // namespace sftest
