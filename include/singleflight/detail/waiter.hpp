// SPDX-License-Identifier: BSL-1.0
// A caller waiting for a flight: the type-erased node that the core links
// into a flight's waiter list. The node lives in the caller's operation state
// (the do_ coroutine frame, or memory from the handler's associated
// allocator).
#ifndef SINGLEFLIGHT_DETAIL_WAITER_HPP
#define SINGLEFLIGHT_DETAIL_WAITER_HPP

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>

namespace singleflight::detail {

class group_state;
class flight_node;

/// A waiter's life, in order (each arrow is taken once):
///
///   initiating -> parked -> completing     the usual path
///   initiating -> ready                    the result (or an abort) arrived
///                                          while the caller was still in its
///                                          initiating call: the initiator
///                                          completes it, never the deliverer
///
/// `initiating -> ready` and `initiating -> parked` race (deliverer or
/// canceller against the initiator): both are one compare-exchange, and the
/// loser of `initiating -> parked` finds `ready` and posts the completion.
enum class waiter_state : std::uint8_t {
  initiating,  // linked; its caller is still inside join()
  parked,      // linked; its caller has suspended; a canceller may detach it
  ready,       // unlinked with its result, for the initiator to complete
  completing   // unlinked; its result is on the way to the caller
};

struct waiter_base {
  // Hands the result to the caller, through its associated executor:
  // dispatch, or post when `force_post` (never complete inline from a
  // cancellation handler, a destructor or an initiating function).
  using resume_fn = void (*)(waiter_base*, bool force_post);
  // Destroys the caller's handler without invoking it (context shutdown).
  using destroy_fn = void (*)(waiter_base*);

  waiter_base(resume_fn r, destroy_fn d) noexcept : resume(r), destroy(d) {}

  waiter_base* prev = nullptr;
  waiter_base* next = nullptr;
  flight_node* flight = nullptr;  // while linked
  // Set while a canceller is connected to the caller's slot: the waiter then
  // holds a reference to its core, so that a cancellation racing with the
  // group's end never reaches a freed core.
  group_state* core = nullptr;
  resume_fn resume;
  destroy_fn destroy;
  std::atomic<waiter_state> state{waiter_state::initiating};
  bool shared = false;
  // The flight table's shard it was admitted to: written once, before it is
  // linked; read by a canceller to find the lock that guards its links.
  static constexpr std::uint8_t no_shard = 0xff;
  std::atomic<std::uint8_t> shard{no_shard};
  std::exception_ptr error;

  /// Hands a waiter that its deliverer or canceller has unlinked to whoever
  /// completes it: back to its initiator if it is still initiating, else
  /// resumed here.
  void hand_over(bool force_post) noexcept {
    waiter_state s = waiter_state::initiating;
    if (state.compare_exchange_strong(s, waiter_state::ready, std::memory_order_acq_rel)) return;
    state.store(waiter_state::completing, std::memory_order_release);
    resume(this, force_post);
  }
};

/// A waiter that can hold the flight's value until its caller resumes.
template <class Value>
struct result_waiter : waiter_base {
  using waiter_base::waiter_base;
  std::optional<Value> value;
};

}  // namespace singleflight::detail

#endif
