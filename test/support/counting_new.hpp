// SPDX-License-Identifier: BSL-1.0
// The number of global operator new calls so far (see counting_new.cpp).
#ifndef SINGLEFLIGHT_TEST_COUNTING_NEW_HPP
#define SINGLEFLIGHT_TEST_COUNTING_NEW_HPP

#include <atomic>
#include <cstddef>

namespace sftest {
extern std::atomic<std::size_t> allocations;
}

#endif
