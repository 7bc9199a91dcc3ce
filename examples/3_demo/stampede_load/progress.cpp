// SPDX-License-Identifier: BSL-1.0
#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace stampede_load {

Progress::Progress() : tty_(isatty(STDOUT_FILENO) == 1) {}

void Progress::show(std::chrono::steady_clock::duration elapsed, std::chrono::steady_clock::duration total,
                    std::uint64_t requests, std::uint64_t errors, int open_connections) {
  using seconds = std::chrono::duration<double>;
  const double t = seconds(elapsed).count();
  const std::string line =
      fmt::format("{:5.1f}/{:.1f} s  requests={} errors={} rate={:.0f}/s connections={}", t,
                  seconds(total).count(), requests, errors, t > 0 ? static_cast<double>(requests) / t : 0.0,
                  open_connections);
  if (tty_)
    fmt::print("\r\x1b[K{}", line);  // back to the line's start, erase it, rewrite
  else
    fmt::print("progress: {}\n", line);
  std::fflush(stdout);
  shown_ = true;
}

void Progress::finish() {
  if (tty_ && shown_) fmt::print("\n");
  std::fflush(stdout);
}

}  // namespace stampede_load
