// SPDX-License-Identifier: BSL-1.0
// The open-loop schedule: when each request of a run at a fixed rate is due.
#ifndef STAMPEDE_LOAD_SCHEDULE_HPP
#define STAMPEDE_LOAD_SCHEDULE_HPP

#include <chrono>
#include <cstdint>
#include <optional>

namespace stampede_load {

/// Request i is due at start + i / rate, for every i due before start +
/// length. Connections take the requests in order, each the earliest one
/// nobody has taken, so a free connection always sends the most overdue one.
/// Not thread-safe: the load runs on one thread.
class Schedule {
 public:
  using clock = std::chrono::steady_clock;

  struct Request {
    std::uint64_t index;
    clock::time_point due;
  };

  Schedule(clock::time_point start, clock::duration length, std::uint32_t rate);

  /// The earliest request not taken yet; nullopt once every one is taken.
  std::optional<Request> take();

  /// Requests of the run nobody has taken (yet).
  std::uint64_t untaken() const { return total_ - next_; }

  /// rate × length: the requests of the run.
  std::uint64_t total() const { return total_; }

 private:
  clock::time_point due(std::uint64_t index) const;

  clock::time_point start_;
  std::uint32_t rate_;
  std::uint64_t total_;
  std::uint64_t next_ = 0;
};

}  // namespace stampede_load

#endif
