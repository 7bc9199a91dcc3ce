// SPDX-License-Identifier: BSL-1.0
// A mutex for critical sections of a few dozen instructions that several
// threads take at once (the flight table, the cache's shards).
#ifndef SINGLEFLIGHT_DETAIL_SPIN_MUTEX_HPP
#define SINGLEFLIGHT_DETAIL_SPIN_MUTEX_HPP

#include <atomic>
#include <cstdint>

#if defined(__GLIBC__) && __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define SINGLEFLIGHT_DETAIL_HAS_SINGLE_THREADED 1
#endif

namespace singleflight::detail {

/// Spins while its holder is about to leave, and sleeps only when that takes
/// long. A glibc std::mutex sleeps in the kernel at the first contention;
/// when the holder leaves a few dozen nanoseconds later, the sleeper costs a
/// wake-up system call and tens of microseconds of latency, which with two
/// threads on one flight table was most of the time (docs/performance.md).
///
/// States (Drepper, "Futexes Are Tricky", mutex 3): `unlocked`; `locked`, no
/// one sleeps; `contended`, someone may sleep, so unlock() wakes one. A
/// sleeper that wakes takes the lock as `contended`: it cannot know whether
/// others still sleep.
///
/// In a process with one thread (glibc's `__libc_single_threaded`) it takes
/// and leaves the lock without atomic read-modify-writes, as glibc's own
/// mutexes do: nothing can race, and a new thread sees the lock's state
/// through pthread_create's synchronization.
///
/// Meets Lockable; not recursive; no fairness.
class spin_mutex {
 public:
  spin_mutex() noexcept = default;
  spin_mutex(const spin_mutex&) = delete;
  spin_mutex& operator=(const spin_mutex&) = delete;

  bool try_lock() noexcept {
    if (single_threaded()) {
      if (state_.load(std::memory_order_relaxed) != unlocked) return false;
      state_.store(locked, std::memory_order_relaxed);
      return true;
    }
    std::uint32_t expected = unlocked;
    return state_.compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void lock() noexcept {
    if (!try_lock()) lock_slow();
  }

  void unlock() noexcept {
    if (single_threaded()) {
      state_.store(unlocked, std::memory_order_relaxed);  // no other thread: no sleeper
      return;
    }
    if (state_.exchange(unlocked, std::memory_order_release) == contended) state_.notify_one();
  }

 private:
  enum : std::uint32_t { unlocked, locked, contended };

  static bool single_threaded() noexcept {
#ifdef SINGLEFLIGHT_DETAIL_HAS_SINGLE_THREADED
    return __libc_single_threaded != 0;
#else
    return false;
#endif
  }

  void lock_slow() noexcept;  // spins, then sleeps (src/spin_mutex.cpp)

  std::atomic<std::uint32_t> state_{unlocked};
};

}  // namespace singleflight::detail

#endif
