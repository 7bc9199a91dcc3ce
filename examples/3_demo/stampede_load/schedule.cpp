// SPDX-License-Identifier: BSL-1.0
#include "schedule.hpp"

namespace stampede_load {

namespace {
using nanoseconds = std::chrono::nanoseconds;
constexpr std::uint64_t ns_per_s = 1'000'000'000;
}  // namespace

Schedule::Schedule(clock::time_point start, clock::duration length, std::uint32_t rate)
    : start_(start), rate_(rate) {
  // The requests due strictly before start + length: ceil(length × rate).
  const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<nanoseconds>(length).count());
  total_ = (ns / ns_per_s) * rate + ((ns % ns_per_s) * rate + ns_per_s - 1) / ns_per_s;
}

std::optional<Schedule::Request> Schedule::take() {
  if (next_ == total_) return std::nullopt;
  const std::uint64_t i = next_++;
  return Request{i, due(i)};
}

Schedule::clock::time_point Schedule::due(std::uint64_t index) const {
  // Whole seconds and the remainder apart: index × 10^9 overflows for long runs.
  const std::uint64_t ns = (index / rate_) * ns_per_s + (index % rate_) * ns_per_s / rate_;
  return start_ + std::chrono::duration_cast<clock::duration>(nanoseconds(ns));
}

}  // namespace stampede_load
