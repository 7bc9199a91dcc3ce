// SPDX-License-Identifier: BSL-1.0
// The progress display of a run.
#ifndef STAMPEDE_LOAD_PROGRESS_HPP
#define STAMPEDE_LOAD_PROGRESS_HPP

#include <chrono>
#include <cstdint>

namespace stampede_load {

/// On a terminal, one line rewritten in place; otherwise (a pipe, a log
/// file) a plain line at most once a second.
class Progress {
 public:
  Progress();

  /// How often show() is worth calling.
  std::chrono::milliseconds period() const { return tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(1); }

  void show(std::chrono::steady_clock::duration elapsed, std::chrono::steady_clock::duration total,
            std::uint64_t requests, std::uint64_t errors, int open_connections);

  /// Ends the in-place line, if any.
  void finish();

 private:
  const bool tty_;
  bool shown_ = false;
};

}  // namespace stampede_load

#endif
