// SPDX-License-Identifier: BSL-1.0
// The reference model of an AsyncGroup: flights, their waiters and the
// group's counters, as the documented semantics say they must be. Event
// driven: the harness applies what it does synchronously (a callback
// caller's join, a cancellation, forget, destroy) at once, and replays what
// happened while handlers ran (events) in the order it happened.
#ifndef SINGLEFLIGHT_FUZZ_MODEL_HPP
#define SINGLEFLIGHT_FUZZ_MODEL_HPP

#include "records.hpp"

#include <singleflight/stats.hpp>

#include <boost/asio/cancellation_type.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace sffuzz {

using boost::asio::cancellation_type;
using boost::asio::cancellation_type_t;

struct m_flight {
  int id = 0;  // creator caller
  int key = 0;
  int gen = 0;
  bool linked = true;
  bool done = false;
  bool abandoned = false;  // its loader has a cancellation on the way
  bool started = false;
  bool cancel_seen = false;
  std::vector<int> waiters;
};

enum class m_state { spawned, parked, determined, delivered };

struct m_caller {
  m_state state = m_state::spawned;
  int flight = -1;  // parked on, or the result's flight
  observed expect;
  cancellation_type_t pending = cancellation_type::none;  // a coroutine's, before it starts
};

struct model {
  bool keep = false;
  std::size_t max_in_flight = SIZE_MAX;
  int gen = 0;
  singleflight::Stats stats;  // the current group's
  std::map<int, m_flight> flights;
  std::map<std::pair<int, int>, int> table;  // (gen, key) -> flight
  std::vector<m_caller> callers;
  std::map<int, const void*> exception_of;  // flight -> the exception object its callers saw

  std::size_t linked_in_current() const;
  /// Caller c's outcome is known: `o`, from `flight`.
  void determine(int c, observed o, int flight);
  /// Caller c reaches the group: joins, starts a flight or is rejected.
  void join(int c, const caller_rec& r);
  void unlink(m_flight& f);
  /// A parked caller's cancellation reached its waiter.
  void detach(int c);
  /// A cancellation of type `t` reaches caller c (a callback's waiter at
  /// once; a coroutine through its cancellation state).
  void cancel(int c, const caller_rec& r, cancellation_type_t t);
  bool forget(int key);
  /// ~AsyncGroup: parked callers get operation_aborted, unfinished loaders a
  /// cancellation; a new group (generation) takes over.
  void close();
  /// The loader of flight `id` ended so.
  void finish(int id, end_kind k);
};

}  // namespace sffuzz

#endif
