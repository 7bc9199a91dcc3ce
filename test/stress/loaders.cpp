// SPDX-License-Identifier: BSL-1.0
#include "loaders.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>

namespace sfstress {

using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;

loader_scope::loader_scope(round_state& s, int key, std::uint64_t forget_snapshot, asio::cancellation_state cs,
                           int caller, loader_mode mode)
    : s_(s), key_(key), cs_(cs), serial(++s.next_serial) {
  ++s_.loaders_started;
  std::lock_guard lock(s_.mu);
  // A flight is created under the group's lock but its loader is spawned
  // after the lock is released, so with a forget in between the newer
  // flight's loader may start first: either of the two may be the one that
  // was unlinked.
  const std::uint64_t begun = s_.forget_begun[static_cast<std::size_t>(key)].load();
  const bool self_unlinked = begun > forget_snapshot || cs.cancelled() != cancellation_type::none;
  for (const auto& other : s_.active[static_cast<std::size_t>(key)]) {
    const bool other_unlinked = begun > other.forget_snapshot || other.cs.cancelled() != cancellation_type::none;
    if (!self_unlinked && !other_unlinked)
      s_.fail(
          "two loaders at once for {}: loader {} (caller {}, mode {}) started while loader {} (caller {}, mode {}) "
          "runs, and neither was forgotten (forgets begun {}, snapshots {} and {}) nor cancelled",
          s_.key_name(key), serial, caller, static_cast<int>(mode), other.serial, other.caller,
          static_cast<int>(other.mode), begun, forget_snapshot, other.forget_snapshot);
  }
  s_.active[static_cast<std::size_t>(key)].push_back({serial, cs, forget_snapshot, caller, mode});
}

loader_scope::~loader_scope() {
  const bool saw_cancel = !elsewhere_ && cs_.cancelled() != cancellation_type::none;
  {
    std::lock_guard lock(s_.mu);
    auto& list = s_.active[static_cast<std::size_t>(key_)];
    std::erase_if(list, [&](const auto& a) { return a.serial == serial; });
    s_.results[serial] = loader_result{key_, returned_, saw_cancel};
  }
  if (!returned_) ++s_.loaders_threw;
  if (saw_cancel) ++s_.loaders_saw_cancel;
  if (!returned_ && saw_cancel) ++s_.loaders_threw_cancelled;
  ++s_.loaders_ended;
}

Value make_value(int key, std::uint64_t serial) {
  return fmt::format("{}|{}|a value long enough to live on the heap", key, serial);
}

bool parse_value(const Value& v, int& key, std::uint64_t& serial) {
  unsigned long long s = 0;
  return std::sscanf(v.c_str(), "%d|%llu|", &key, &s) == 2 && (serial = s, true);
}

namespace {
awaitable<void> nested_throw(int key, std::uint64_t serial, int depth) {
  if (depth == 0) throw stress_error(key, serial, false);
  auto ex = co_await asio::this_coro::executor;
  if (depth % 2 == 1) {
    co_await asio::post(ex, use_awaitable);
  } else {
    asio::steady_timer t(ex, std::chrono::microseconds(50 * depth));
    co_await t.async_wait(use_awaitable);
  }
  auto inner = nested_throw(key, serial, depth - 1);
  co_await std::move(inner);
}
}  // namespace

awaitable<Value> run_loader(round_state* s, int key, loader_mode mode, int param, std::uint64_t snapshot,
                            int caller) {
  auto cs = co_await asio::this_coro::cancellation_state;
  loader_scope scope(*s, key, snapshot, cs, caller, mode);
  auto ex = co_await asio::this_coro::executor;
  switch (mode) {
    case loader_mode::value_now:
      break;
    case loader_mode::value_later: {
      asio::steady_timer t(ex, std::chrono::microseconds(param));
      co_await t.async_wait(use_awaitable);
      break;
    }
    case loader_mode::throw_now:
      throw stress_error(key, scope.serial, false);
    case loader_mode::throw_deep: {
      auto deep = nested_throw(key, scope.serial, param);
      co_await std::move(deep);
      break;
    }
    case loader_mode::hop: {
      // Through the pool and back to the group's strand.
      auto pool_ex = s->pool.get_executor();
      for (int i = 0; i < param; ++i) co_await asio::post(pool_ex, use_awaitable);
      if (param == 3) throw stress_error(key, scope.serial, false);
      break;
    }
    case loader_mode::hang:
      // Never finishes unless cancelled (each wait is cancellable), or the
      // round ends and kills it.
      for (;;) {
        if (s->kill.load()) throw stress_error(key, scope.serial, true);
        asio::steady_timer t(ex, 2ms);
        co_await t.async_wait(use_awaitable);
      }
    case loader_mode::stubborn: {
      // Ignores cancellation for a while, then returns.
      co_await asio::this_coro::throw_if_cancelled(false);
      asio::steady_timer t(ex, std::chrono::microseconds(param));
      co_await t.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
      break;
    }
    case loader_mode::elsewhere: {
      // Finishes on a pool thread: the group delivers from there.
      auto pool_ex = s->pool.get_executor();
      co_await asio::post(asio::bind_executor(pool_ex, use_awaitable));
      scope.left_the_strand();
      break;
    }
    case loader_mode::pin: {
      // Ignores cancellation until the round releases it: keeps the group's
      // core alive after the group is destroyed.
      co_await asio::this_coro::throw_if_cancelled(false);
      while (!s->pin_release.load()) {
        asio::steady_timer t(ex, 1ms);
        co_await t.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
      }
      break;
    }
  }
  Value v = make_value(key, scope.serial);
  scope.returned();
  co_return v;
}

}  // namespace sfstress
