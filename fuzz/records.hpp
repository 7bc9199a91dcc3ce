// SPDX-License-Identifier: BSL-1.0
// What the harness and the model share: a caller's description and what it
// observed, and the events that the harness logs while handlers run.
#ifndef SINGLEFLIGHT_FUZZ_RECORDS_HPP
#define SINGLEFLIGHT_FUZZ_RECORDS_HPP

#include "support/caller_probes.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <memory>
#include <stdexcept>

namespace sffuzz {

constexpr int kKeys = 4;
constexpr std::size_t kMaxCallers = 48;
constexpr std::size_t kMaxOps = 400;

/// What a loader throws: the id of the caller that started its flight.
struct fuzz_error : std::runtime_error {
  explicit fuzz_error(int f) : std::runtime_error("loader failed"), flight(f) {}
  int flight;
};

enum class form { callback, do_, do_shared };
/// gated: the input finishes it later; the others end at once, or throw
/// instead of returning their awaitable (throw_early).
enum class loader_mode { gated, value_now, throw_now, throw_early };
enum class outcome { none, value, loader_error, aborted, too_many, no_group, other };

const char* name(outcome o);

struct observed {
  outcome kind = outcome::none;
  int value = -1;  // the value, or the fuzz_error's flight
  bool shared = false;
  const void* exception = nullptr;
};

/// A caller as the input describes it, and what its probes counted.
struct caller_rec : sftest::caller_counts {
  int id = 0;
  int key = 0;
  int gen = 0;  // the group it was started on
  form f = form::callback;
  bool on_caller_ctx = false;
  bool reset_filter = false;
  loader_mode lmode = loader_mode::gated;
  std::unique_ptr<boost::asio::cancellation_signal> signal;
  observed obs;  // written just before the completion event
};

enum class ev { attempt, cancel, loader_start, loader_cancel, loader_end, done };
enum class end_kind { value, thrown, aborted };

struct event {
  ev type;
  int caller;  // the caller, or the flight (its creator) for loader events
  int arg = 0;
};

}  // namespace sffuzz

#endif
