// SPDX-License-Identifier: BSL-1.0
// Drives an AsyncGroup with the operations of one input, on two io_contexts
// stepped by hand on one thread, and checks every outcome against the model.
// One thread makes each interleaving exact, but not each run alike: the
// group spreads loaders over strands by its randomly keyed hash, so loaders
// of different keys may start in another order in another run of the same
// input; the model follows the logged events, not a fixed order. The group's context holds its executor
// and strand (loaders run there); the callers' context is where some callers
// are spawned or bound, so completions interleave across executors.
//
// What happens while handlers run (a coroutine caller reaching the group, a
// loader starting, being cancelled, ending, a caller completing) is logged
// as events in the order it happens and replayed into the model. After every
// operation the group's stats() and in_flight() must equal the model's; when
// both contexts are idle, nothing may be pending.
#ifndef SINGLEFLIGHT_FUZZ_HARNESS_HPP
#define SINGLEFLIGHT_FUZZ_HARNESS_HPP

#include "decoder.hpp"
#include "model.hpp"
#include "records.hpp"
#include "support/caller_probes.hpp"
#include "support/shutdown_context.hpp"

#include <singleflight/async_group.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sffuzz {

using Group = singleflight::AsyncGroup<std::string, int>;

/// A gated loader's wait: the input finishes it, or its cancellation does.
struct gate {
  int flight = 0;
  bool waiting = false;
  bool fail = false;
  std::function<void(boost::system::error_code)> complete;  // posts the loader's resumption
};

class harness {
 public:
  /// Runs one input to its end; aborts on the first mismatch.
  void run(const std::uint8_t* data, std::size_t size);

 private:
  // Loaders.
  boost::asio::awaitable<void> wait_gate(std::shared_ptr<gate> g);
  boost::asio::awaitable<int> run_loader(int flight, loader_mode mode);
  /// The loader of caller r's flight, should it start one.
  auto make_loader(const caller_rec* r) {
    const int flight = r->id;
    const loader_mode mode = r->lmode;
    return [this, flight, mode]() -> boost::asio::awaitable<int> {
      if (mode == loader_mode::throw_early) {  // throws instead of returning its awaitable
        log(ev::loader_start, flight);
        log(ev::loader_end, flight, static_cast<int>(end_kind::thrown));
        throw fuzz_error(flight);
      }
      return run_loader(flight, mode);
    };
  }

  // Callers.
  static observed observe(std::exception_ptr e);
  boost::asio::awaitable<void> coro_caller(caller_rec* r);
  struct coro_done;
  struct callback_done;
  void start(caller_rec* r);

  // The operations.
  void apply(const op& o, std::size_t index, const singleflight::Options& opts);
  void start_caller(const caller_spec& spec, std::size_t index);
  void cancel(int c, boost::asio::cancellation_type_t t, std::size_t index);
  void finish_loader(unsigned choice, bool fail, std::size_t index);
  void forget(int k, bool by_view, std::size_t index);

  // Events.
  void log(ev type, int caller, int arg = 0) { events.push_back({type, caller, arg}); }
  void replay_events();
  void apply_event(const event& e);
  void caller_completed(int c);

  // Checks.
  void check_stats();
  void check_quiescent();

  // Running and ending.
  sftest::shutdown_context& context(bool callers_ctx) { return callers_ctx ? *caller_ctx : *group_ctx; }
  void run_idle();
  void end_by_draining();
  void end_by_shutdown(bool callers_first);
  void teardown();

  std::string key_name(int k) const { return "key-" + std::to_string(k); }

  // Declared first, destroyed last: frames that the contexts destroy refer
  // to the records and the event log.
  std::vector<std::unique_ptr<caller_rec>> callers;
  std::vector<event> events;
  std::vector<std::shared_ptr<gate>> gates;  // in loader start order
  model m;
  std::optional<sftest::shutdown_context> group_ctx, caller_ctx;
  std::unique_ptr<Group> group;
  int gen = 0;
};

}  // namespace sffuzz

#endif
