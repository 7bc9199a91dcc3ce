// SPDX-License-Identifier: BSL-1.0
// The benchmark's replacement of every form of global operator new/delete,
// and of glibc's allocation functions. Each thread counts in a slot of its
// own (plain load+store, no locked instruction); threads beyond the fixed
// slots share one, counted with atomic read-modify-writes.
#include "counting_new.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

// glibc's own entry points, to which the interposed functions forward.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace sfbench {
namespace {

enum counter { new_calls, new_bytes, heap_calls, heap_bytes, counters };

struct alignas(64) slot {
  std::atomic<std::uint64_t> v[counters]{};
};

constexpr int private_slots = 63;
slot slots[private_slots + 1];  // the last one is shared
std::atomic<int> next_slot{0};
// Constant-initialised, so reading them needs no TLS guard.
thread_local slot* my_slot = nullptr;
thread_local bool my_slot_shared = false;

inline void count(counter calls, counter bytes, std::size_t n) noexcept {
  slot* s = my_slot;
  if (s == nullptr) {
    const int i = next_slot.fetch_add(1, std::memory_order_relaxed);
    my_slot_shared = i >= private_slots;
    s = my_slot = &slots[my_slot_shared ? private_slots : i];
  }
  if (!my_slot_shared) {
    s->v[calls].store(s->v[calls].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    s->v[bytes].store(s->v[bytes].load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  } else {
    s->v[calls].fetch_add(1, std::memory_order_relaxed);
    s->v[bytes].fetch_add(n, std::memory_order_relaxed);
  }
}

void* allocate(std::size_t n) {
  count(new_calls, new_bytes, n);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void* allocate(std::size_t n, std::align_val_t al) {
  count(new_calls, new_bytes, n);
  const auto a = static_cast<std::size_t>(al);
  const std::size_t rounded = ((n == 0 ? 1 : n) + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded)) return p;
  throw std::bad_alloc();
}

}  // namespace

alloc_count allocations() noexcept {
  alloc_count total;
  for (const slot& s : slots) {
    total.allocs += s.v[new_calls].load(std::memory_order_relaxed);
    total.bytes += s.v[new_bytes].load(std::memory_order_relaxed);
    total.heap += s.v[heap_calls].load(std::memory_order_relaxed);
    total.heap_bytes += s.v[heap_bytes].load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace sfbench

// --- glibc's allocation functions ---------------------------------------------

extern "C" {

void* malloc(std::size_t n) {
  sfbench::count(sfbench::heap_calls, sfbench::heap_bytes, n);
  return __libc_malloc(n);
}

void* calloc(std::size_t k, std::size_t n) {
  sfbench::count(sfbench::heap_calls, sfbench::heap_bytes, k * n);
  return __libc_calloc(k, n);
}

void* realloc(void* p, std::size_t n) {
  sfbench::count(sfbench::heap_calls, sfbench::heap_bytes, n);
  return __libc_realloc(p, n);
}

void free(void* p) { __libc_free(p); }

void* memalign(std::size_t a, std::size_t n) {
  sfbench::count(sfbench::heap_calls, sfbench::heap_bytes, n);
  return __libc_memalign(a, n);
}

void* aligned_alloc(std::size_t a, std::size_t n) { return memalign(a, n); }

int posix_memalign(void** out, std::size_t a, std::size_t n) {
  if (a < sizeof(void*) || (a & (a - 1)) != 0) return EINVAL;
  void* p = memalign(a, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(std::size_t n) { return memalign(static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), n); }

void* pvalloc(std::size_t n) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return memalign(page, (n + page - 1) / page * page);
}

}  // extern "C"

// --- operator new and delete --------------------------------------------------

void* operator new(std::size_t n) { return sfbench::allocate(n); }
void* operator new[](std::size_t n) { return sfbench::allocate(n); }
void* operator new(std::size_t n, std::align_val_t a) { return sfbench::allocate(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return sfbench::allocate(n, a); }

void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return sfbench::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return sfbench::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return sfbench::allocate(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return sfbench::allocate(n, a);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
