// SPDX-License-Identifier: BSL-1.0
// Counts heap allocations for the allocation tests: the global operator new,
// and aligned_alloc, which Asio's recycling allocator and frame allocator use.
#include "counting_new.hpp"

#include <cstdlib>
#include <stdlib.h>
#include <new>

namespace sftest {
std::atomic<std::size_t> allocations{0};
}

void* operator new(std::size_t n) {
  sftest::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  sftest::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  sftest::allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}
