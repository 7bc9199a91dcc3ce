// SPDX-License-Identifier: BSL-1.0
// Probes that a caller's coroutine frame and completion handler carry, so
// that a test can tell how often each was created, invoked and destroyed:
// every caller must complete exactly once, or (only when its context is shut
// down) be destroyed without completing, and never resume in a dead frame.
#ifndef SINGLEFLIGHT_TEST_CALLER_PROBES_HPP
#define SINGLEFLIGHT_TEST_CALLER_PROBES_HPP

#include <boost/asio/cancellation_type.hpp>

#include <atomic>
#include <cstdint>

namespace sftest {

/// What the probes of one caller counted. Atomic: a caller's handler may run
/// on any thread of its context; read the counts once the threads are joined.
struct caller_counts {
  std::atomic<int> handler_calls{0};      ///< completion handler invocations
  std::atomic<int> handler_destroyed{0};  ///< handlers destroyed without being invoked
  std::atomic<int> frames_created{0};
  std::atomic<int> frames_destroyed{0};
};

/// Lives in a caller's coroutine frame: counts the frame's creation and
/// destruction, and tells whether the frame is still alive when the caller
/// resumes (ASan reports the access to a dead frame; without ASan the magic
/// number usually tells).
class frame_canary {
 public:
  explicit frame_canary(caller_counts& counts);
  frame_canary(const frame_canary&) = delete;
  frame_canary& operator=(const frame_canary&) = delete;
  ~frame_canary();

  bool alive() const;

 private:
  static constexpr std::uint32_t kAlive = 0x5F1A11E5u, kDead = 0xDEADDEADu;
  volatile std::uint32_t magic_ = kAlive;
  caller_counts* counts_;
};

/// Held by a completion handler (moves with it): counts its invocations, and
/// its destruction without one (a shutdown destroys pending handlers). A
/// second invocation is counted too, so a test sees handler_calls == 2.
class handler_guard {
 public:
  explicit handler_guard(caller_counts& counts);
  handler_guard(handler_guard&& other) noexcept;
  handler_guard& operator=(handler_guard&&) = delete;
  ~handler_guard();

  /// Call at the start of the handler's invocation.
  void fire();

 private:
  caller_counts* counts_;
  bool fired_ = false;
};

/// A cancellation filter that passes every type (terminal, partial, total),
/// for `this_coro::reset_cancellation_state`; co_spawn's default passes
/// terminal only.
struct pass_all {
  boost::asio::cancellation_type_t operator()(boost::asio::cancellation_type_t t) const noexcept { return t; }
};

}  // namespace sftest

#endif
