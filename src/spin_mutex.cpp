// SPDX-License-Identifier: BSL-1.0
#include <singleflight/detail/spin_mutex.hpp>

namespace singleflight::detail {

namespace {

// Tells the core that this is a spin-wait: it saves power and lets a
// sibling hyperthread (maybe the holder) run.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

// How long to spin before sleeping: well beyond a critical section of the
// table or a cache shard (tens of nanoseconds), far below a sleep and
// wake-up (microseconds). Measured on mixed at two threads:
// docs/performance.md.
constexpr int spin_limit = 256;

}  // namespace

void spin_mutex::lock_slow() noexcept {
  for (int i = 0; i < spin_limit; ++i) {
    // Read before writing: spinning on a load keeps the line shared instead
    // of pulling it away from the holder.
    if (state_.load(std::memory_order_relaxed) == unlocked && try_lock()) return;
    cpu_relax();
  }
  // Sleep. Whoever unlocks a contended mutex wakes one sleeper.
  while (state_.exchange(contended, std::memory_order_acquire) != unlocked)
    state_.wait(contended, std::memory_order_relaxed);
}

}  // namespace singleflight::detail
