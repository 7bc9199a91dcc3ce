// SPDX-License-Identifier: BSL-1.0
#include "caller_probes.hpp"

#include <utility>

namespace sftest {

frame_canary::frame_canary(caller_counts& counts) : counts_(&counts) { ++counts_->frames_created; }

frame_canary::~frame_canary() {
  magic_ = kDead;
  ++counts_->frames_destroyed;
}

bool frame_canary::alive() const { return magic_ == kAlive; }

handler_guard::handler_guard(caller_counts& counts) : counts_(&counts) {}

handler_guard::handler_guard(handler_guard&& other) noexcept
    : counts_(std::exchange(other.counts_, nullptr)), fired_(other.fired_) {}

handler_guard::~handler_guard() {
  if (counts_ != nullptr && !fired_) ++counts_->handler_destroyed;
}

void handler_guard::fire() {
  fired_ = true;
  ++counts_->handler_calls;
}

}  // namespace sftest
