// SPDX-License-Identifier: BSL-1.0
#include "registry.hpp"

#include <algorithm>

namespace singleflight::detail {

boost::asio::execution_context::id group_service::id;

group_service::group_service(boost::asio::execution_context& ctx)
    : boost::asio::execution_context::service(ctx),
      registry_(std::make_shared<group_registry>()) {}

void group_service::shutdown() { registry_->shut_down(); }

bool group_registry::add(group_state* c) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  cores_.push_back(c);
  return true;
}

void group_registry::remove(group_state* c) noexcept {
  std::lock_guard lock(mutex_);
  std::erase(cores_, c);
}

void group_registry::shut_down() noexcept {
  std::vector<waiter_list> parked;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    for (group_state* c : cores_) parked.push_back(c->shut_down());
    cores_.clear();
  }
  // Destroying a caller's handler destroys its coroutine frames, which runs
  // user destructors: never under our locks.
  for (const waiter_list& list : parked) {
    for (waiter_base* w = list.head; w != nullptr;) {
      waiter_base* next = w->next;
      w->destroy(w);
      w = next;
    }
  }
}

}  // namespace singleflight::detail
