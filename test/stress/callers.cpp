// SPDX-License-Identifier: BSL-1.0
#include "callers.hpp"

#include "loaders.hpp"
#include "support/timed_caller.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <memory>
#include <string>

namespace sfstress {

using asio::awaitable;

void record_exception(round_state* s, caller_rec* r, std::exception_ptr e) {
  // Callers on different threads share one exception object. libstdc++
  // counts its references inside (uninstrumented) libsupc++, so TSan would
  // see the last caller's free race with another caller's read; keeping a
  // reference until the round's threads are joined makes every free happen
  // after them.
  {
    std::lock_guard lock(s->kept_mu);
    s->kept_exceptions.push_back(e);
  }
  try {
    std::rethrow_exception(e);
  } catch (const stress_error& err) {
    r->result = outcome::loader_error;
    r->serial = err.serial;
    r->exception_address = &err;
    if (err.key != r->key) s->fail("caller {} of key {} got the exception of key {}", r->id, r->key, err.key);
  } catch (const boost::system::system_error& err) {
    if (err.code() == asio::error::operation_aborted) {
      r->result = outcome::aborted;
    } else if (err.code() == sf::make_error_code(sf::errc::too_many_flights)) {
      r->result = outcome::too_many;
    } else {
      r->result = outcome::unexpected;
      r->detail = err.what();
    }
  } catch (const std::exception& err) {
    r->result = outcome::unexpected;
    r->detail = err.what();
  } catch (...) {
    r->result = outcome::unexpected;
    r->detail = "unknown exception";
  }
}

void record_value(round_state* s, caller_rec* r, const Value& v) {
  int key = -1;
  std::uint64_t serial = 0;
  if (!parse_value(v, key, serial)) {
    r->result = outcome::unexpected;
    r->detail = "malformed value: " + v;
    return;
  }
  r->result = outcome::value;
  r->serial = serial;
  if (key != r->key) s->fail("caller {} of key {} got the value of key {}", r->id, r->key, key);
}

namespace {

awaitable<void> attempt(round_state* s, caller_rec* r) {
  sftest::frame_canary canary(*r);
  const std::string key = s->key_name(r->key);
  auto loader = make_loader(s, r->key, r->lmode, r->lparam, r->id);
  auto cs = co_await asio::this_coro::cancellation_state;
  // A coroutine cancelled before it awaits do_ throws without calling the
  // group; otherwise the group sees the call.
  r->reached = cs.cancelled() == cancellation_type::none;
  r->initiated = true;
  ++s->initiated;
  try {
    if (r->mode == caller_mode::shared) {
      auto op = s->group->do_shared(key, loader);
      sf::Shared<Value> got = co_await std::move(op);
      record_value(s, r, got.value);
      r->shared = got.shared;
    } else {
      auto op = s->group->do_(key, loader);
      Value got = co_await std::move(op);
      record_value(s, r, got);
    }
  } catch (...) {
    record_exception(s, r, std::current_exception());
  }
  if (!canary.alive()) s->fail("caller {} resumed in a destroyed frame", r->id);
  ++r->resumes;
}

awaitable<void> caller(round_state* s, caller_rec* r) {
  if (r->reset_filter) co_await asio::this_coro::reset_cancellation_state(sftest::pass_all{});
  if (r->mode == caller_mode::timeout) {
    auto race = sftest::timer_wins(attempt(s, r), r->timeout);
    if (co_await std::move(race)) r->timed_out = true;
  } else {
    auto a = attempt(s, r);
    co_await std::move(a);
  }
}

struct caller_done {
  round_state* s;
  caller_rec* r;
  sftest::handler_guard guard;
  void operator()(std::exception_ptr e) {
    guard.fire();
    if (e) s->fail("caller {}: the coroutine itself threw", r->id);
    ++s->completed;
  }
};

struct callback_done {
  round_state* s;
  caller_rec* r;
  sftest::handler_guard guard;
  void operator()(std::exception_ptr e, Value v) {
    guard.fire();
    if (e)
      record_exception(s, r, e);
    else
      record_value(s, r, v);
    ++s->completed;
  }
};

}  // namespace

void start_caller(round_state& s, caller_rec* r, const caller_strand& strand) {
  r->signal = std::make_shared<asio::cancellation_signal>();
  if (r->mode == caller_mode::callback) {
    // The guard travels with the dispatched function: a shutdown may
    // destroy it before it runs.
    asio::dispatch(strand, [&s, r, strand, guard = sftest::handler_guard(*r)]() mutable {
      const std::string key = s.key_name(r->key);
      auto loader = make_loader(&s, r->key, r->lmode, r->lparam, r->id);
      r->reached = true;
      r->initiated = true;
      ++s.initiated;
      s.group->async_do(
          key, loader,
          asio::bind_cancellation_slot(r->signal->slot(),
                                       asio::bind_executor(strand, callback_done{&s, r, std::move(guard)})));
    });
  } else {
    asio::co_spawn(strand, caller(&s, r),
                   asio::bind_cancellation_slot(r->signal->slot(), caller_done{&s, r, sftest::handler_guard(*r)}));
  }
  if (r->cancel_planned) {
    auto t = std::make_shared<asio::steady_timer>(strand, r->cancel_after);
    t->async_wait([t, r](boost::system::error_code) {
      r->cancel_emitted = true;
      r->signal->emit(r->cancel_type);
    });
  }
}

}  // namespace sfstress
