// SPDX-License-Identifier: BSL-1.0
// Allocation counting for the benchmark binary only, per thread (no shared
// cache line on the hot path) and summed on demand:
// - a counting global operator new (the spec's `allocs_per_call`);
// - counting malloc/calloc/realloc/aligned_alloc/posix_memalign/memalign,
//   which forward to glibc's __libc_* functions: every heap allocation,
//   including those Asio makes for coroutine frames and handlers with
//   std::aligned_alloc (its recycling allocator bypasses operator new).
#ifndef SINGLEFLIGHT_BENCH_COUNTING_NEW_HPP
#define SINGLEFLIGHT_BENCH_COUNTING_NEW_HPP

#include <cstdint>

namespace sfbench {

struct alloc_count {
  std::uint64_t allocs = 0;  ///< operator new calls
  std::uint64_t bytes = 0;   ///< bytes asked of operator new
  std::uint64_t heap = 0;    ///< malloc-level allocations (operator new's included)
  std::uint64_t heap_bytes = 0;
};

/// The allocations of every thread so far. Exact once the threads that
/// allocated have been joined (or are idle).
alloc_count allocations() noexcept;

inline alloc_count operator-(alloc_count a, alloc_count b) noexcept {
  return {a.allocs - b.allocs, a.bytes - b.bytes, a.heap - b.heap, a.heap_bytes - b.heap_bytes};
}

}  // namespace sfbench

#endif
