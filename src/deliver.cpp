// SPDX-License-Identifier: BSL-1.0
#include <singleflight/detail/deliver.hpp>

#include <boost/asio/post.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace singleflight::detail {

namespace {

// Small enough that two threads share the tail of a list evenly, large
// enough that claiming one (an atomic increment) costs little per waiter.
constexpr std::size_t chunk_size = 64;

void resume_run(waiter_base* w, std::size_t count) noexcept {
  for (; count > 0 && w != nullptr; --count) {
    waiter_base* next = w->next;  // resuming w may free it
    w->resume(w, false);
    w = next;
  }
}

struct spread_batch {
  std::vector<waiter_base*> chunks;  // each chunk's first waiter
  std::size_t last_count = 0;        // waiters in the last chunk
  std::atomic<std::size_t> next{0};

  void run() noexcept {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < chunks.size();)
      resume_run(chunks[i], i + 1 == chunks.size() ? last_count : chunk_size);
  }
};

}  // namespace

void resume_waiters(group_state& core, waiter_base* head, std::size_t n) noexcept {
  if (n <= core.options().spread_resumption_above || n <= chunk_size) {
    resume_run(head, n);
    return;
  }
  std::shared_ptr<spread_batch> batch;
  try {
    batch = std::make_shared<spread_batch>();
    batch->chunks.reserve(n / chunk_size + 1);
    std::size_t i = 0;
    for (waiter_base* w = head; w != nullptr; w = w->next, ++i)
      if (i % chunk_size == 0) batch->chunks.push_back(w);
    batch->last_count = n - (batch->chunks.size() - 1) * chunk_size;
    boost::asio::post(core.executor(), [batch] { batch->run(); });
  } catch (...) {
    // No memory, or no executor any more: resume them all from here.
    if (!batch || batch->chunks.empty()) {
      resume_run(head, n);
      return;
    }
  }
  batch->run();
}

}  // namespace singleflight::detail
