// A caller parked on a flight: the type-erased node that the core links into a
// flight's waiter list. The node lives in the caller's operation state (the
// do_ coroutine frame, or memory from the handler's associated allocator).
#ifndef SINGLEFLIGHT_DETAIL_WAITER_HPP
#define SINGLEFLIGHT_DETAIL_WAITER_HPP

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>

namespace singleflight::detail {

class core_base;
class flight_base;

enum class waiter_state : std::uint8_t {
  parked,     // linked into a flight; cancellation may detach it
  completing  // unlinked; its result is on the way to the caller
};

struct waiter_base {
  // Hands the result to the caller, through its associated executor:
  // dispatch, or post when `force_post` (never complete inline from a
  // cancellation handler or a destructor).
  using resume_fn = void (*)(waiter_base*, bool force_post);
  // Destroys the caller's handler without invoking it (context shutdown).
  using destroy_fn = void (*)(waiter_base*);

  waiter_base(core_base* c, resume_fn r, destroy_fn d) noexcept
      : core(c), resume(r), destroy(d) {}

  waiter_base* prev = nullptr;
  waiter_base* next = nullptr;
  flight_base* flight = nullptr;  // while parked
  core_base* core;
  resume_fn resume;
  destroy_fn destroy;
  std::atomic<waiter_state> state{waiter_state::parked};
  bool shared = false;
  std::exception_ptr error;
};

/// A waiter that can hold the flight's value until its caller resumes.
template <class Value>
struct result_waiter : waiter_base {
  using waiter_base::waiter_base;
  std::optional<Value> value;
};

}  // namespace singleflight::detail

#endif
