// SPDX-License-Identifier: BSL-1.0
// Handing a finished flight's result to its waiters, and resuming them:
// from the delivering thread, or, for a long list, from every thread of the
// group's executor that is free to help.
#ifndef SINGLEFLIGHT_DETAIL_DELIVER_HPP
#define SINGLEFLIGHT_DETAIL_DELIVER_HPP

#include <singleflight/detail/group_state.hpp>
#include <singleflight/detail/waiter.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <utility>

namespace singleflight::detail {

/// Resumes `n` waiters linked by `next`, spreading a long list over the
/// group executor's threads: the list is cut into chunks that this thread
/// and one posted helper claim in turn, so an idle thread takes what it can
/// and a busy one costs nothing.
void resume_waiters(group_state& core, waiter_base* head, std::size_t n) noexcept;

/// Fills each waiter of `list` with the result (a copy of the value for all
/// but the last, which gets the value itself) and hands it over: back to its
/// initiator if it is still in its initiating call, else resumed.
template <class Value>
void deliver_to(group_state& core, const waiter_list& list, const std::exception_ptr& error,
                std::optional<Value>& value) noexcept {
  const bool shared = list.count > 1;
  // Two passes when a canceller may race with us (mark all, then let any
  // detach() in progress finish before the first resumption frees a node),
  // or to spread the resumptions.
  const bool two_pass = list.cancellable || list.count > core.options().spread_resumption_above;
  waiter_base* resume_head = nullptr;
  waiter_base* resume_tail = nullptr;
  std::size_t n = 0;
  for (waiter_base* w = list.head; w != nullptr;) {
    waiter_base* next = w->next;  // handing w over may free it
    auto& rw = static_cast<result_waiter<Value>&>(*w);
    rw.shared = shared;
    if (error) {
      rw.error = error;
    } else if (next == nullptr) {
      rw.value.emplace(std::move(*value));
    } else {
      try {
        rw.value.emplace(*value);
      } catch (...) {
        rw.error = std::current_exception();
      }
    }
    if (!two_pass) {
      w->hand_over(false);
    } else {
      waiter_state s = waiter_state::initiating;
      if (!w->state.compare_exchange_strong(s, waiter_state::ready, std::memory_order_acq_rel)) {
        w->state.store(waiter_state::completing, std::memory_order_release);
        w->next = nullptr;
        if (resume_tail != nullptr)
          resume_tail->next = w;
        else
          resume_head = w;
        resume_tail = w;
        ++n;
      }
    }
    w = next;
  }
  if (!two_pass) return;
  if (list.cancellable) core.table().sync(list);
  resume_waiters(core, resume_head, n);
}

}  // namespace singleflight::detail

#endif
